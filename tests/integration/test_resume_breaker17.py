"""Breaker b17a: hostile servers and hostile journals against a resume's first request.

An interrupted download leaves its temp file and journal (the first answer breaks off after
``DONE`` parts, every later request gets a 503); the resume's first request (the first
missing bytes, pinned) is then answered by a script, and every later request by the honest
store. Whatever the answer, the published file is the server's exact bytes, or a typed
error leaves nothing at the final path.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from pixop_async import RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c
from tests.servers import serve

from .download_helpers import KiB, config, http
from .integrity_server import Store
from .test_download_kill import CHILD
from .test_resume_first_request import _get, _interrupt

__all__ = ["http"]

PART = 64 * KiB
DATA = os.urandom(8 * PART - 1000)
DONE = 4
NO_RETRY = RetryPolicy(max_attempts=1)
START = DONE * PART
END = len(DATA) - 1

Script = Callable[[web.Request, Store], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def scripted(data: bytes, **knobs: Any) -> AsyncIterator[tuple[Store, list[Script]]]:
    """The honest store, except that queued scripts answer the next requests."""
    state = Store(data, **knobs)
    queue: list[Script] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        if queue:
            state.seen.append(dict(request.headers))
            state.sent.append(0)
            return await queue.pop(0)(request, state)
        return await state.handle(request)

    app = web.Application()
    app.router.add_route("GET", "/o/{name}", handle)
    async with serve(app) as root:
        state.url = root + "/o/clip.mp4"
        yield state, queue


def _ranges(server: Store) -> list[str]:
    return [h.get("Range", "") for h in server.seen]


def _answer(
    status: int,
    body: bytes,
    headers: dict[str, str],
    *,
    length: int | None = None,
    cut: int | None = None,
) -> Script:
    """A script sending ``body`` (``length`` declared; ``cut``: close after that many bytes)."""

    async def script(request: web.Request, state: Store) -> web.StreamResponse:
        declared = len(body) if length is None else length
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = declared
        await response.prepare(request)
        sent = body if cut is None else body[:cut]
        await response.write(sent)
        if cut is not None or declared != len(body):
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response

    return script


def _partial(start: int, end: int, total: str, etag: str | None = '"v1"', **kw: Any) -> Script:
    headers = {"Content-Range": f"bytes {start}-{end}/{total}"}
    if etag is not None:
        headers["ETag"] = etag
    body = kw.pop("body", DATA[start : end + 1])
    return _answer(206, body, headers, **kw)


def _echo(cut: int) -> Script:
    """The range asked for, of the current version, breaking off after ``cut`` bytes."""

    async def script(request: web.Request, state: Store) -> web.StreamResponse:
        first, _, last = request.headers["Range"][6:].partition("-")
        start, end = int(first), int(last) if last else len(state.data) - 1
        inner = _partial(
            start, end, str(len(state.data)), body=state.data[start : end + 1], cut=cut
        )
        return await inner(request, state)

    return script


def _published_right(dest: Path, result: Any, data: bytes = DATA) -> None:
    assert dest.read_bytes() == data
    assert result.crc32c == crc32c(data)
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]


# -- hostile answers to the resume's first request -------------------------------------

RESTARTS: dict[str, Script] = {
    "shifted": _partial(START + 1, END, str(len(DATA))),
    "shifted-back": _partial(START - 1, END, str(len(DATA))),
    "larger-total": _partial(START, END, str(len(DATA) + 1)),
    "star-total": _partial(START, END, "*"),
    "short-end": _partial(START, END - 1, str(len(DATA))),
    "other-etag": _partial(START, END, str(len(DATA)), etag='"v2"'),
    "no-etag": _partial(START, END, str(len(DATA)), etag=None),
    "weak-etag": _partial(START, END, str(len(DATA)), etag='W/"v1"'),
    "200-other-length": _answer(200, DATA + b"x", {"ETag": '"v1"'}),
    "200-other-etag": _answer(200, DATA, {"ETag": '"v2"'}),
    "416": _answer(416, b"", {"Content-Range": f"bytes */{len(DATA)}"}),
    "412": _answer(412, b"", {}),
    "304": _answer(304, b"", {"ETag": '"v1"'}),
    "204": _answer(204, b"", {"ETag": '"v1"'}),
    "302-no-location": _answer(302, b"", {"ETag": '"v1"'}),
}


@pytest.mark.parametrize("name", sorted(RESTARTS))
async def test_a_hostile_answer_to_the_resume_request_restarts_from_zero(
    http: HttpSession, tmp_path: Path, name: str
) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest)
        queue.append(RESTARTS[name])
        result = await _get(http, server, dest)
    _published_right(dest, result)
    assert _ranges(server)[:2] == [f"bytes={START}-{END}", "bytes=0-"]


async def test_a_5xx_then_the_right_range_resumes(http: HttpSession, tmp_path: Path) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest)
        queue.append(_answer(503, b"", {"Retry-After": "0"}))
        result = await _get(http, server, dest)
    _published_right(dest, result)
    assert _ranges(server) == [f"bytes={START}-{END}"] * 2
    assert result.outcome == "resumed"


@pytest.mark.parametrize("cut", [0, 1, PART // 2, PART + 7])
async def test_a_reset_in_the_resume_answer_continues_from_the_bytes_on_disk(
    http: HttpSession, tmp_path: Path, cut: int
) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest)
        queue.append(_partial(START, END, str(len(DATA)), cut=cut))
        result = await _get(http, server, dest)
    _published_right(dest, result)
    assert "bytes=0-" not in _ranges(server)


async def test_a_resume_answer_longer_than_asked_never_publishes_extra_bytes(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest)
        body = DATA[START:] + b"EXTRA" * 100
        queue.append(_partial(START, END, str(len(DATA)), body=body))
        try:
            result = await _get(http, server, dest)
        except errors.TransferError:
            assert not dest.exists()
            return
    _published_right(dest, result)


async def test_a_gzip_resume_answer_is_refused_and_nothing_is_published(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest)
        body = gzip.compress(DATA[START:])
        headers = {
            "Content-Range": f"bytes {START}-{END}/{len(DATA)}",
            "ETag": '"v1"',
            "Content-Encoding": "gzip",
        }
        queue.append(_answer(206, body, headers))
        with pytest.raises(errors.EncodedBodyError):
            await _get(http, server, dest)
    assert not dest.exists()


@pytest.mark.parametrize("same_size", [True, False])
async def test_a_store_ignoring_if_range_never_splices_versions(
    http: HttpSession, tmp_path: Path, same_size: bool
) -> None:
    """The object changed between the runs; the store ignores If-Range and If-Match but
    honours Range (and shows the new ETag)."""
    dest = tmp_path / "f"
    new = os.urandom(len(DATA) if same_size else len(DATA) + 4321)
    async with scripted(DATA) as (server, _queue):
        await _interrupt(http, server, dest)
        server.replace(new, '"v2"', None)
        server.honour_preconditions = False
        result = await _get(http, server, dest)
    _published_right(dest, result, new)


async def test_a_weak_and_dated_store_changing_its_weak_tag_restarts(
    http: HttpSession, tmp_path: Path
) -> None:
    date = "Sun, 06 Nov 1994 08:49:37 GMT"
    dest = tmp_path / "f"
    new = os.urandom(len(DATA))
    async with scripted(DATA, etag='W/"a"', last_modified=date) as (server, _queue):
        await _interrupt(http, server, dest)
        server.replace(new, 'W/"b"', date)  # replaced within the same second
        server.honour_preconditions = False
        result = await _get(http, server, dest)
    _published_right(dest, result, new)


# -- hostile journals ----------------------------------------------------------------


def _edit(dest: Path, **changes: Any) -> None:
    path = Target.for_path(dest).journal
    raw = json.loads(path.read_bytes())
    raw.update(changes)
    path.write_text(json.dumps(raw))


JOURNALS: dict[str, dict[str, Any]] = {
    "crlf-key": {"etag": 'etag:"v1"\r\nX-Evil: 1'},
    "non-ascii-key": {"etag": 'etag:"v\u00e9"'},
    "non-latin1-key": {"etag": 'etag:"v\u20ac"'},
    "quote-key": {"etag": 'etag:"v1""'},
    "weak-key": {"etag": 'etag:W/"v1"'},
    "empty-key": {"etag": "etag:"},
    "space-key": {"etag": 'etag: "v1"'},
    "size-0": {"size": 0},
    "size-2**63": {"size": 2**63},
    "size-negative": {"size": -1},
    "size-bigger": {"size": len(DATA) + PART},
    "size-smaller": {"size": len(DATA) - 1},
    "part-size-other": {"partSize": PART * 2},
    "part-size-1": {"partSize": 1},
    "done-out-of-range": {"done": {"0": 0, "99": 0}},
    "done-huge-index": {"done": {"999999999": 0}},
    "identity-other": {"identity": "blake2b:" + "0" * 64},
    "first-len": {"firstLen": 5},
    "partial-overlaps-done": {"partial": {"0": [5, 0]}},
    "all-done": {"done": {str(i): 0 for i in range(8)}},
}


@pytest.mark.parametrize("name", sorted(JOURNALS))
async def test_a_hostile_journal_never_changes_the_published_bytes(
    http: HttpSession, tmp_path: Path, name: str
) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, _queue):
        await _interrupt(http, server, dest)
        _edit(dest, **JOURNALS[name])
        result = await _get(http, server, dest)
    _published_right(dest, result)
    for headers in server.seen:
        assert "X-Evil" not in headers


@pytest.mark.parametrize("damage", ["zeros", "truncate", "symlink", "fifo", "extend"])
async def test_a_damaged_temp_file_under_a_good_journal_is_fetched_again(
    http: HttpSession, tmp_path: Path, damage: str
) -> None:
    (tmp_path / "d").mkdir()
    dest = tmp_path / "d" / "f"
    other = tmp_path / "elsewhere"  # a link's target: never written through
    async with scripted(DATA) as (server, _queue):
        await _interrupt(http, server, dest)
        temp = Target.for_path(dest).temp
        if damage == "zeros":
            with temp.open("r+b") as f:
                f.write(b"\0" * PART)
        elif damage == "truncate":
            os.truncate(temp, PART)
        elif damage == "extend":
            os.truncate(temp, len(DATA) + 10)
        elif damage == "symlink":
            other.write_bytes(b"\1" * len(DATA))
            temp.unlink()
            temp.symlink_to(other)
        else:
            temp.unlink()
            os.mkfifo(temp)
        result = await _get(http, server, dest)
    _published_right(dest, result)
    if damage == "symlink":
        assert other.read_bytes() == b"\1" * len(DATA)


async def test_a_fifo_planted_as_the_journal_is_refused_without_blocking(
    http: HttpSession, tmp_path: Path
) -> None:
    """Opening a FIFO for reading blocks until a writer comes: the journal read (in a
    thread the download waits for, even when cancelled) would hang the download for good.
    A watchdog opens the FIFO's other end after a generous delay, so a regression fails
    here instead of hanging the suite."""
    dest = tmp_path / "f"
    journal = Target.for_path(dest).journal
    stop, rescued = threading.Event(), threading.Event()

    def watchdog() -> None:
        if not stop.wait(30):
            rescued.set()
            with contextlib.suppress(OSError):
                os.close(os.open(journal, os.O_WRONLY | os.O_NONBLOCK))

    async with scripted(DATA) as (server, _queue):
        await _interrupt(http, server, dest)
        journal.unlink()
        os.mkfifo(journal)
        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        try:
            result = await _get(http, server, dest)
        finally:
            stop.set()
            guard.join()
    assert not rescued.is_set(), "the download blocked opening the FIFO journal"
    _published_right(dest, result)


# -- cancellation of a resumed download at every point ---------------------------------

TURNS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 21, 27, 34, 44, 55, 70, 89, 110, 144, 200]


@pytest.mark.parametrize("turns", TURNS)
async def test_a_cancelled_resume_never_publishes_and_its_journal_stays_true(
    http: HttpSession, tmp_path: Path, turns: int
) -> None:
    from .test_fault_cancel import (
        acquired_connections,
        check_journal_against_disk,
        open_files_under,
    )

    dest = tmp_path / "f"
    target = Target.for_path(dest)
    async with scripted(DATA, drip=16 * KiB) as (server, _queue):
        await _interrupt(http, server, dest, at=START + 5000)
        run = asyncio.ensure_future(
            _get(http, server, dest, connections=3, config=config(journal_interval=0.01))
        )
        for _ in range(turns):
            await asyncio.sleep(0)
        run.cancel()
        try:
            result = await run
        except asyncio.CancelledError:
            result = None
        assert acquired_connections(http) == 0
        assert open_files_under(tmp_path) == []
        if result is not None:
            _published_right(dest, result)
            return
        if dest.exists():
            # cancelled once publishing had begun (the rename is not undone): the file is
            # whole and nothing of the download is left beside it
            assert dest.read_bytes() == DATA
            assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
            return
        kept = check_journal_against_disk(target)
        assert kept >= START  # the cancelled resume lost nothing already proven
        server.drip = 0
        result = await _get(http, server, dest, connections=2)
    _published_right(dest, result)
    assert result.bytes_fetched <= len(DATA) - kept


def _faulty_writes(
    monkeypatch: pytest.MonkeyPatch, at: int, fault: Callable[[], None]
) -> list[int]:
    """Run ``fault`` (in the writing thread) before the ``at``-th piece write; returns
    the counter of writes."""
    from pixop_async.transfer import _fetch
    from pixop_async.transfer.checksum import hash_and_pwritev

    calls = [0]

    def writes(fd: int, chunks: list[bytes], offset: int, crc: int) -> int:
        calls[0] += 1
        if calls[0] == at:
            fault()
        return hash_and_pwritev(fd, chunks, offset, crc)

    monkeypatch.setattr(_fetch, "hash_and_pwritev", writes)
    return calls


@pytest.mark.parametrize("at", range(1, 7))
async def test_a_resume_cancelled_while_a_piece_is_written_never_publishes(
    http: HttpSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    from .test_fault_cancel import check_journal_against_disk, open_files_under

    dest = tmp_path / "f"
    loop = asyncio.get_running_loop()
    runs: list[asyncio.Future[Any]] = []
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest, at=START + 5000)
        _faulty_writes(monkeypatch, at, lambda: loop.call_soon_threadsafe(runs[0].cancel))
        # the resume's own answer breaks off mid-part: its flush runs in __aexit__
        queue.append(_echo(cut=PART + 100))
        runs.append(asyncio.ensure_future(_get(http, server, dest, connections=2)))
        with contextlib.suppress(asyncio.CancelledError):
            result = await runs[0]
            _published_right(dest, result)
            return
        assert open_files_under(tmp_path) == []
        if not dest.exists():
            kept = check_journal_against_disk(Target.for_path(dest))
            assert kept >= START
            monkeypatch.undo()
            result = await _get(http, server, dest)
    _published_right(dest, result)


@pytest.mark.parametrize("at", range(1, 7))
async def test_a_disk_full_during_a_resume_is_typed_and_keeps_a_true_journal(
    http: HttpSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    import errno

    from .test_fault_cancel import check_journal_against_disk, open_files_under

    def full() -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest, at=START + 5000)
        calls = _faulty_writes(monkeypatch, at, full)
        queue.append(_echo(cut=PART + 100))
        try:
            result = await _get(http, server, dest, connections=2)
        except errors.LocalFileError as exc:
            assert exc.errno == errno.ENOSPC
        else:
            assert calls[0] < at  # no fault injected: fewer writes than ``at``
            _published_right(dest, result)
            return
        assert not dest.exists()
        assert open_files_under(tmp_path) == []
        assert check_journal_against_disk(Target.for_path(dest)) >= START
        monkeypatch.undo()
        result = await _get(http, server, dest)
    _published_right(dest, result)


# -- kill -9, again and again, during resumes ------------------------------------------

#: the kill tests' child, with a short journal interval and small buffers
CHILD_ARGS = ("0.02", str(64 * 1024))


async def test_repeated_kill_9_during_resumes_with_other_connection_counts(
    http: HttpSession, tmp_path: Path
) -> None:
    import signal
    import sys

    from .test_fault_cancel import check_journal_against_disk

    data = os.urandom(32 * PART + 123)
    dest = tmp_path / "f"
    target = Target.for_path(dest)
    kept = 0
    async with scripted(data, drip=8 * KiB, drip_delay=0.01) as (server, _queue):
        for round_, connections in enumerate([2, 1, 4, 3, 1]):
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                CHILD,
                server.url,
                str(dest),
                str(connections),
                str(PART),
                *CHILD_ARGS,
            )
            try:
                for _ in range(3000):  # until the journal vouches for more bytes
                    await asyncio.sleep(0.01)
                    if child.returncode is not None:
                        break
                    saved = jr.load(target.journal)
                    if saved is not None and target.temp.exists():
                        now = len(saved.done) * PART + sum(w for w, _ in saved.partial.values())
                        if now >= kept + 2 * PART:
                            break
                assert child.returncode is None, f"round {round_}: the child ended first"
                os.kill(child.pid, signal.SIGKILL)
                assert await child.wait() == -signal.SIGKILL
            finally:
                if child.returncode is None:
                    child.kill()
                    await child.wait()
            assert not dest.exists()
            now = check_journal_against_disk(target)
            assert now >= kept, f"round {round_} lost proven bytes"
            kept = now
        ranges = _ranges(server)
        assert ranges.count("bytes=0-") == 1, ranges  # only the very first run's
        server.drip = 0
        server.seen.clear()
        result = await _get(http, server, dest, connections=2)
    _published_right(dest, result, data)
    assert result.outcome == "resumed" and result.bytes_fetched <= len(data) - kept
    assert "bytes=0-" not in _ranges(server)


# -- the object replaced between the interrupted run and the resume --------------------

REPLACEMENTS = {
    "one-byte": b"z",
    "shorter-than-done": os.urandom(START - 10),
    "same-size": os.urandom(len(DATA)),
    "longer": os.urandom(len(DATA) + 3 * PART),
}


@pytest.mark.parametrize("honour", [True, False], ids=["honours-pins", "ignores-pins"])
@pytest.mark.parametrize("name", sorted(REPLACEMENTS))
async def test_an_object_replaced_before_the_resume_is_published_whole_and_alone(
    http: HttpSession, tmp_path: Path, name: str, honour: bool
) -> None:
    dest = tmp_path / "f"
    new = REPLACEMENTS[name]
    async with scripted(DATA) as (server, _queue):
        await _interrupt(http, server, dest)
        server.replace(new, '"v2"', None)
        server.honour_preconditions = honour
        result = await _get(http, server, dest, connections=3)
    _published_right(dest, result, new)


async def test_a_forged_journal_and_temp_file_are_caught_by_the_expected_crc(
    http: HttpSession, tmp_path: Path
) -> None:
    """A journal whose CRCs were rewritten to match zeros written over the temp file
    passes the disk check; only an expected CRC32C can catch it, and must."""
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, _queue):
        await _interrupt(http, server, dest)
        target = Target.for_path(dest)
        with target.temp.open("r+b") as f:
            f.write(b"\0" * START)
        _edit(dest, done={str(i): crc32c(b"\0" * PART) for i in range(DONE)})
        result = await _get(http, server, dest, expected_crc32c=crc32c(DATA))
    _published_right(dest, result)


async def test_a_lying_resume_answer_is_caught_by_the_expected_crc(
    http: HttpSession, tmp_path: Path
) -> None:
    """The right range, ETag and size, but other bytes (a store that lies): only the
    expected CRC32C can tell, and the damaged parts are fetched again."""
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest)
        lie = bytes(b ^ 0x5A for b in DATA[START:])
        queue.append(_partial(START, END, str(len(DATA)), body=lie))
        result = await _get(http, server, dest, expected_crc32c=crc32c(DATA))
    _published_right(dest, result)


DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
LATER = "Mon, 07 Nov 1994 08:49:37 GMT"
DATED_RESTARTS: dict[str, Script] = {
    "other-date": _answer(
        206,
        DATA[START:],
        {"Content-Range": f"bytes {START}-{END}/{len(DATA)}", "Last-Modified": LATER},
    ),
    "no-date": _answer(206, DATA[START:], {"Content-Range": f"bytes {START}-{END}/{len(DATA)}"}),
    "date-and-new-strong-etag": _answer(
        206,
        DATA[START:],
        {
            "Content-Range": f"bytes {START}-{END}/{len(DATA)}",
            "Last-Modified": DATE,
            "ETag": '"new"',
        },
    ),
    "date-and-a-weak-etag": _answer(
        206,
        DATA[START:],
        {
            "Content-Range": f"bytes {START}-{END}/{len(DATA)}",
            "Last-Modified": DATE,
            "ETag": 'W/"new"',
        },
    ),
    "200-other-date": _answer(200, DATA, {"Last-Modified": LATER}),
}


@pytest.mark.parametrize("name", sorted(DATED_RESTARTS))
async def test_a_date_pinned_resume_answered_by_another_version_restarts(
    http: HttpSession, tmp_path: Path, name: str
) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA, etag=None, last_modified=DATE) as (server, queue):
        await _interrupt(http, server, dest)
        queue.append(DATED_RESTARTS[name])
        result = await _get(http, server, dest)
    _published_right(dest, result)
    assert _ranges(server)[:2] == [f"bytes={START}-{END}", "bytes=0-"]


async def test_a_resume_answer_sending_more_than_its_content_length_is_cut_there(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with scripted(DATA) as (server, queue):
        await _interrupt(http, server, dest)
        body = DATA[START:] + b"\0" * 5000
        queue.append(_partial(START, END, str(len(DATA)), body=body, length=END - START + 1))
        result = await _get(http, server, dest)
    _published_right(dest, result)


@pytest.mark.parametrize("connections", [1, 3])
async def test_a_directory_destination_resumes_without_a_pinned_first_request(
    http: HttpSession, tmp_path: Path, connections: int
) -> None:
    """A directory's file name comes from the answer: no journal is read before the
    first request, which is ``bytes=0-``; the journal found beside the name is used."""
    async with scripted(DATA) as (server, _queue):
        server.break_at, server.fail_from = START, 1
        with pytest.raises(errors.ServerError):
            await _get(http, server, tmp_path, config=config(retry=NO_RETRY))
        server.break_at, server.fail_from = None, None
        server.seen.clear()
        result = await _get(http, server, tmp_path, connections=connections)
    _published_right(tmp_path / "clip.mp4", result)
    assert result.outcome == "resumed" and result.bytes_fetched <= len(DATA) - START
    assert _ranges(server)[0] == "bytes=0-"


@pytest.mark.parametrize("change", ["ignore-ranges", "replaced", "replaced-ignoring-pins"])
async def test_the_store_changing_right_after_the_resume_answer_never_splices(
    http: HttpSession, tmp_path: Path, change: str
) -> None:
    """The pinned first answer is right; then (from the second request of the resume on)
    the store ignores ranges, or serves a replacement."""
    dest = tmp_path / "f"
    new = os.urandom(len(DATA))

    def later(server: Store, count: int) -> None:
        if count != 1:
            return
        if change == "ignore-ranges":
            server.ignore_ranges = True
        else:
            server.replace(new, '"v2"', None)
            server.honour_preconditions = change == "replaced"

    async with scripted(DATA) as (server, _queue):
        await _interrupt(http, server, dest)
        server.before = later
        result = await _get(http, server, dest, connections=3)
    _published_right(dest, result, DATA if change == "ignore-ranges" else new)


async def test_a_resume_while_another_process_downloads_the_same_file_is_refused(
    http: HttpSession, tmp_path: Path
) -> None:
    """The second download reads the live one's journal before its first request; the
    temp file is locked, so it must fail typed, touching neither the temp file, the
    journal nor the final path, and the live download must still finish exactly."""
    import sys

    dest = tmp_path / "f"
    target = Target.for_path(dest)
    data = os.urandom(16 * PART + 5)
    async with scripted(data, drip=8 * KiB, drip_delay=0.02) as (server, _queue):
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, server.url, str(dest), "2", str(PART), *CHILD_ARGS
        )
        try:
            for _ in range(3000):
                await asyncio.sleep(0.01)
                saved = jr.load(target.journal)
                if saved is not None and (saved.done or saved.partial):
                    break
            assert child.returncode is None
            with pytest.raises(errors.PathBusyError):
                await _get(http, server, dest, connections=2)
            assert not dest.exists()
            server.drip_delay = 0
            assert await child.wait() == 0
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
    assert dest.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]

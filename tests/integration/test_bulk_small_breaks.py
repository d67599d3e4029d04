"""Breaking the small-file path and cheap reruns (b16): hostile 304s and ETags, records a
file system refuses, repeated cancellation during publishing, sizes around the threshold.

The object store of :mod:`.test_bulk_small` is wrapped by per-object ``modes`` that make
it misbehave the way some servers do.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from pixop_async._session import HttpSession
from pixop_async.transfer import _record, _target
from pixop_async.transfer.bulk import DownloadItem, download_many
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from pixop_async.transfer.journal import identity_hash
from pixop_async.transfer.scheduler import Scheduler, io_executor

from ..servers import serve
from .download_helpers import KiB, config, http
from .test_bulk_small import Store

__all__ = ["http"]

LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"


class Modes:
    """``modes[name]``: ``"304-other"`` (any If-None-Match gets a 304 for another ETag),
    ``"304-bare"`` (a 304 without ETag), ``"etag:<value>"`` (that ETag, 304 when
    If-None-Match is exactly it, or a wildcard appears in it); else the plain store.
    An empty object answers ``bytes=0-`` with 416, as object stores do (its If-None-Match
    is the store's)."""

    def __init__(self, shop: Store) -> None:
        self.shop = shop
        self.modes: dict[str, str] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        mode = self.modes.get(name, "")
        inm = request.headers.get("If-None-Match")
        data = self.shop.objects[name]
        if mode.startswith("304-") and inm:
            self.shop.log.append((name, request.headers.get("Range"), inm))
            headers = {"ETag": '"other"'} if mode == "304-other" else {}
            return web.Response(status=304, headers=headers)
        if mode.startswith("etag:"):
            etag = mode.removeprefix("etag:")
            self.shop.log.append((name, request.headers.get("Range"), inm))
            if inm and (inm == etag or "*" in inm):
                return web.Response(status=304, headers={"ETag": etag})
            return web.Response(
                status=206,
                body=data,
                headers={
                    "ETag": etag,
                    "Last-Modified": LAST_MODIFIED,
                    "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
                },
            )
        if not data and inm != self.shop.etag(name):
            self.shop.log.append((name, request.headers.get("Range"), inm))
            return web.Response(
                status=416, headers={"ETag": self.shop.etag(name), "Content-Range": "bytes */0"}
            )
        return await self.shop.handle(request)


@pytest_asyncio.fixture
async def store() -> AsyncIterator[tuple[Store, Modes, str]]:
    shop = Store()
    modes = Modes(shop)
    app = web.Application()
    app.router.add_get("/{name}", modes.handle)
    async with serve(app) as base:
        yield shop, modes, base


def _record_of(path: Path) -> _record.Record | None:
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        found = _record.read(path.name, fd)
    finally:
        os.close(fd)
    return None if found is None else found[1]


@pytest.mark.parametrize("mode", ["304-other", "304-bare"])
async def test_a_304_not_naming_the_recorded_etag_never_skips_the_file(
    store: tuple[Store, Modes, str], http: HttpSession, tmp_path: Path, mode: str
) -> None:
    """RFC 9110 makes a 304 carry the ETag a 200 would: one naming another version (or
    none) cannot vouch for the recorded one (b16: it was reported skipped, with the
    other ETag)."""
    shop, modes, base = store
    shop.put("a", os.urandom(3 * KiB))
    dest = tmp_path / "a.bin"
    await download(http, f"{base}/a", dest, config=config())
    recorded = shop.etag("a")
    assert _record_of(dest) == _record.Record(
        recorded, 3 * KiB, crc32c(shop.objects["a"]), identity_hash(f"{base}/a")
    )
    shop.log.clear()
    modes.modes["a"] = mode
    result = await download(http, f"{base}/a", dest, config=config())
    assert result.outcome == "downloaded" and not result.not_modified
    assert result.etag == recorded and dest.read_bytes() == shop.objects["a"]
    assert [inm for _, _, inm in shop.log] == [recorded, None]


@pytest.mark.parametrize("etag", ['W/"w1"', '"x", *', "unquoted"])
async def test_an_etag_that_cannot_vouch_for_bytes_is_never_recorded(
    store: tuple[Store, Modes, str], http: HttpSession, tmp_path: Path, etag: str
) -> None:
    """A weak ETag may stay while the bytes change; ``"x", *`` sent back as
    If-None-Match is a wildcard. Neither is recorded, so a changed object is fetched
    again (b16: the stale file was reported skipped)."""
    shop, modes, base = store
    shop.put("a", os.urandom(2 * KiB))
    modes.modes["a"] = f"etag:{etag}"
    dest = tmp_path / "a.bin"
    first = await download(http, f"{base}/a", dest, config=config())
    assert first.outcome == "downloaded" and _record_of(dest) is None
    shop.objects["a"] = os.urandom(2 * KiB)  # changed bytes, same ETag
    again = await download(http, f"{base}/a", dest, config=config())
    assert again.outcome == "downloaded" and dest.read_bytes() == shop.objects["a"]
    assert [inm for _, _, inm in shop.log] == [None, None]
    # into a directory: no earlier copy is taken for this version on its ETag either
    into = tmp_path / "dir"
    into.mkdir()
    await download(http, f"{base}/a", into, config=config())
    shop.objects["a"] = os.urandom(2 * KiB)
    third = await download(http, f"{base}/a", into, config=config())
    assert third.outcome == "downloaded" and third.path.read_bytes() == shop.objects["a"]


@pytest.mark.parametrize("code", [errno.EDQUOT, errno.EACCES, errno.ENOTSUP])
async def test_a_record_the_file_system_refuses_costs_the_record_not_the_download(
    store: tuple[Store, Modes, str],
    http: HttpSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    """The record only saves a rerun work (b16: EDQUOT or EACCES from ``setxattr`` failed
    a download whose bytes were written)."""
    shop, _, base = store
    shop.put("a", os.urandom(5 * KiB))
    shop.put("big", os.urandom(300 * KiB))

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "setxattr", refuse)
    for name, part_size in (("a", None), ("big", 64 * KiB)):
        dest = tmp_path / name
        result = await download(http, f"{base}/{name}", dest, part_size=part_size, config=config())
        assert result.outcome == "downloaded" and dest.read_bytes() == shop.objects[name]
        assert _record_of(dest) is None
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "big"]
    shop.log.clear()
    again = await download(http, f"{base}/a", tmp_path / "a", config=config())
    assert again.outcome == "downloaded" and [inm for _, _, inm in shop.log] == [None]


async def test_a_second_cancellation_still_waits_for_the_publishing_thread(
    store: tuple[Store, Modes, str],
    http: HttpSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``download_many`` cancels its workers twice (through ``gather``, then in its
    cleanup). The second cancellation used to end the wait for the publishing thread, so
    the call returned while the thread still wrote the temp file (and the directory
    descriptor it used was closed under it). Now the call ends only once the thread is
    done: no temp file, and the file, if published, holds the object's bytes."""
    shop, _, base = store
    data = os.urandom(8 * KiB)
    shop.put("a", data)
    entered, release = threading.Event(), threading.Event()
    real = _target.hash_and_pwritev

    def blocking(*args: Any) -> int:
        entered.set()
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(_target, "hash_and_pwritev", blocking)
    scheduler = Scheduler(config())
    task = asyncio.ensure_future(
        download_many(http, [DownloadItem(f"{base}/a", tmp_path / "a")], scheduler=scheduler)
    )
    try:
        assert await asyncio.to_thread(entered.wait, 30)
        assert [p.name for p in tmp_path.iterdir()] == ["a.pixop-part"]
        task.cancel()
        for _ in range(20):
            await asyncio.sleep(0.01)
            task.cancel()
        assert not task.done()  # the thread is still working on the caller's file
    finally:
        release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [p.name for p in tmp_path.iterdir()] == ["a"]
    assert (tmp_path / "a").read_bytes() == data
    assert scheduler.budget.available == scheduler.budget.capacity


@pytest.mark.parametrize("part_size", [None, 16 * KiB])
async def test_sizes_around_the_small_threshold(
    store: tuple[Store, Modes, str], http: HttpSession, tmp_path: Path, part_size: int | None
) -> None:
    """0, 1, buffer-1, buffer, buffer+1 bytes (buffer 64 KiB; with a 16 KiB part size only
    objects of at most one part come whole): exact bytes, a record, one conditional
    request on the rerun."""
    shop, _, base = store
    buffer = 64 * KiB
    small = min(buffer, part_size or buffer)
    for size in (0, 1, small - 1, small, small + 1, buffer + 1):
        name = f"o{size}"
        shop.put(name, os.urandom(size))
        dest = tmp_path / name
        first = await download(http, f"{base}/{name}", dest, part_size=part_size, config=config())
        assert first.outcome == "downloaded" and dest.read_bytes() == shop.objects[name]
        assert first.crc32c == crc32c(shop.objects[name]) and first.size == size
        requests = len(shop.requests_for(name))
        if 0 < size <= small:
            assert requests == 1, size  # the whole object in the first answer
        source = identity_hash(f"{base}/{name}")
        assert _record_of(dest) == _record.Record(shop.etag(name), size, first.crc32c, source)
        again = await download(http, f"{base}/{name}", dest, part_size=part_size, config=config())
        assert again.outcome == "skipped" and again.crc32c == first.crc32c
        assert [inm for _, _, inm in shop.requests_for(name)][requests:] == [shop.etag(name)]
    assert not [p.name for p in tmp_path.iterdir() if "pixop" in p.name]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_working_thread_pools() -> None:
    """The publishing pool and the I/O pool are process-wide. A child forked after they
    ran inherits them without their threads, and every download in it waited forever for
    its publish (b16: celery/gunicorn-style prefork workers hung). The child now starts
    with new pools."""
    pools = [_target.publisher(), io_executor(2)]
    assert [pool.submit(lambda: 7).result(timeout=30) for pool in pools] == [7, 7]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 1
        try:

            async def in_child() -> int:
                fresh = [_target.publisher(), io_executor(2)]
                got = [
                    await asyncio.wait_for(
                        _target.run_to_completion(lambda: 7, executor=pool), timeout=10
                    )
                    for pool in fresh
                ]
                return 0 if got == [7, 7] and fresh[0] is not pools[0] else 2

            code = asyncio.run(in_child())
        finally:
            os._exit(code)
    for _ in range(600):  # up to 30 s; a hung child is killed and the test fails
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on an inherited thread pool")
    assert os.waitstatus_to_exitcode(status) == 0


async def test_a_record_names_its_object_so_another_objects_etag_never_matches_it(
    store: tuple[Store, Modes, str], http: HttpSession, tmp_path: Path
) -> None:
    """ETags are scoped to their resource: two objects versioned by a counter both have
    ``"1"``. A destination that held object A and now gets object B used to ask B
    ``If-None-Match: "1"``, get a 304, and report A's bytes skipped as B."""
    shop, modes, base = store
    shop.put("a", os.urandom(4 * KiB))
    shop.put("b", os.urandom(4 * KiB))
    modes.modes["a"] = modes.modes["b"] = 'etag:"1"'
    dest = tmp_path / "clip.bin"
    await download(http, f"{base}/a", dest, config=config())
    assert _record_of(dest) is not None
    result = await download(http, f"{base}/b", dest, config=config())
    assert result.outcome == "downloaded" and dest.read_bytes() == shop.objects["b"]
    assert [(name, inm) for name, _, inm in shop.log] == [("a", None), ("b", None)]
    # the same object under a stable identity (a URL whose signature changes) still reruns
    # cheaply; bulk items carry it as DownloadItem.identity
    items = [DownloadItem(f"{base}/b?sig={n}", dest, identity="object-b") for n in (1, 2)]
    first = await download_many(http, items[:1], config=config())
    again = await download_many(http, items[1:], config=config())
    assert first.summary() == "1 done, 0 skipped, 0 failed"
    assert again.summary() == "0 done, 1 skipped, 0 failed"
    assert [inm for _, _, inm in shop.log[2:]] == [None, '"1"']

"""Cancellation at random points and a full disk: the journal stays true, nothing leaks.

Cancellation is injected after a seeded-random number of event-loop turns, so it lands in
the first request, inside part streams, between a write and its journal entry, or after
the end. Whatever the point: no final file unless complete, the journal lists only bytes
that are really on disk, the HTTP connector holds no acquired connection, no file under
the download directory is still open, and a later call finishes with the exact bytes.

The full disk is simulated by making the engine's write step raise ``ENOSPC`` after a
budget of bytes.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
from pathlib import Path
from typing import Any

import pytest

from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import LocalFileError, PixopError
from pixop_async.transfer import _fetch
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c, hash_and_pwritev
from pixop_async.transfer.download import download
from pixop_async.transfer.upload import upload_file

from .download_helpers import KiB, config, controls, http, leftovers, serve

__all__ = ["http"]

PART = 64 * KiB
SIZE = 12 * PART + 99
_SEEDS = random.Random(7)
#: Where to cancel: after n event-loop turns (early: first request, temp file, journal) or
#: once a fraction of the bytes arrived (mid-part, between a write and its journal entry).
POINTS = [("turns", n) for n in [0, 1, 2, *sorted(_SEEDS.randrange(3, 400) for _ in range(5))]] + [
    ("bytes", round(_SEEDS.uniform(0.02, 0.98), 3)) for _ in range(8)
]


def open_files_under(directory: Path) -> list[str]:
    """Paths under ``directory`` this process still has open (from /proc/self/fd)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


def acquired_connections(http: HttpSession) -> int:
    connector = http._client().connector
    assert connector is not None
    return len(connector._acquired)  # type: ignore[attr-defined]


def check_journal_against_disk(target: Target) -> int:
    """Every CRC the journal claims matches the temp file; returns the bytes it vouches for."""
    saved = jr.load(target.journal)
    if saved is None:
        return 0
    on_disk = target.temp.read_bytes()
    assert len(on_disk) == saved.size
    part = saved.part_size
    for index, crc in saved.done.items():
        assert crc32c(on_disk[index * part : (index + 1) * part]) == crc
    for index, (written, crc) in saved.partial.items():
        assert crc32c(on_disk[index * part : index * part + written]) == crc
    # the last part is shorter; with one segment per connection it may be done early
    lengths = sum(min(part, saved.size - index * part) for index in saved.done)
    return lengths + sum(w for w, _ in saved.partial.values())


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


@pytest.mark.parametrize("point", POINTS, ids=[f"{kind}-{at}" for kind, at in POINTS])
async def test_cancel_at_a_random_point(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path, point: tuple[str, float]
) -> None:
    data = os.urandom(SIZE)
    src = serve(pixop_emulator, data)
    controls(pixop_emulator).rate_limit = 4 * 1024 * KiB  # about 0.2 s in all
    dest = tmp_path / "video.mp4"
    target = Target.for_path(dest)
    kind, at = point
    reached = asyncio.Event()

    def watch(done: int, total: int | None) -> None:
        if kind == "bytes" and done >= at * SIZE:
            reached.set()

    run = asyncio.ensure_future(
        download(
            http,
            src.url,
            dest,
            connections=4,
            part_size=PART,
            expected_crc32c=crc32c(data),
            progress=watch,
            config=config(journal_interval=0.01, buffer_size=64 * KiB),
        )
    )
    if kind == "turns":
        for _ in range(int(at)):
            await asyncio.sleep(0)
    else:
        waiter = asyncio.ensure_future(reached.wait())
        await asyncio.wait([run, waiter], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    run.cancel()
    try:
        await run
        finished = True
    except asyncio.CancelledError:
        finished = False
    assert run.done()
    assert acquired_connections(http) == 0
    assert open_files_under(tmp_path) == []
    if finished or dest.exists():
        # a cancel that lands once publishing began lets the rename finish (documented on
        # download()): the file is then whole, and nothing of the attempt is left beside it
        assert dest.read_bytes() == data
        assert leftovers(tmp_path) == ["video.mp4"]
        return
    kept = check_journal_against_disk(target)
    controls(pixop_emulator).rate_limit = None
    result = await download(
        http,
        src.url,
        dest,
        connections=4,
        part_size=PART,
        expected_crc32c=crc32c(data),
        config=config(),
    )
    assert dest.read_bytes() == data
    assert result.bytes_fetched <= SIZE - kept  # what the journal vouched for stayed
    assert leftovers(tmp_path) == ["video.mp4"]
    assert acquired_connections(http) == 0
    assert open_files_under(tmp_path) == []


@pytest.mark.parametrize("turns", [0, 3, 40, 150])
async def test_cancelled_upload_leaks_nothing(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path, turns: int
) -> None:
    """An upload cancelled anywhere closes its file and gives its connection back."""
    from aiohttp import web

    from tests.servers import serve as serve_app

    async def slow_sink(request: web.Request) -> web.Response:
        async for _chunk in request.content.iter_chunked(16 * KiB):
            await asyncio.sleep(0.001)
        return web.json_response({}, status=201)

    app = web.Application(client_max_size=64 * 1024 * KiB)
    app.router.add_put("/up", slow_sink)
    path = tmp_path / "up.bin"
    path.write_bytes(os.urandom(2 * 1024 * KiB))
    async with serve_app(app) as root:
        run = asyncio.ensure_future(
            upload_file(http, root + "/up", path, method="PUT", config=config())
        )
        for _ in range(turns):
            await asyncio.sleep(0)
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        assert acquired_connections(http) == 0
        assert open_files_under(tmp_path) == []


async def test_disk_full_gives_a_clear_error_keeps_the_journal_and_resumes(
    pixop_emulator: EmulatorServer,
    http: HttpSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = os.urandom(SIZE)
    src = serve(pixop_emulator, data)
    dest = tmp_path / "video.mp4"
    target = Target.for_path(dest)
    budget = {"left": 5 * PART}

    def filling_disk(fd: int, chunks: list[bytes], offset: int, crc: int) -> int:
        size = sum(len(c) for c in chunks)
        if budget["left"] < size:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        budget["left"] -= size
        return hash_and_pwritev(fd, chunks, offset, crc)

    monkeypatch.setattr(_fetch, "hash_and_pwritev", filling_disk)
    kwargs: dict[str, Any] = {
        "connections": 2,
        "part_size": PART,
        "expected_crc32c": crc32c(data),
        "config": config(buffer_size=64 * KiB),
    }
    with pytest.raises(LocalFileError) as raised:
        await download(http, src.url, dest, **kwargs)
    assert isinstance(raised.value, OSError) and isinstance(raised.value, PixopError)
    assert raised.value.errno == errno.ENOSPC
    assert "No space left" in str(raised.value)
    assert str(dest) in str(raised.value)
    assert not dest.exists()
    kept = check_journal_against_disk(target)  # the journal is intact and true
    assert kept > 0
    assert acquired_connections(http) == 0
    assert open_files_under(tmp_path) == []
    monkeypatch.undo()  # space was freed
    result = await download(http, src.url, dest, **kwargs)
    assert dest.read_bytes() == data
    assert result.bytes_fetched <= SIZE - kept
    assert leftovers(tmp_path) == ["video.mp4"]


async def test_disk_full_before_the_first_byte_leaves_nothing(
    pixop_emulator: EmulatorServer,
    http: HttpSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No room even to preallocate the temp file: a clear error and no debris."""
    src = serve(pixop_emulator, os.urandom(SIZE))

    def no_room(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", no_room)
    with pytest.raises(LocalFileError) as raised:
        await download(http, src.url, tmp_path / "video.mp4", part_size=PART, config=config())
    assert raised.value.errno == errno.ENOSPC
    assert acquired_connections(http) == 0
    assert open_files_under(tmp_path) == []
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("turns", [0, 1, 5, 20, 60, 200])
async def test_cancelled_api_calls_leak_no_connection(
    pixop_emulator: EmulatorServer, turns: int
) -> None:
    from pixop_async import Pixop
    from pixop_async.emulator import Fault

    pixop_emulator.faults.add(Fault(delay=0.05, times=50, path="/api/v1/projects$"))
    async with Pixop(pixop_emulator.api_key, base_url=pixop_emulator.base_url) as px:
        calls = [asyncio.ensure_future(px.projects.list()) for _ in range(4)]
        for _ in range(turns):
            await asyncio.sleep(0)
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        assert acquired_connections(px.http) == 0
        pixop_emulator.faults.clear()
        assert (await px.projects.list()).total_elements >= 1  # the client still works
        assert acquired_connections(px.http) == 0

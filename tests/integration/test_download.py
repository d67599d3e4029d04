"""Downloads against the emulator's media serving: parallel ranges, naming, edge cases."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from pixop_async import TransferConfig, download_url
from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import ChecksumMismatchError, NotFoundError, TransferError
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from pixop_async.transfer.scheduler import Scheduler

from .download_helpers import KiB, config, controls, http, leftovers, serve

__all__ = ["http"]


@pytest.mark.parametrize("connections", [1, 4])
async def test_parallel_download_is_exact(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path, connections: int
) -> None:
    src = serve(pixop_emulator, os.urandom(3 * 1024 * KiB + 1234))
    dest = tmp_path / "out.bin"
    result = await download(
        http,
        src.url,
        dest,
        connections=connections,
        part_size=256 * KiB,
        expected_crc32c=src.crc,
        config=config(),
    )
    assert dest.read_bytes() == src.data
    assert result.path == dest
    assert result.size == len(src.data)
    assert result.crc32c == src.crc
    assert result.bytes_fetched == len(src.data)
    assert result.etag and result.etag.startswith('"')
    assert not result.not_modified
    assert leftovers(tmp_path) == ["out.bin"]
    served = controls(pixop_emulator).served
    # one long request per connection, not one per part: the first asks for everything
    # (``bytes=0-``); the others each start a segment on a part boundary; a free connection
    # may split a segment later, which adds a request, but never more than one per part
    assert served[0] == (0, len(src.data) - 1)
    assert connections <= len(served) <= 13
    assert all(start % (256 * KiB) == 0 for start, _ in served)


async def test_crc_is_computed_without_an_expected_value(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(700 * KiB))
    result = await download(http, src.url, tmp_path / "x", part_size=100 * KiB, config=config())
    assert result.crc32c == src.crc


async def test_directory_destination_uses_sanitised_server_name(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, b"x" * 5000, name="../../evil name.mp4")
    result = await download(http, src.url, tmp_path, config=config())
    assert result.path == tmp_path / "evil name.mp4"
    assert result.path.read_bytes() == src.data
    assert leftovers(tmp_path) == ["evil name.mp4"]


@pytest.mark.parametrize("size", [0, 1, 17])
async def test_tiny_and_empty_files(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path, size: int
) -> None:
    src = serve(pixop_emulator, os.urandom(size))
    result = await download(http, src.url, tmp_path / "f", expected_crc32c=src.crc)
    assert (tmp_path / "f").read_bytes() == src.data
    assert result.size == size
    assert result.crc32c == crc32c(src.data)
    assert leftovers(tmp_path) == ["f"]


async def test_if_none_match_leaves_the_file_alone(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(50 * KiB))
    first = await download(http, src.url, tmp_path / "f", config=config())
    stamp = (tmp_path / "f").stat().st_mtime_ns
    again = await download(http, src.url, tmp_path / "f", if_none_match=first.etag, config=config())
    assert again.not_modified
    assert again.bytes_fetched == 0
    assert again.crc32c == src.crc
    assert again.size == len(src.data)
    assert (tmp_path / "f").stat().st_mtime_ns == stamp
    assert leftovers(tmp_path) == ["f"]


async def test_checksum_mismatch_refetches_then_leaves_nothing(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(600 * KiB))
    dest = tmp_path / "f"
    with pytest.raises(ChecksumMismatchError) as caught:
        await download(
            http,
            src.url,
            dest,
            part_size=200 * KiB,
            expected_crc32c=src.crc ^ 1,
            config=config(),
        )
    assert caught.value.actual == src.crc
    assert caught.value.expected == src.crc ^ 1
    assert leftovers(tmp_path) == []
    # every part was fetched a second time looking for the damaged one
    assert len(controls(pixop_emulator).served) == 6


async def test_missing_object_raises_typed_error(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, b"abc")
    src.path.unlink()
    with pytest.raises(NotFoundError):
        await download(http, src.url, tmp_path / "f", config=config())
    assert leftovers(tmp_path) == []


async def test_progress_is_monotonic_bounded_and_complete(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(1024 * KiB))
    seen: list[tuple[int, int | None]] = []

    async def report(done: int, total: int | None) -> None:
        seen.append((done, total))

    await download(
        http, src.url, tmp_path / "f", part_size=128 * KiB, progress=report, config=config()
    )
    assert seen[-1] == (len(src.data), len(src.data))
    values = [d for d, _ in seen]
    assert all(0 <= v <= len(src.data) for v in values)
    assert len(seen) > 3


async def test_progress_is_throttled(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(2048 * KiB))
    calls: list[int] = []
    await download(
        http,
        src.url,
        tmp_path / "f",
        part_size=128 * KiB,
        progress=lambda d, t: calls.append(d),
        config=config(progress_interval=10.0),
    )
    # one call when the first bytes arrive, then only the final figure
    assert len(calls) == 2
    assert calls[-1] == len(src.data)


async def test_bandwidth_cap_and_shared_connection_limit(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    a = serve(pixop_emulator, os.urandom(512 * KiB))
    b = serve(pixop_emulator, os.urandom(512 * KiB))
    scheduler = Scheduler(config(max_connections=2, bandwidth_limit=2 * 1024 * KiB))
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(
        download(
            http, a.url, tmp_path / "a", connections=4, part_size=64 * KiB, scheduler=scheduler
        ),
        download(
            http, b.url, tmp_path / "b", connections=4, part_size=64 * KiB, scheduler=scheduler
        ),
    )
    elapsed = loop.time() - started
    assert [r.crc32c for r in results] == [a.crc, b.crc]
    assert scheduler.peak_connections == 2
    assert elapsed >= 0.35  # 1 MiB at 2 MiB/s, minus the initial burst


async def test_download_url_convenience(pixop_emulator: EmulatorServer, tmp_path: Path) -> None:
    src = serve(pixop_emulator, os.urandom(300 * KiB))
    result = await download_url(
        src.url,
        tmp_path,
        part_size=64 * KiB,
        expected_crc32c=src.crc,
        config=TransferConfig(progress_interval=0),
    )
    assert result.path.read_bytes() == src.data
    assert result.path.name == "clip.mp4"


# -- servers that do not behave like object stores -------------------------------------


async def _start(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("with_length", [True, False])
async def test_server_ignoring_ranges_gets_one_stream(
    http: HttpSession, tmp_path: Path, with_length: bool
) -> None:
    data = os.urandom(400 * KiB)
    requests: list[str | None] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        requests.append(request.headers.get("Range"))
        response = web.StreamResponse()
        if with_length:
            response.content_length = len(data)
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(0, len(data), 50 * KiB):
            await response.write(data[i : i + 50 * KiB])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/file.bin", handler)
    async for base in _start(app):
        result = await download(
            http,
            base + "/file.bin",
            tmp_path,
            part_size=64 * KiB,
            expected_crc32c=crc32c(data),
            config=config(),
        )
    assert result.path == tmp_path / "file.bin"
    assert result.path.read_bytes() == data
    assert result.size == len(data)
    assert len(requests) == 1
    assert leftovers(tmp_path) == ["file.bin"]


async def test_wrong_content_range_is_refused(http: HttpSession, tmp_path: Path) -> None:
    data = os.urandom(300 * KiB)

    async def handler(request: web.Request) -> web.Response:
        first, _, last = request.headers["Range"][6:].partition("-")
        start, end = int(first), int(last or len(data) - 1)
        if start > 0:
            start += 1  # off by one: a mixed-up answer must never be written
        body = data[start : end + 1]
        return web.Response(
            status=206,
            body=body,
            headers={"Content-Range": f"bytes {start}-{end}/{len(data)}", "ETag": '"v1"'},
        )

    app = web.Application()
    app.router.add_get("/f", handler)
    async for base in _start(app):
        with pytest.raises(TransferError, match="Content-Range"):
            await download(http, base + "/f", tmp_path / "f", part_size=100 * KiB, config=config())
    assert not (tmp_path / "f").exists()


def _ranged_app(data: bytes, seen: list[str | None], **headers: str) -> web.Application:
    """Serves ``data`` honouring ``Range`` (answering 200 without one), with ``headers``."""

    async def handler(request: web.Request) -> web.Response:
        header = request.headers.get("Range")
        seen.append(header)
        if header is None:
            return web.Response(body=data, headers=headers)
        first, _, last = header[6:].partition("-")
        start, end = int(first), min(int(last or len(data) - 1), len(data) - 1)
        return web.Response(
            status=206,
            body=data[start : end + 1],
            headers={**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"},
        )

    app = web.Application()
    app.router.add_get("/f", handler)
    return app


async def test_without_etag_or_date_the_object_comes_in_one_plain_stream(
    http: HttpSession, tmp_path: Path
) -> None:
    # (this test used to assert parallel ranges here; with no validator they could mix two
    # versions of the object, so the engine now refuses to split the download)
    data = os.urandom(500 * KiB)
    ranges: list[str | None] = []
    async for base in _start(_ranged_app(data, ranges)):
        result = await download(
            http, base + "/f", tmp_path / "f", part_size=100 * KiB, config=config()
        )
    assert (tmp_path / "f").read_bytes() == data
    assert result.etag is None and result.pinned is None
    assert result.crc32c == crc32c(data)
    assert ranges == ["bytes=0-", None]  # the first request, then one whole request
    assert leftovers(tmp_path) == ["f"]  # no journal: nothing could be resumed


async def test_last_modified_pins_the_parts_when_there_is_no_etag(
    http: HttpSession, tmp_path: Path
) -> None:
    data = os.urandom(500 * KiB)
    ranges: list[str | None] = []
    date = "Wed, 21 Oct 2026 07:28:00 GMT"
    async for base in _start(_ranged_app(data, ranges, **{"Last-Modified": date})):
        result = await download(
            http, base + "/f", tmp_path / "f", part_size=100 * KiB, config=config()
        )
    assert (tmp_path / "f").read_bytes() == data
    assert result.pinned == "last-modified"
    # one long range per connection (the default 8 for 5 parts: one per part, at most one
    # more per split), each pinned by the date
    assert 1 < len(ranges) <= 5 and None not in ranges and ranges[0] == "bytes=0-"
    assert leftovers(tmp_path) == ["f"]

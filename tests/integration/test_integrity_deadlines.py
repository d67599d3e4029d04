"""Issue 10: transfers have a stall rule and an overall deadline; directories are not uploaded.

Servers drip bodies or headers, or never read an upload. Every entry point (``download``,
``download_url``, ``download_many``, ``upload_file``) ends with a typed error and nothing
published; uploading a directory fails before any request.
"""

from __future__ import annotations

import asyncio
import os
import resource
from pathlib import Path

import pytest
from aiohttp import web

from pixop_async import Pixop, errors
from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.transfer import DownloadItem, download_url
from pixop_async.transfer.bulk import download_many
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from pixop_async.transfer.upload import upload_file
from tests.servers import serve

from .download_helpers import KiB, config, controls, http, leftovers
from .integrity_server import dripping_headers, store
from .video_helpers import ingested_video

PART = 64 * KiB
DATA = os.urandom(4 * PART)
STALL = {"low_speed_limit": 20_000, "low_speed_time": 0.4}

__all__ = ["http"]


async def test_a_dripping_body_stalls(http: HttpSession, tmp_path: Path) -> None:
    async with store(DATA, drip=100, drip_delay=0.02) as server:  # ~5 KB/s
        with pytest.raises(errors.TransferStalledError):
            await download(http, server.url, tmp_path / "f", part_size=PART, config=config(**STALL))
    assert not (tmp_path / "f").exists()


async def test_headers_dripped_byte_by_byte_stall(http: HttpSession, tmp_path: Path) -> None:
    async with dripping_headers(0.01) as url:
        with pytest.raises(errors.TransferStalledError):
            await download(http, url, tmp_path / "f", config=config(**STALL))
    assert leftovers(tmp_path) == []


async def test_the_overall_deadline_ends_a_slow_but_moving_download(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(DATA, drip=4 * KiB, drip_delay=0.02) as server:  # ~200 KB/s, moving
        with pytest.raises(errors.TransferTimeoutError):
            await download(
                http,
                server.url,
                tmp_path / "f",
                part_size=PART,
                connections=1,
                config=config(total_timeout=0.5, low_speed_time=None),
            )
    assert not (tmp_path / "f").exists()


async def test_deadlines_reach_download_url_and_download_many(tmp_path: Path) -> None:
    cfg = config(**STALL)
    async with store(DATA, drip=100, drip_delay=0.02) as server:
        with pytest.raises(errors.TransferStalledError):
            await download_url(server.url, tmp_path / "a", part_size=PART, config=cfg)
        http = HttpSession()
        try:
            report = await download_many(
                http, [DownloadItem(server.url, tmp_path / "b")], part_size=PART, config=cfg
            )
        finally:
            await http.close()
    assert isinstance(report.failed[0].error, errors.TransferStalledError)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


async def test_a_healthy_download_is_not_touched_by_the_deadlines(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(DATA) as server:
        result = await download(
            http,
            server.url,
            tmp_path / "f",
            part_size=PART,
            config=config(total_timeout=30.0, **STALL),
        )
    assert (tmp_path / "f").read_bytes() == DATA and result.crc32c == crc32c(DATA)


async def test_deadlines_reach_px_downloads(pixop_emulator: EmulatorServer, tmp_path: Path) -> None:
    video = ingested_video(pixop_emulator, DATA)
    controls(pixop_emulator).rate_limit = 5_000  # bytes per second and connection
    async with Pixop(
        pixop_emulator.api_key,
        base_url=pixop_emulator.base_url,
        transfer=config(part_size=PART, **STALL),
    ) as px:
        with pytest.raises(errors.TransferStalledError):
            await px.downloads.download(video["id"], tmp_path / "v.mp4")
    # nothing published; what arrived stays beside it for a resume
    assert all(n.endswith((".pixop-part", ".journal")) for n in leftovers(tmp_path))


# -- uploads ---------------------------------------------------------------------------


async def test_an_upload_to_a_server_that_never_reads_stalls(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(32 * 1024 * KiB))
    release = asyncio.Event()

    async def never_reads(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    app = web.Application(client_max_size=1024**3)
    app.router.add_post("/up", never_reads)
    async with serve(app) as root:
        http = HttpSession()
        try:
            with pytest.raises(errors.TransferStalledError):
                await upload_file(http, root + "/up", source, config=config(**STALL))
        finally:
            release.set()
            await http.close()


async def test_a_server_thinking_after_the_whole_upload_is_not_a_stall(tmp_path: Path) -> None:
    source = tmp_path / "small.bin"
    source.write_bytes(DATA)

    async def slow_answer(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(1.0)  # longer than the stall window, after every byte arrived
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/up", slow_answer)
    async with serve(app) as root:
        http = HttpSession()
        try:
            result = await upload_file(http, root + "/up", source, config=config(**STALL))
        finally:
            await http.close()
    assert result.json() == {"ok": True} and result.crc32c == crc32c(DATA)


async def test_uploading_a_directory_fails_before_any_request(tmp_path: Path) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response()

    app = web.Application()
    app.router.add_post("/up", handler)
    async with serve(app) as root:
        http = HttpSession()
        try:
            with pytest.raises(errors.InvalidRequestError, match="regular file"):
                await upload_file(http, root + "/up", tmp_path, config=config())
        finally:
            await http.close()
    assert seen == []


# -- file descriptors (issue 16) ----------------------------------------------------------


async def test_download_many_fits_in_the_file_descriptors_left(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    cfg = config(max_concurrent_files=64, max_connections=256, max_connections_per_transfer=16)
    async with store(DATA, drip=16 * KiB, drip_delay=0.002) as server:
        items = [DownloadItem(server.url, tmp_path / f"f{i}") for i in range(40)]
        http = HttpSession()
        resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 100, hard))
        try:
            report = await download_many(
                http, items, connections=16, part_size=16 * KiB, config=cfg
            )
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            await http.close()
    assert report.summary() == "40 done, 0 skipped, 0 failed", [
        str(r.error) for r in report.failed
    ][:3]
    assert all((tmp_path / f"f{i}").read_bytes() == DATA for i in range(40))

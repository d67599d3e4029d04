"""Hostile stores against the segment engine (found by a breaker; real servers)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from pixop_async._session import HttpSession
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from tests.servers import serve

from .download_helpers import KiB, config, http, leftovers
from .integrity_server import Store, store
from .test_download_kill import CHILD

__all__ = ["http"]

PART = 64 * KiB
DATA = os.urandom(8 * PART + 123)


async def test_a_replacement_of_another_size_behind_an_ignored_pin_restarts(
    http: HttpSession, tmp_path: Path
) -> None:
    # The store ignores If-Match/If-Range and the object is replaced by a bigger one after
    # the first request: the segment answers carry the new ETag *and* a new total. That is
    # another version (start over on it), not a lying Content-Range (a fatal error).
    new = os.urandom(len(DATA) + PART + 7)

    def replace_on_second(server: Store, count: int) -> None:
        if count == 1:
            server.replace(new, '"v2"', None)

    async with store(DATA, honour_preconditions=False) as server:
        server.before = replace_on_second
        result = await download(
            http, server.url, tmp_path / "f", connections=4, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == new
    assert result.etag == '"v2"' and result.size == len(new) and result.crc32c == crc32c(new)
    assert leftovers(tmp_path) == ["f"]


async def test_a_store_answering_every_pinned_range_with_the_whole_object_falls_back_to_one_stream(
    http: HttpSession, tmp_path: Path
) -> None:
    # Pinned by date only, and the store never evaluates If-Range with a date (RFC 9110
    # lets it refuse a date that is not a strong validator): every segment request gets the
    # whole, unchanged object with 200. The version did not change, so "the object kept
    # changing" is wrong; the object comes in one plain stream instead, exact.
    modified = "Wed, 21 Oct 2015 07:28:00 GMT"
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        headers = {"Last-Modified": modified}
        header = request.headers.get("Range")
        if header is None or "If-Range" in request.headers:
            return web.Response(body=DATA, headers=headers)
        start = int(header[6:].partition("-")[0])
        headers["Content-Range"] = f"bytes {start}-{len(DATA) - 1}/{len(DATA)}"
        return web.Response(status=206, body=DATA[start:], headers=headers)

    app = web.Application()
    app.router.add_get("/f", handle)
    async with serve(app) as base:
        result = await download(
            http, base + "/f", tmp_path / "f", connections=4, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == DATA and result.crc32c == crc32c(DATA)
    assert result.pinned is None  # one stream: nothing could be resumed
    plain = [h for h in seen if "Range" not in h]
    assert len(plain) == 1  # the fallback: exactly one plain request, after the refusal
    assert leftovers(tmp_path) == ["f"]


async def test_a_whole_object_of_another_version_to_a_pinned_range_still_restarts(
    http: HttpSession, tmp_path: Path
) -> None:
    # the fallback above is only for the pinned version itself: a 200 carrying another
    # ETag (the store honours If-Range, not If-Match) is a replaced object, and the
    # download starts over on it, ranged again
    new = os.urandom(len(DATA))
    current = {"data": DATA, "etag": '"v1"'}
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        if len(seen) == 2:  # replaced right after the first request
            current.update(data=new, etag='"v2"')
        data, etag = current["data"], current["etag"]
        header = request.headers.get("Range")
        if header is None or request.headers.get("If-Range", etag) != etag:
            return web.Response(body=data, headers={"ETag": etag})
        first, _, last = header[6:].partition("-")
        start, end = int(first), int(last or len(data) - 1)
        headers = {"ETag": etag, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
        return web.Response(status=206, body=data[start : end + 1], headers=headers)

    app = web.Application()
    app.router.add_get("/f", handle)
    async with serve(app) as base:
        result = await download(
            http, base + "/f", tmp_path / "f", connections=4, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == new and result.pinned == "etag"
    assert result.etag == '"v2"' and result.crc32c == crc32c(new)
    assert all("Range" in h for h in seen)  # never the one-stream fallback
    assert leftovers(tmp_path) == ["f"]


async def _kill_when(child: asyncio.subprocess.Process, target: Target, done: int) -> None:
    """``kill -9`` the child once its journal lists at least ``done`` finished parts."""
    try:
        for _ in range(3000):
            await asyncio.sleep(0.01)
            saved = jr.load(target.journal)
            if saved is not None and len(saved.done) >= done:
                break
        assert child.returncode is None, "the child finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        assert await child.wait() == -signal.SIGKILL
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def test_three_kills_in_a_row_and_a_tampered_part_then_resume_is_exact(
    http: HttpSession, tmp_path: Path
) -> None:
    # Segments split and journaled as parts: killed three times at growing progress, one
    # finished part then damaged on disk; the resume refetches exactly what is missing or
    # damaged, and publishes the exact bytes.
    data = os.urandom(24 * PART + 5)
    dest = tmp_path / "f"
    target = Target.for_path(dest)
    async with store(data, drip=8 * KiB, drip_delay=0.02) as server:
        for done in (2, 6, 10):
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD, server.url, str(dest), "4", str(PART)
            )
            await _kill_when(child, target, done)
            assert not dest.exists()
        saved = jr.load(target.journal)
        assert saved is not None and len(saved.done) >= 10
        damaged = sorted(saved.done)[3]
        with open(target.temp, "r+b") as handle:
            handle.seek(damaged * PART + 7)
            byte = handle.read(1)
            handle.seek(damaged * PART + 7)
            handle.write(bytes([byte[0] ^ 0xFF]))
        kept = (len(saved.done) - 1) * PART + sum(w for w, _ in saved.partial.values())
        server.drip = 0
        result = await download(
            http, server.url, dest, connections=4, part_size=PART,
            expected_crc32c=crc32c(data), config=config(),
        )  # fmt: skip
    assert dest.read_bytes() == data and result.crc32c == crc32c(data)
    assert result.bytes_fetched == len(data) - kept  # the damaged part, and nothing kept
    assert leftovers(tmp_path) == ["f"]


async def test_a_416_showing_a_shorter_replacement_behind_an_ignored_pin_restarts(
    http: HttpSession, tmp_path: Path
) -> None:
    # The store ignores If-Match/If-Range; the object is replaced by a much shorter one
    # after the first request, so the later segments start past its end: 416 with
    # "bytes */<new size>". Another version (restart on it), not a fatal HTTP 416.
    new = os.urandom(PART + 11)
    current = {"data": DATA, "etag": '"v1"'}
    seen: list[str | None] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Range"))
        if len(seen) == 2:
            current.update(data=new, etag='"v2"')
        data, etag = current["data"], current["etag"]
        first, _, last = request.headers["Range"][6:].partition("-")
        start, end = int(first), min(int(last or len(data) - 1), len(data) - 1)
        if start >= len(data):
            headers = {"ETag": etag, "Content-Range": f"bytes */{len(data)}"}
            return web.Response(status=416, headers=headers)
        headers = {"ETag": etag, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
        return web.Response(status=206, body=data[start : end + 1], headers=headers)

    app = web.Application()
    app.router.add_get("/f", handle)
    async with serve(app) as base:
        result = await download(
            http, base + "/f", tmp_path / "f", connections=4, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == new
    assert result.etag == '"v2"' and result.size == len(new) and result.crc32c == crc32c(new)
    assert leftovers(tmp_path) == ["f"]

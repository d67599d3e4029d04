"""Hostile stores against the segment engine (found by a breaker; real servers)."""

from __future__ import annotations

import os
from pathlib import Path

from aiohttp import web

from pixop_async._session import HttpSession
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from tests.servers import serve

from .download_helpers import KiB, config, http, leftovers
from .integrity_server import Store, store

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

"""Breaker b17d: the caller headers of downloads. Engine headers are refused in every
spelling and through every entry point, before any request; the caller's own headers go
out on every request, once each (an item's header replaces the shared one whatever its
case)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from multidict import CIMultiDict

from pixop_async._session import HttpSession
from pixop_async.errors import InvalidRequestError
from pixop_async.transfer import quick
from pixop_async.transfer.bulk import DownloadItem, ItemStatus, download_many
from pixop_async.transfer.download import download
from pixop_async.transfer.options import checked_download_options
from tests.servers import serve

from .download_helpers import KiB, config, http

__all__ = ["http"]

UNREACHABLE = "http://127.0.0.1:9/video.mp4"
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@attrs.define
class Recorder:
    data: bytes
    url: str = ""
    #: every request's headers, every value of every name (duplicates kept)
    seen: list[list[tuple[str, str]]] = attrs.Factory(list)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(list(request.headers.items()))
        match = _RANGE.match(request.headers.get("Range", ""))
        size = len(self.data)
        if match is None:
            return web.Response(body=self.data, headers={"ETag": '"v1"'})
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        return web.Response(
            status=206,
            body=self.data[start : end + 1],
            headers={"ETag": '"v1"', "Content-Range": f"bytes {start}-{end}/{size}"},
        )

    def values(self, name: str) -> list[list[str]]:
        return [[v for k, v in one if k.lower() == name.lower()] for one in self.seen]


@asynccontextmanager
async def recorder(data: bytes) -> AsyncIterator[Recorder]:
    state = Recorder(data)
    app = web.Application()
    app.router.add_route("GET", "/o/{name}", state.handle)
    async with serve(app) as root:
        state.url = root + "/o/clip.bin"
        yield state


@pytest.mark.parametrize(
    "headers",
    [
        {"Range\n": "bytes=0-1"},
        {"X-Trace\n": "1"},
        {"rAnGe": "bytes=0-1"},
        CIMultiDict([("X-Ok", "1"), ("RANGE", "bytes=0-1")]),
        {1: "x"},
        {b"Range": "bytes=0-1"},
        {" Range": "bytes=0-1"},
        {"Range ": "bytes=0-1"},
    ],
    ids=["range-newline", "newline", "mixed-case", "cimultidict", "int", "bytes", "lead", "trail"],
)
async def test_hostile_header_names_are_refused_before_any_request(
    http: HttpSession, tmp_path: Path, headers: Any
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await download(http, UNREACHABLE, tmp_path / "f", headers=headers)
    assert caught.value.field == "headers"
    assert os.listdir(tmp_path) == []
    with pytest.raises(InvalidRequestError):
        checked_download_options({"headers": headers})


async def test_quick_download_url_refuses_engine_headers_through_its_option_check(
    tmp_path: Path,
) -> None:
    """The option check that every facade (quick, legacy) runs first already names the
    engine rule, so no facade can make a request (a login, an API call) before it."""
    with pytest.raises(InvalidRequestError, match="set by the download engine"):
        checked_download_options({"headers": {"If-Range": '"v1"'}})
    with pytest.raises(InvalidRequestError, match="set by the download engine") as caught:
        await quick.download_url(UNREACHABLE, tmp_path / "f", headers={"range": "bytes=0-"})
    assert caught.value.field == "headers"
    assert os.listdir(tmp_path) == []


async def test_caller_headers_go_out_once_on_every_request(
    http: HttpSession, tmp_path: Path
) -> None:
    data = os.urandom(300 * KiB)
    async with recorder(data) as server:
        result = await download(
            http,
            server.url,
            tmp_path / "f.bin",
            connections=4,
            part_size=64 * KiB,
            config=config(),
            headers=CIMultiDict({"Authorization": "Bearer storage", "X-Trace": "t1"}),
        )
        assert (tmp_path / "f.bin").read_bytes() == data
        assert result.size == len(data)
        assert len(server.seen) >= 4  # a probe and several ranges
        assert server.values("Authorization") == [["Bearer storage"]] * len(server.seen)
        assert server.values("X-Trace") == [["t1"]] * len(server.seen)


async def test_an_items_header_replaces_the_shared_one_whatever_its_case(
    http: HttpSession, tmp_path: Path
) -> None:
    data = os.urandom(200 * KiB)
    async with recorder(data) as server:
        item = DownloadItem(
            server.url, tmp_path / "a.bin", headers={"authorization": "Bearer item"}
        )
        report = await download_many(
            http,
            [item],
            headers={"Authorization": "Bearer shared", "X-Trace": "t"},
            part_size=64 * KiB,
            connections=3,
            config=config(),
        )
        assert [r.status for r in report.items] == [ItemStatus.DONE]
        assert (tmp_path / "a.bin").read_bytes() == data
        assert len(server.seen) >= 3
        # one Authorization per request, the item's: never the shared one beside it
        assert server.values("Authorization") == [["Bearer item"]] * len(server.seen)
        assert server.values("X-Trace") == [["t"]] * len(server.seen)


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "HOST", "Connection"])
async def test_framing_headers_are_refused_before_any_request(
    http: HttpSession, tmp_path: Path, name: str
) -> None:
    """A caller's ``Content-Length: 5`` on a ranged GET made the server read the next
    request on the connection as its body (400 'Invalid method'); ``Transfer-Encoding``
    stalled every request. Framing belongs to the HTTP layer, as for ``extra_headers``."""
    with pytest.raises(InvalidRequestError) as caught:
        await download(http, UNREACHABLE, tmp_path / "f", headers={name: "5"})
    assert caught.value.field == "headers" and repr(name) in str(caught.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "headers",
    [{"Content-Length": "5"}, {"content-type": "text/plain"}, {"X-Trace\n": "1"}, {"X": 1}],
    ids=["content-length", "content-type", "newline-name", "int-value"],
)
async def test_upload_headers_are_checked_before_any_request(
    http: HttpSession, tmp_path: Path, headers: Any
) -> None:
    from pixop_async.transfer.upload import upload_file

    path = tmp_path / "clip.bin"
    path.write_bytes(b"x" * 100)
    with pytest.raises(InvalidRequestError) as caught:
        await upload_file(http, UNREACHABLE, path, headers=headers)
    assert caught.value.field == "headers"


async def test_upload_headers_go_out_and_the_engine_sets_the_framing(
    http: HttpSession, tmp_path: Path
) -> None:
    from pixop_async.transfer.upload import upload_file

    seen: list[tuple[list[tuple[str, str]], int]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((list(request.headers.items()), len(body)))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/up", handle)
    path = tmp_path / "clip.bin"
    path.write_bytes(os.urandom(10_000))
    async with serve(app) as root:
        await upload_file(http, root + "/up", path, headers={"X-Trace": "t", "Accept": "*/*"})
    [(headers, length)] = seen
    names = [k.lower() for k, _ in headers]
    assert names.count("content-length") == 1 and names.count("content-type") == 1
    assert dict(headers)["X-Trace"] == "t" and length > 10_000

"""Streaming multipart uploads against a local aiohttp server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio
from aiohttp import web

from pixop_async._session import HttpSession
from pixop_async.errors import APIConnectionError, ServerError
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.upload import upload_file

from .download_helpers import KiB, config, http

__all__ = ["http"]


@attrs.define
class Receiver:
    """Stores what arrives; ``fail`` holds statuses to answer before accepting."""

    base: str = ""
    fail: list[int] = attrs.field(factory=list)
    requests: int = 0
    headers: list[dict[str, str]] = attrs.field(factory=list)


RECEIVER = web.AppKey("receiver", Receiver)


async def _receive(request: web.Request) -> web.Response:
    receiver = request.app[RECEIVER]
    receiver.requests += 1
    receiver.headers.append(dict(request.headers))
    if receiver.fail:
        status = receiver.fail.pop(0)
        await request.read()
        return web.json_response({"message": "try later"}, status=status)
    reader = await request.multipart()
    fields: dict[str, Any] = {}
    async for part in reader:
        if part.filename:  # type: ignore[union-attr]
            data = await part.read()  # type: ignore[union-attr]
            fields["file"] = {
                "name": part.filename,  # type: ignore[union-attr]
                "size": len(data),
                "crc": crc32c(bytes(data)),
                "type": part.headers.get("Content-Type"),
            }
        else:
            fields[part.name or ""] = await part.text()  # type: ignore[union-attr]
    return web.json_response(fields, status=201)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application(client_max_size=64 * 1024 * KiB)
    state = Receiver()
    app[RECEIVER] = state
    app.router.add_route("*", "/upload", _receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.base = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


async def test_upload_streams_file_and_fields(
    receiver: Receiver, http: HttpSession, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * KiB + 5)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    seen: list[int] = []
    result = await upload_file(
        http,
        receiver.base + "/upload",
        path,
        fields={"title": "Hello wörld", "project": "p1"},
        progress=lambda done, total: seen.append(done),
        config=config(),
    )
    assert result.status == 201
    body = result.json()
    assert body["title"] == "Hello wörld"
    assert body["project"] == "p1"
    assert body["file"] == {
        "name": "clip.mp4",
        "size": len(data),
        "crc": crc32c(data),
        "type": "video/mp4",
    }
    assert result.crc32c == crc32c(data)
    assert result.size == len(data)
    assert seen[-1] == len(data)
    sent = receiver.headers[0]
    assert "chunked" not in sent.get("Transfer-Encoding", "")
    assert int(sent["Content-Length"]) > len(data)


async def test_post_failure_is_not_retried(
    receiver: Receiver, http: HttpSession, tmp_path: Path
) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(os.urandom(100 * KiB))
    receiver.fail = [503]
    with pytest.raises(ServerError):
        await upload_file(http, receiver.base + "/upload", path, config=config())
    assert receiver.requests == 1  # the POST reached the server: not safe to repeat


async def test_put_is_retried_and_progress_rolls_back(
    receiver: Receiver, http: HttpSession, tmp_path: Path
) -> None:
    data = os.urandom(200 * KiB)
    path = tmp_path / "a.bin"
    path.write_bytes(data)
    receiver.fail = [503, 502]
    seen: list[int] = []
    result = await upload_file(
        http,
        receiver.base + "/upload",
        path,
        method="PUT",
        progress=lambda done, total: seen.append(done),
        config=config(),
    )
    assert receiver.requests == 3
    assert result.json()["file"]["crc"] == crc32c(data)
    assert max(seen) <= len(data)
    assert seen[-1] == len(data)


async def test_unreachable_server_is_a_connection_error(http: HttpSession, tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x")
    with pytest.raises(APIConnectionError) as caught:
        await upload_file(http, "http://127.0.0.1:9/upload", path, config=config())
    assert not caught.value.request_sent

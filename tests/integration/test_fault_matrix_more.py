"""The fault matrix for plain API calls, uploads and legacy (JWT) transfers.

API rows use the emulator's fault injection (``server.faults``) in front of real routes;
retries sleep through a recorder, so a ``Retry-After: 7`` costs no wall time yet is
asserted. Upload rows use a small receiver that can fail, reset mid-body or stall; the
bytes that arrive are checked with CRC32C. Every row ends in the right answer or in the
typed error it names, with the number of attempts the retry rules allow.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio
from aiohttp import web

from pixop_async import ClientConfig, Pixop, RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer, Fault
from pixop_async.emulator.legacy import legacy_store
from pixop_async.emulator.media import MediaFault, media_controls
from pixop_async.transfer import TransferConfig, crc32c_file
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.upload import upload_file
from tests.integration.legacy_helpers import legacy_client
from tests.servers import serve

from .download_helpers import KiB, config

# -- plain API calls -------------------------------------------------------------------


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


Call = Callable[[Pixop], Awaitable[Any]]


async def _account(px: Pixop) -> Any:
    return await px.account.get()


async def _projects(px: Pixop) -> Any:
    return await px.projects.list()


async def _create_project(px: Pixop) -> Any:
    return await px.projects.create("matrix")


@attrs.frozen
class ApiCase:
    id: str
    call: Call
    faults: list[Fault]
    error: type[errors.PixopError] | None = None
    attempts: int = 1  # requests the client makes (faults hit + the final one)
    min_sleep: float = 0.0  # the largest recorded retry delay is at least this
    read_timeout: float | None = None
    #: retry sleeps, when not one per failed attempt: aiohttp itself re-sends an idempotent
    #: request once when a reused keep-alive connection turns out dead (RFC 9112 9.3.1)
    sleeps: int | None = None


ACCOUNT = "/api/v1/account$"
PROJECTS = "/api/v1/projects$"
API_CASES = [
    ApiCase("500-burst", _account, [Fault(status=500, times=3, path=ACCOUNT)], attempts=4),
    ApiCase("502-html-burst", _account, [Fault(status=502, html=True, times=2, path=ACCOUNT)],
            attempts=3),
    ApiCase("503-burst", _projects, [Fault(status=503, times=3, path=PROJECTS)], attempts=4),
    ApiCase("504-burst", _account, [Fault(status=504, times=1, path=ACCOUNT)], attempts=2),
    ApiCase("429-retry-after", _account,
            [Fault(status=429, path=ACCOUNT, headers={"Retry-After": "7"})],
            attempts=2, min_sleep=7.0),
    ApiCase("429-ratelimit-reset", _account,
            [Fault(status=429, path=ACCOUNT,
                   headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4"})],
            attempts=2, min_sleep=4.0),
    ApiCase("reset-before-answer", _projects, [Fault(reset=True, times=2, path=PROJECTS)],
            attempts=3, sleeps=1),
    ApiCase("stall-then-answer", _account, [Fault(delay=2.0, path=ACCOUNT)], attempts=2,
            read_timeout=0.3),
    # failures
    ApiCase("endless-503", _account, [Fault(status=503, times=50, path=ACCOUNT)],
            error=errors.ServerError, attempts=4),
    ApiCase("endless-429", _account,
            [Fault(status=429, times=50, path=ACCOUNT, headers={"Retry-After": "1"})],
            error=errors.RateLimitError, attempts=4),
    ApiCase("429-asks-too-long", _account,
            [Fault(status=429, path=ACCOUNT, headers={"Retry-After": "86400"})],
            error=errors.RateLimitError, attempts=1),
    ApiCase("endless-stall", _account, [Fault(delay=2.0, times=50, path=ACCOUNT)],
            error=errors.APITimeoutError, attempts=4, read_timeout=0.2),
    ApiCase("post-503-not-repeated", _create_project,
            [Fault(status=503, times=5, path=PROJECTS, method="POST")],
            error=errors.ServerError, attempts=1),
    ApiCase("post-reset-not-repeated", _create_project,
            [Fault(reset=True, times=5, path=PROJECTS, method="POST")],
            error=errors.APIConnectionError, attempts=1),
]  # fmt: skip


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
async def test_api_fault_matrix(pixop_emulator: EmulatorServer, case: ApiCase) -> None:
    config = ClientConfig(read_timeout=case.read_timeout or 60.0, retry=RetryPolicy())
    sleeps = Sleeps()
    async with Pixop(pixop_emulator.api_key, base_url=pixop_emulator.base_url, config=config) as px:
        px.http._sleep = sleeps
        projects_before = (await px.projects.list()).total_elements
        hits_before = pixop_emulator.faults.hits
        for fault in case.faults:
            pixop_emulator.faults.add(fault)
        if case.error is None:
            assert await case.call(px) is not None
        else:
            with pytest.raises(case.error) as raised:
                await case.call(px)
            assert raised.value.attempts == case.attempts  # type: ignore[attr-defined]
            assert pixop_emulator.api_key not in str(raised.value)
            assert pixop_emulator.api_key not in repr(raised.value)
        pixop_emulator.faults.clear()
        hits = pixop_emulator.faults.hits - hits_before
        assert hits == (case.attempts if case.error else case.attempts - 1)
        wanted = case.sleeps if case.sleeps is not None else case.attempts - 1
        assert len(sleeps.delays) == wanted
        if case.min_sleep:
            assert max(sleeps.delays) >= case.min_sleep
        if case.call is _create_project and case.error is not None:
            assert (await px.projects.list()).total_elements == projects_before


# -- uploads ---------------------------------------------------------------------------


@attrs.define
class Receiver:
    """Receives uploads; queued ``actions`` misbehave before one succeeds."""

    url: str = ""
    actions: list[tuple[str, Any]] = attrs.Factory(list)  # ("status", (code, headers)) ...
    requests: int = 0
    stored: list[int] = attrs.Factory(list)  # CRC32C of each complete file received

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        action, arg = self.actions.pop(0) if self.actions else ("accept", None)
        if action == "status":
            await request.read()
            status, headers = arg
            return web.json_response({"message": "not now"}, status=status, headers=headers)
        if action == "reset":  # read part of the body, then drop the connection
            await request.content.readexactly(arg)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if action == "stall":
            await request.read()
            await asyncio.sleep(arg)
            return web.json_response({"late": True})
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "filename", None):
                data = await part.read()  # type: ignore[union-attr]
                self.stored.append(crc32c(bytes(data)))
        return web.json_response({"ok": True}, status=201)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application(client_max_size=16 * 1024 * KiB)
    app.router.add_route("*", "/up", state.handle)
    async with serve(app) as root:
        state.url = root + "/up"
        yield state


@attrs.frozen
class UploadCase:
    id: str
    method: str
    actions: list[tuple[str, Any]]
    error: type[errors.PixopError] | None = None
    requests: int = 1  # requests the server sees (at least, when the upload succeeds)


UPLOAD_CASES = [
    UploadCase("put-500-burst", "PUT", [("status", (500, {}))] * 2, requests=3),
    UploadCase("put-502-503-504", "PUT",
               [("status", (502, {})), ("status", (503, {})), ("status", (504, {}))], requests=4),
    UploadCase("put-429-retry-after", "PUT", [("status", (429, {"Retry-After": "0.05"}))],
               requests=2),
    UploadCase("put-reset-mid-body", "PUT", [("reset", 300 * KiB)], requests=2),
    UploadCase("put-stall", "PUT", [("stall", 2.0)], requests=2),
    UploadCase("put-endless-503", "PUT", [("status", (503, {}))] * 20, error=errors.ServerError,
               requests=4),
    UploadCase("post-503-not-repeated", "POST", [("status", (503, {}))],
               error=errors.ServerError),
    UploadCase("post-reset-not-repeated", "POST", [("reset", 300 * KiB)],
               error=errors.APIConnectionError),
]  # fmt: skip


@pytest.mark.parametrize("case", UPLOAD_CASES, ids=[c.id for c in UPLOAD_CASES])
async def test_upload_fault_matrix(receiver: Receiver, tmp_path: Path, case: UploadCase) -> None:
    data = os.urandom(1024 * KiB + 3)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    receiver.actions = list(case.actions)
    http = HttpSession(ClientConfig(read_timeout=0.4))
    try:
        run = upload_file(http, receiver.url, path, method=case.method, config=config())
        if case.error is None:
            result = await run
            assert result.status == 201
            assert result.crc32c == crc32c(data)
            assert receiver.stored == [crc32c(data)]  # exactly the bytes, exactly once
        else:
            with pytest.raises(case.error) as raised:
                await run
            assert raised.value.attempts == case.requests  # type: ignore[attr-defined]
            assert receiver.stored == []
    finally:
        await http.close()
    if case.error is None:
        # a broken PUT may also be replayed by aiohttp once; the replay is refused before
        # any body byte goes out (a half-read stream must never be sent from its middle)
        assert receiver.requests >= case.requests
    else:
        assert receiver.requests == case.requests
    assert path.read_bytes() == data  # the source is never touched


# -- legacy: the JWT expires in the middle of a transfer -------------------------------


async def test_jwt_expiring_mid_download_refreshes_once_and_resumes(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    store = legacy_store(pixop_emulator.app)
    transfer = TransferConfig(
        part_size=64 * KiB, buffer_size=64 * KiB, fsync=False, progress_interval=0
    )
    data = os.urandom(1024 * KiB + 11)
    source = tmp_path / "master.mp4"
    source.write_bytes(data)
    async with legacy_client(pixop_emulator, transfer=transfer) as legacy:
        created = await legacy.videos.create(name="jwt")
        await legacy.media.upload(created.video_id, source)
        refreshes = legacy.jwt_auth.refresh_count
        expired = False

        def expire_halfway(done: int, total: int | None) -> None:
            nonlocal expired
            if not expired and total and done >= total // 2:
                expired = True  # the server now refuses the held token
                pixop_emulator.state.clock.advance(pixop_emulator.config.jwt_lifetime_seconds + 60)

        # one long request per connection: the token is checked again when the stream,
        # broken near its end, is resumed by a second request
        media_controls(pixop_emulator.app).add(MediaFault("reset", at=len(data) - 100))
        result = await legacy.media.download_original(
            created.video_id, tmp_path / "copy.mp4", connections=1, progress=expire_halfway
        )
    assert expired
    assert (tmp_path / "copy.mp4").read_bytes() == data
    assert result.crc32c == await crc32c_file(source)
    assert store.rejections["ExpiredJWTTokenException"] >= 1
    assert legacy.jwt_auth.refresh_count == refreshes + 1  # one refresh, not one per part
    assert result.bytes_fetched < len(data)  # the replay resumed from the journal
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.mp4", "master.mp4"]

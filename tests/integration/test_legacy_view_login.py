"""The legacy login a client view triggers is one of the view's API calls: its timeout,
retry policy and extras apply to it; the client and other views are unaffected."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from pixop_async import PixopLegacy, RetryPolicy
from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.faults import Fault
from pixop_async.errors import APITimeoutError, ServerError
from pixop_async.transfer import TransferConfig

from ..servers import serve
from .legacy_helpers import legacy_client

TOKEN = "/accounts/v1/token"
QUICK = RetryPolicy(max_attempts=3, base_delay=0, max_delay=0)


async def test_view_timeout_bounds_the_login_its_call_triggers(
    pixop_emulator: EmulatorServer,
) -> None:
    # the login stalls 30 s: the view's 0.5 s bound must end the call, login included
    pixop_emulator.faults.add(Fault(delay=30, path=TOKEN, method="GET"))
    async with legacy_client(pixop_emulator) as legacy:
        view = legacy.with_options(timeout=0.5)
        with pytest.raises(APITimeoutError, match=r"within 0\.5 s") as caught:
            await asyncio.wait_for(view.accounts.get(), 20)
        assert legacy.jwt_auth.refresh_count == 0
        assert pixop_emulator.password not in str(caught.value)
        # the client itself, without a bound, logs in (the stalled attempt is gone) and works
        account = await asyncio.wait_for(legacy.accounts.get(), 20)
        assert account.user.email == pixop_emulator.email
        assert legacy.jwt_auth.refresh_count == 1


async def test_default_client_is_not_bound_by_a_view_timeout(
    pixop_emulator: EmulatorServer,
) -> None:
    # two slow logins (1 s each): the view gives up on its own, the client waits them out
    pixop_emulator.faults.add(Fault(delay=1.0, times=2, path=TOKEN, method="GET"))
    async with legacy_client(pixop_emulator) as legacy:
        view = legacy.with_options(timeout=0.2)
        with pytest.raises(APITimeoutError, match=r"within 0\.2 s"):
            await view.accounts.get()
        account = await asyncio.wait_for(legacy.accounts.get(), 20)
        assert account.user.email == pixop_emulator.email
        # the token the client fetched serves the view too: no second login
        await view.accounts.get()
        assert legacy.jwt_auth.refresh_count == 1
        token = await legacy.jwt_auth.token()
        for shown in (repr(view), repr(view._session_auth), repr(view.options)):
            assert token not in shown and pixop_emulator.password not in shown


async def test_view_timeout_bounds_a_login_its_transfer_triggers(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = tmp_path / "clip.mov"
    source.write_bytes(os.urandom(200_000))
    async with legacy_client(
        pixop_emulator, transfer=TransferConfig(part_size=64 * 1024, fsync=False)
    ) as legacy:
        created = await legacy.videos.create(name="clip")
        await legacy.media.upload(created.video_id, source)
        legacy.jwt_auth.invalidate()  # the next call logs in again
        pixop_emulator.faults.add(Fault(delay=30, path=TOKEN, method="GET"))
        view = legacy.with_options(timeout=0.5)
        # the stalled login is given up after the view's 0.5 s (not the client's unbounded
        # default); the transfer then retries its part under its own TransferConfig rules,
        # and the next login answers at once
        result = await asyncio.wait_for(
            view.media.download_original(created.video_id, tmp_path / "copy.mov"), 15
        )
        assert result.path.read_bytes() == source.read_bytes()
        assert legacy.jwt_auth.refresh_count == 2  # the upload's login and the retried one


async def test_view_retry_policy_governs_its_login(pixop_emulator: EmulatorServer) -> None:
    pixop_emulator.faults.add(Fault(status=503, times=1, path=TOKEN, method="GET"))
    async with legacy_client(pixop_emulator) as legacy:
        strict = legacy.with_options(retry=RetryPolicy.disabled())
        with pytest.raises(ServerError) as caught:
            await strict.accounts.get()
        assert caught.value.status == 503
        assert legacy.jwt_auth.refresh_count == 0
        # a patient view retries the same failure through to a token
        pixop_emulator.faults.add(Fault(status=503, times=2, path=TOKEN, method="GET"))
        patient = legacy.with_options(retry=QUICK)
        account = await patient.accounts.get()
        assert account.user.email == pixop_emulator.email
        assert legacy.jwt_auth.refresh_count == 1


class Relay:
    """Forwards every request to the emulator and records what arrived."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.seen: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
        self.session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.method, request.path, dict(request.headers), dict(request.query)))
        assert self.session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self.session.request(
            request.method,
            self.target + request.path_qs,
            headers=headers,
            data=await request.read(),
        ) as answer:
            body = await answer.read()
            kept = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in {"content-length", "transfer-encoding", "content-encoding"}
            }
            return web.Response(status=answer.status, body=body, headers=kept)


@pytest.fixture
async def relay(pixop_emulator: EmulatorServer) -> AsyncIterator[tuple[Relay, str]]:
    rec = Relay(pixop_emulator.root_url)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    async with aiohttp.ClientSession(auto_decompress=False) as session, serve(app) as url:
        rec.session = session
        yield rec, url


async def test_view_extras_go_with_its_login(
    pixop_emulator: EmulatorServer, relay: tuple[Relay, str]
) -> None:
    rec, url = relay
    async with PixopLegacy(
        email=pixop_emulator.email, password=pixop_emulator.password, base_url=url
    ) as legacy:
        view = legacy.with_options(extra_headers={"X-Trace": "job-7"}, extra_query={"tag": "a"})
        await view.accounts.get()
        assert [(m, p) for m, p, _, _ in rec.seen] == [
            ("GET", TOKEN),
            ("GET", "/accounts/v1/account"),
        ]
        for _, _, headers, query in rec.seen:
            assert headers.get("X-Trace") == "job-7"
            assert query.get("tag") == "a"
        login_auth = rec.seen[0][2]["Authorization"]
        assert login_auth.startswith("Basic ")  # the client's credentials, not replaceable
        # the client itself logs in with no extras (its token is the view's: invalidate it)
        legacy.jwt_auth.invalidate()
        await legacy.accounts.get()
        method, path, headers, query = rec.seen[2]
        assert (method, path) == ("GET", TOKEN)
        assert "X-Trace" not in headers and "tag" not in query

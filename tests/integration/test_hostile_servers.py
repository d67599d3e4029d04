"""What the session layer does when a server misbehaves."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from pixop_async import ClientConfig, Pixop, RetryPolicy, errors
from tests.payloads import account_json
from tests.servers import serve

KEY = "pxk_hostile_test_secret"
ACCOUNT = account_json("e@x")


def _recording_app(seen: list[dict[str, str]]) -> web.Application:
    async def account(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response(ACCOUNT)

    app = web.Application()
    app.router.add_get("/api/v1/account", account)
    return app


async def test_redirect_to_other_host_drops_credentials() -> None:
    seen: list[dict[str, str]] = []
    async with serve(_recording_app(seen), host="127.0.0.2") as other:

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(other + "/api/v1/account")

        first = web.Application()
        first.router.add_get("/api/v1/account", redirect)
        async with serve(first) as origin, Pixop(KEY, base_url=origin + "/api") as px:
            account = await px.account.get()
    assert account.user.email == "e@x"
    assert len(seen) == 1
    lowered = {k.lower() for k in seen[0]}
    assert "x-api-key" not in lowered
    assert "authorization" not in lowered and "cookie" not in lowered


async def test_same_origin_redirect_keeps_credentials() -> None:
    seen: list[dict[str, str]] = []
    app = _recording_app(seen)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/api/v1/account")

    app.router.add_get("/api/v1/old-account", moved)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api") as px:
        response = await px._request("GET", "/v1/old-account")
    assert response.status == 200
    assert seen[0]["X-API-Key"] == KEY


async def test_endless_error_body_is_read_with_a_cap() -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=500, headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"x" * 65536
        for _ in range(10_000):  # 640 MB if anyone read it all; bounded so the test ends
            await response.write(chunk)
        return response

    app = web.Application()
    app.router.add_get("/api/v1/account", endless)
    config = ClientConfig(retry=RetryPolicy.disabled(), max_error_body=100_000)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api", config=config) as px:
        with pytest.raises(errors.ServerError) as info:
            await asyncio.wait_for(px.account.get(), timeout=10)
    assert len(info.value.body) <= 100_000
    assert len(str(info.value)) < 300


async def test_invalid_json_success_body() -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(text="{not json", content_type="application/json")

    async def wrong_shape(request: web.Request) -> web.Response:
        return web.json_response({"user": "nope"})

    app = web.Application()
    app.router.add_get("/api/v1/account", broken)
    app.router.add_get("/api/v1/teams/6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a2", wrong_shape)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api") as px:
        with pytest.raises(errors.InvalidResponseError, match="not a valid Account"):
            await px.account.get()
        with pytest.raises(errors.InvalidResponseError, match="not a valid Team"):
            await px.teams.get("6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a2")


async def test_stalled_server_times_out_then_retries() -> None:
    calls = 0

    async def stall_once(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(5)
        return web.json_response(ACCOUNT)

    app = web.Application()
    app.router.add_get("/api/v1/account", stall_once)
    config = ClientConfig(read_timeout=0.3, retry=RetryPolicy(base_delay=0.01))
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api", config=config) as px:
        account = await px.account.get()
    assert account.default_team.name == "t"
    assert calls == 2


async def test_stalled_server_gives_timeout_error() -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(5)
        return web.json_response(ACCOUNT)

    app = web.Application()
    app.router.add_get("/api/v1/account", stall)
    config = ClientConfig(read_timeout=0.2, retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api", config=config) as px:
        with pytest.raises(errors.APITimeoutError) as info:
            await px.account.get()
    assert info.value.attempts == 2
    assert KEY not in str(info.value)


async def test_emulator_fault_bursts(pixop_emulator, pixop_client) -> None:  # type: ignore[no-untyped-def]
    from pixop_async.emulator import Fault

    pixop_client.http._sleep = _no_sleep
    pixop_emulator.faults.add(Fault(status=503, times=2, path="/api/v1/account$"))
    account = await pixop_client.account.get()
    assert account.user.email == pixop_emulator.email
    assert pixop_emulator.faults.hits == 2
    pixop_emulator.faults.add(Fault(status=502, html=True, times=10, path="/api/v1/account$"))
    with pytest.raises(errors.ServerError) as info:
        await pixop_client.account.get()
    assert info.value.attempts == pixop_client.config.retry.max_attempts
    pixop_emulator.faults.clear()
    pixop_emulator.faults.add(Fault(reset=True, times=1, path="/api/v1/teams$"))
    page = await pixop_client.teams.list()
    assert page.total_elements == 2


async def _no_sleep(delay: float) -> None:
    return None

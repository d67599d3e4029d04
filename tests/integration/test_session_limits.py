"""Session rules of issues 10 and 16 against real servers on 127.0.0.1: no body across
origins on redirects, only the API feeds the rate budget, capped resets, whole-call and
stall deadlines, 429 retried for POST, fair order in the budget."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web

from pixop_async import ClientConfig, Pixop, RetryPolicy, call_timeout, errors
from pixop_async.budget import RequestBudget, pipeline, urgent
from tests.payloads import account_json
from tests.servers import serve

KEY = "pxk_session_limits_secret"
S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PAYLOAD = {"s3": {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": S3_SECRET}}


def _recorder(seen: list[tuple[str, str, bytes]]) -> web.Application:
    async def anything(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.read()))
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    return app


@pytest.mark.parametrize("status", [307, 308])
async def test_redirect_to_another_origin_never_resends_the_body(status: int) -> None:
    seen: list[tuple[str, str, bytes]] = []
    async with serve(_recorder(seen), host="127.0.0.2") as other:

        async def bounce(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(status=status, headers={"Location": other + "/steal"})

        app = web.Application()
        app.router.add_post("/api/v1/videos/in/s3", bounce)
        async with serve(app) as origin, Pixop(KEY, base_url=origin + "/api") as px:
            with pytest.raises(errors.CrossOriginBodyError) as info:
                await px._request("POST", "/v1/videos/in/s3", json=PAYLOAD)
    assert seen == []  # nothing, and above all not the secret, reached the other origin
    assert S3_SECRET not in str(info.value) and KEY not in str(info.value)


async def test_same_origin_307_resends_the_body() -> None:
    seen: list[tuple[str, str, bytes]] = []
    app = _recorder(seen)

    async def moved(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPTemporaryRedirect("/api/v1/videos/in/s3-new")

    app.router.add_post("/api/v1/videos/in/s3", moved)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api") as px:
        await px._request("POST", "/v1/videos/in/s3", json=PAYLOAD)
    assert [(m, p) for m, p, _ in seen] == [("POST", "/api/v1/videos/in/s3-new")]
    assert json.loads(seen[0][2]) == PAYLOAD


async def test_download_host_headers_never_feed_the_rate_limit() -> None:
    """A CDN behind a pre-signed URL reports its own X-RateLimit-*: ignored (issue 10: one
    such answer froze every poller for 24 hours)."""

    async def cdn_file(request: web.Request) -> web.Response:
        return web.Response(
            body=b"x" * 10,
            headers={
                "X-RateLimit-Limit": "1",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "86400",
            },
        )

    cdn = web.Application()
    cdn.router.add_get("/bucket/obj", cdn_file)

    async def account(request: web.Request) -> web.Response:
        return web.json_response(account_json("e@x"))

    api = web.Application()
    api.router.add_get("/api/v1/account", account)
    async with (
        serve(cdn, host="127.0.0.2") as cdn_root,
        serve(api) as root,
        Pixop(KEY, base_url=root + "/api") as px,
    ):
        async with px._http.stream("GET", cdn_root + "/bucket/obj") as response:
            assert await response.read_capped(100) == b"x" * 10
        assert px.rate_limit is None
        assert px.budget.rate is None
        started = time.monotonic()
        await px.account.get()  # not held back by the CDN's "window"
        assert time.monotonic() - started < 5


async def test_an_absurd_reset_from_the_api_is_capped() -> None:
    async def account(request: web.Request) -> web.Response:
        return web.json_response(
            account_json("e@x"),
            headers={
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "86400",
            },
        )

    api = web.Application()
    api.router.add_get("/api/v1/account", account)
    async with serve(api) as root, Pixop(KEY, base_url=root + "/api") as px:
        await px.account.get()
        assert px.rate_limit is not None and px.rate_limit.reset_seconds == 120.0
        assert px.budget.rate is not None and px.budget.rate.reset_seconds == 120.0
        assert px.budget.delay() <= 121.0


def _dripping_app(*, head: bool) -> web.Application:
    """An API whose headers (``head``) or JSON body drip one byte every 50 ms, forever."""

    async def drip(request: web.Request) -> web.StreamResponse:
        if head:  # a raw transport: the status line and headers arrive byte by byte
            transport = request.transport
            assert transport is not None
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                transport.write(bytes([byte]))
                await asyncio.sleep(0.05)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b"{")
        while True:
            await response.write(b" ")
            await asyncio.sleep(0.05)

    app = web.Application()
    app.router.add_get("/api/v1/account", drip)
    return app


@pytest.mark.parametrize("head", [False, True], ids=["endless-body", "dripped-headers"])
async def test_stalled_api_call_ends_with_api_timeout_error(head: bool) -> None:
    config = ClientConfig(attempt_timeout=0.5, retry=RetryPolicy(max_attempts=2, base_delay=0))
    async with (
        serve(_dripping_app(head=head)) as root,
        Pixop(KEY, base_url=root + "/api", config=config) as px,
    ):
        started = time.monotonic()
        with pytest.raises(errors.APITimeoutError) as info:
            await px.account.get()
    assert time.monotonic() - started < 5  # two attempts of 0.5 s, not forever
    assert info.value.attempts == 2


async def test_call_timeout_bounds_the_whole_call_including_retries() -> None:
    async def busy(request: web.Request) -> web.Response:
        return web.json_response({"errorCode": "X", "message": "later"}, status=503)

    app = web.Application()
    app.router.add_get("/api/v1/account", busy)
    config = ClientConfig(call_timeout=0.8, retry=RetryPolicy(max_attempts=50, base_delay=0.2))
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api", config=config) as px:
        started = time.monotonic()
        with pytest.raises(errors.APITimeoutError, match=r"within 0\.8 s"):
            await px.account.get()
        assert time.monotonic() - started < 3
        assert px.budget.in_flight == 0  # the abandoned attempt gave its place back


async def test_post_answered_429_is_retried_after_retry_after() -> None:
    calls: list[bytes] = []

    async def create(request: web.Request) -> web.Response:
        calls.append(await request.read())
        if len(calls) == 1:
            return web.json_response(
                {"errorCode": "TOO_MANY_REQUESTS", "message": "slow down"},
                status=429,
                headers={"Retry-After": "0.2"},
            )
        return web.json_response({"id": "5b2f0c3e-6a51-4c1e-9d39-1f7f4f6d8a11", "name": "p"})

    app = web.Application()
    app.router.add_post("/api/v1/projects", create)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api") as px:
        response = await px._request("POST", "/v1/projects", json={"name": "p"})
    assert response.status == 200
    assert len(calls) == 2 and calls[0] == calls[1]  # the refused POST was sent again


async def test_post_answered_500_is_still_not_retried() -> None:
    calls = 0

    async def create(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"errorCode": "X", "message": "m"}, status=500)

    app = web.Application()
    app.router.add_post("/api/v1/projects", create)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api") as px:
        with pytest.raises(errors.APIStatusError):
            await px._request("POST", "/v1/projects", json={"name": "p"})
    assert calls == 1  # the server may have acted: never sent twice


async def test_budget_serves_the_oldest_pipeline_first() -> None:
    """Fair progress: with one place free at a time, waiters go by their pipeline's age,
    not by arrival (a job near its end is not queued behind a thousand new ones)."""
    budget = RequestBudget(max_in_flight=1)
    order: list[int] = []
    hold = asyncio.Event()

    async def holder() -> None:
        async with budget.slot():
            await hold.wait()

    now = time.monotonic()

    async def request(age: int) -> None:  # a pipeline begun ``age`` seconds ago
        with pipeline(stamp=now - age):
            async with budget.slot():
                order.append(age)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(request(age)) for age in (50, 10, 40, 20, 30)]
    await asyncio.sleep(0.01)
    assert budget.waiting == 5
    hold.set()
    await asyncio.gather(first, *waiters)
    assert order == [50, 40, 30, 20, 10]
    assert budget.in_flight == 0


async def test_urgent_requests_and_old_newcomers_are_not_starved() -> None:
    """Age buys at most ``fairness_horizon`` of precedence, and urgent work (the webhook key
    fetch every delivery waits on) goes first."""
    clock = [1000.0]
    budget = RequestBudget(max_in_flight=1, fairness_horizon=60, clock=lambda: clock[0])
    order: list[str] = []
    hold = asyncio.Event()

    async def holder() -> None:
        async with budget.slot():
            await hold.wait()

    async def request(name: str, stamp: float | None) -> None:
        if stamp is None:  # a task that never asked before: stamped now
            async with budget.slot():
                order.append(name)
            return
        with pipeline(stamp=stamp):
            async with budget.slot():
                order.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(request("newcomer", None))]
    await asyncio.sleep(0)
    clock[0] += 90  # the newcomer has waited 90 s; old pipelines keep asking
    tasks.append(asyncio.create_task(request("ancient", 0.0)))
    await asyncio.sleep(0)
    with urgent():
        tasks.append(asyncio.create_task(request("keys", None)))
    await asyncio.sleep(0.01)
    hold.set()
    await asyncio.gather(first, *tasks)
    assert order == ["keys", "newcomer", "ancient"]


async def test_call_timeout_context_bounds_one_block_of_calls() -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/api/v1/account", hang)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api") as px:
        started = time.monotonic()
        with call_timeout(0.3), pytest.raises(errors.APITimeoutError):
            await px.account.get()
        assert time.monotonic() - started < 3
    with pytest.raises(ValueError, match="call_timeout"), call_timeout(0):
        pass


async def test_tasks_spawned_after_a_call_get_their_own_age() -> None:
    """A service's main task that called the API once and then spawned N pipelines must not
    hand them all its own age (they would be served first come, first served)."""
    clock = [1000.0]
    budget = RequestBudget(max_in_flight=1, clock=lambda: clock[0])
    async with budget.slot():  # the main task's own call, stamped 1000
        pass
    order: list[str] = []
    hold = asyncio.Event()

    async def holder() -> None:
        async with budget.slot():
            await hold.wait()

    async def request(name: str) -> None:
        async with budget.slot():
            order.append(name)

    async def in_pipeline(name: str, stamp: float) -> None:
        with pipeline(stamp=stamp):
            await request(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    clock[0] = 1050.0
    spawned = asyncio.create_task(request("spawned at 1050"))
    await asyncio.sleep(0)
    older = asyncio.create_task(in_pipeline("pipeline of 1020", 1020.0))
    await asyncio.sleep(0.01)
    hold.set()
    await asyncio.gather(first, spawned, older)
    assert order == ["pipeline of 1020", "spawned at 1050"]

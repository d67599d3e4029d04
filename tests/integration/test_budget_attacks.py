"""Hostile servers against the rate budget and the redirect rules (review of issues 10/16):
retries inside a poller's slot, cancelled waiters, a server that stops reporting its
window, nonsense counts, userinfo in a Location."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from pixop_async import ClientConfig, Pixop, RetryPolicy, errors
from pixop_async.budget import RequestBudget
from pixop_async.polling import watch
from pixop_async.ratelimit import parse_rate_limit
from tests.servers import serve

KEY = "pxk_budget_attacks_secret"


def _app(handler: web.RequestHandler) -> web.Application:  # type: ignore[type-arg]
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def test_retries_inside_a_pollers_slot_each_take_a_place_of_their_own() -> None:
    """A poller holds a slot around its fetch; the session's retry after a 429 used to go
    out inside that one place, unpaced (four requests back to back against a server that
    said its window was used up)."""
    hits = [0]

    async def refuse(request: web.Request) -> web.Response:
        hits[0] += 1
        return web.json_response({}, status=429, headers={"Retry-After": "0"})

    config = ClientConfig(retry=RetryPolicy(max_attempts=4, base_delay=0))
    async with serve(_app(refuse)) as url, Pixop(KEY, base_url=url + "/api", config=config) as px:

        async def fetch() -> object:
            return await px._request("GET", "/v1/videos/x")

        granted = px.budget.granted
        with pytest.raises(errors.RateLimitError):
            async for _ in watch(fetch, is_terminal=lambda s: True, budget=px.budget):
                pass
        assert hits[0] == 4
        assert px.budget.granted - granted == 4  # every attempt was granted by the budget
        assert px.budget.in_flight == 0


async def test_a_slot_whose_fetch_makes_no_request_still_gives_its_place_back() -> None:
    budget = RequestBudget(max_in_flight=1)
    async with budget.slot():
        async with budget.slot():  # uses the enclosing place
            assert budget.in_flight == 1
        assert budget.in_flight == 0  # given back when the inner request ended
        async with budget.slot():  # a second request inside: a place of its own
            assert budget.in_flight == 1
    assert budget.in_flight == 0
    async with budget.slot():
        pass
    assert budget.in_flight == 0


async def test_cancelling_a_thousand_waiting_calls_leaves_the_budget_idle() -> None:
    async def exhausted(request: web.Request) -> web.Response:
        headers = {
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "60",
        }
        return web.json_response({}, headers=headers)

    async with serve(_app(exhausted)) as url, Pixop(KEY, base_url=url + "/api") as px:
        await px._request("GET", "/v1/x")
        calls = [asyncio.ensure_future(px._request("GET", "/v1/x")) for _ in range(1000)]
        for _ in range(1000):
            if px.budget.waiting == 1000:
                break
            await asyncio.sleep(0.01)
        assert px.budget.waiting == 1000
        for call in calls:
            call.cancel()
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        budget = px.budget
        assert (budget.waiting, budget.in_flight, len(budget._heap)) == (0, 0, 0)
        assert budget._pump is None  # no task left sleeping on the old window


async def test_a_server_that_stops_reporting_its_window_is_not_probed_one_at_a_time() -> None:
    served = [0]
    concurrent = [0, 0]  # now, peak

    async def handler(request: web.Request) -> web.Response:
        served[0] += 1
        headers = {}
        if served[0] == 1:
            headers = {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "500",
                "X-RateLimit-Reset": "1",
            }
        concurrent[0] += 1
        concurrent[1] = max(concurrent[1], concurrent[0])
        await asyncio.sleep(0.1)
        concurrent[0] -= 1
        return web.json_response({}, headers=headers)

    async with serve(_app(handler)) as url, Pixop(KEY, base_url=url + "/api") as px:
        await px._request("GET", "/v1/x")
        await asyncio.sleep(1.5)  # the window it reported is over
        await px._request("GET", "/v1/x")  # the probe: no headers any more
        concurrent[1] = 0
        await asyncio.gather(*(px._request("GET", "/v1/x") for _ in range(8)))
        assert px.budget.rate is None
        assert concurrent[1] > 1  # before: one request at a time, for good


@pytest.mark.parametrize(
    ("limit", "remaining", "expected"),
    [("10", "99999999999999999999", (10, 10)), ("-5", "-7", (None, 0)), ("x", "-1", (None, 0))],
)
def test_nonsense_counts_are_clamped(limit: str, remaining: str, expected: tuple) -> None:  # type: ignore[type-arg]
    headers = {
        "X-RateLimit-Limit": limit,
        "X-RateLimit-Remaining": remaining,
        "X-RateLimit-Reset": "60",
    }
    rate = parse_rate_limit(headers, now=0.0)
    assert rate is not None and (rate.limit, rate.remaining) == expected


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_userinfo_in_a_location_is_not_turned_into_credentials(status: int) -> None:
    seen: list[tuple[str, str, str | None, bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(
            (
                request.method,
                request.path,
                request.headers.get("Authorization"),
                await request.read(),
            )
        )
        if request.path == "/api/v1/x":
            location = f"http://evil:pw@{request.host}/api/v1/y"
            return web.Response(status=status, headers={"Location": location})
        return web.json_response({"ok": True})

    async with serve(_app(handler)) as url, Pixop(KEY, base_url=url + "/api") as px:
        response = await px._request("POST", "/v1/x", json={"a": 1})
    assert response.json() == {"ok": True}
    assert [s[2] for s in seen] == [None, None]
    method, path, _, body = seen[1]
    assert path == "/api/v1/y"
    if status in (307, 308):
        assert (method, body) == ("POST", b'{"a": 1}')
    else:
        assert (method, body) == ("GET", b"")


async def test_legacy_client_budget_is_fed_by_its_api_alone() -> None:
    """The legacy client declared no API origin, so a response from whatever host a redirect
    ended on fed its pollers' budget (here: a window used up for two minutes)."""
    from pixop_async.auth import NoAuth
    from pixop_async.legacy import PixopLegacy

    async def other_host(request: web.Request) -> web.Response:
        headers = {
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "100000",
        }
        return web.json_response({}, headers=headers)

    async with serve(_app(other_host), host="127.0.0.2") as other:

        async def bounce(request: web.Request) -> web.Response:
            return web.Response(status=302, headers={"Location": other + "/elsewhere"})

        async with (
            serve(_app(bounce)) as root,
            PixopLegacy(email="a@b.c", password="pw", base_url=root) as legacy,
        ):
            await legacy.request("GET", root + "/v1/videos", auth=NoAuth())
            assert legacy.poll_budget.rate is None
            assert legacy.poll_budget.delay() == 0


async def test_legacy_pollers_are_not_serialised_when_the_api_reports_no_window() -> None:
    """The legacy API sends no X-RateLimit-* for JWT calls; its pollers' budget, fed only
    the session's last window (none), probed one request at a time for good."""
    from pixop_async.auth import NoAuth
    from pixop_async.legacy import PixopLegacy

    concurrent = [0, 0]  # now, peak

    async def status(request: web.Request) -> web.Response:
        concurrent[0] += 1
        concurrent[1] = max(concurrent[1], concurrent[0])
        await asyncio.sleep(0.1)
        concurrent[0] -= 1
        return web.json_response({"done": True})

    async with (
        serve(_app(status)) as root,
        PixopLegacy(email="a@b.c", password="pw", base_url=root) as legacy,
    ):

        async def fetch() -> object:
            return (await legacy.request("GET", root + "/v1/x", auth=NoAuth())).json()

        async def one_watch() -> None:
            async for _ in watch(fetch, is_terminal=lambda s: True, budget=legacy.poll_budget):
                pass

        await one_watch()  # the first answer shows the API reports no window
        concurrent[1] = 0
        await asyncio.gather(*(one_watch() for _ in range(8)))
        assert concurrent[1] > 1
        assert legacy.poll_budget.in_flight == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Limit": "600"},
        {"X-RateLimit-Remaining": "500"},
        {"X-RateLimit-Reset": "30"},
        {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "500", "X-RateLimit-Reset": "0"},
    ],
)
async def test_a_partial_window_does_not_serialise_the_client(headers: dict[str, str]) -> None:
    concurrent = [0, 0]  # now, peak

    async def handler(request: web.Request) -> web.Response:
        concurrent[0] += 1
        concurrent[1] = max(concurrent[1], concurrent[0])
        await asyncio.sleep(0.05)
        concurrent[0] -= 1
        return web.json_response({}, headers=headers)

    async with serve(_app(handler)) as url, Pixop(KEY, base_url=url + "/api") as px:
        await px._request("GET", "/v1/x")
        concurrent[1] = 0
        await asyncio.gather(*(px._request("GET", "/v1/x") for _ in range(10)))
        assert concurrent[1] > 1  # before: one request at a time, for good


async def test_a_partial_window_saying_nothing_is_left_still_probes() -> None:
    budget = RequestBudget()
    budget.observe({"X-RateLimit-Remaining": "0"})
    async with budget.slot():
        assert budget.delay() > 0  # one probe at a time until a usable window comes

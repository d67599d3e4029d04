"""Session-layer behaviour the emulator should not be asked to fake (aioresponses)."""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
import pytest
from aioresponses import aioresponses

from pixop_async import ClientConfig, Pixop, RetryPolicy, errors
from pixop_async._session import USER_AGENT, HttpSession
from tests.payloads import account_json

BASE = "https://api.example.test/api"
ACCOUNT = re.compile(r"^https://api\.example\.test/api/v1/account$")
PROJECTS = re.compile(r"^https://api\.example\.test/api/v1/projects.*$")

SECRET = "pxk_very_secret_key_value_123"


class Sleeps:
    """Stands in for asyncio.sleep and records the requested delays."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _client(sleeps: Sleeps, policy: RetryPolicy | None = None) -> Pixop:
    px = Pixop(SECRET, base_url=BASE, config=ClientConfig(retry=policy or RetryPolicy()))
    px._http._sleep = sleeps
    return px


async def test_html_502_then_success_retries() -> None:
    sleeps = Sleeps()
    account = account_json("e")
    with aioresponses() as mocked:
        mocked.get(ACCOUNT, status=502, body="<html>bad gateway</html>", content_type="text/html")
        mocked.get(ACCOUNT, status=200, payload=account)
        async with _client(sleeps) as px:
            result = await px.account.get()
    assert result.user.email == "e"
    assert len(sleeps.delays) == 1


async def test_html_502_gives_server_error_after_all_attempts() -> None:
    sleeps = Sleeps()
    with aioresponses() as mocked:
        for _ in range(3):
            mocked.get(
                ACCOUNT,
                status=502,
                body="<html>" + "x" * 50_000 + "</html>",
                content_type="text/html",
            )
        async with _client(sleeps, RetryPolicy(max_attempts=3)) as px:
            with pytest.raises(errors.ServerError) as info:
                await px.account.get()
    assert info.value.status == 502
    assert info.value.attempts == 3
    assert "after 3 attempts" in str(info.value)
    assert len(str(info.value)) < 400
    assert len(sleeps.delays) == 2


async def test_retry_after_is_honoured() -> None:
    sleeps = Sleeps()
    with aioresponses() as mocked:
        mocked.get(
            ACCOUNT,
            status=429,
            headers={"Retry-After": "7"},
            payload={"errorCode": "TOO_MANY_REQUESTS", "message": "slow down"},
        )
        mocked.get(
            ACCOUNT, status=503, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "11"}
        )
        mocked.get(
            ACCOUNT, status=404, payload={"errorCode": "RESOURCE_NOT_FOUND", "message": "gone"}
        )
        async with _client(sleeps) as px:
            with pytest.raises(errors.NotFoundError):
                await px.account.get()
    assert sleeps.delays[0] >= 7.0
    assert sleeps.delays[1] >= 11.0


async def test_rate_limit_error_after_exhausting_attempts() -> None:
    sleeps = Sleeps()
    with aioresponses() as mocked:
        for _ in range(2):
            mocked.get(
                ACCOUNT,
                status=429,
                headers={"Retry-After": "2"},
                payload={"errorCode": "TOO_MANY_REQUESTS", "message": "slow down"},
            )
        async with _client(sleeps, RetryPolicy(max_attempts=2)) as px:
            with pytest.raises(errors.RateLimitError) as info:
                await px.account.get()
    assert info.value.retry_after == 2.0
    assert info.value.error_code == "TOO_MANY_REQUESTS"


async def test_connection_reset_is_retried_for_get() -> None:
    sleeps = Sleeps()
    with aioresponses() as mocked:
        mocked.get(ACCOUNT, exception=aiohttp.ServerDisconnectedError())
        mocked.get(ACCOUNT, exception=aiohttp.ClientOSError(104, "Connection reset by peer"))
        mocked.get(ACCOUNT, status=401, payload={"errorCode": "INVALID_API_KEY", "message": "m"})
        async with _client(sleeps) as px:
            with pytest.raises(errors.AuthenticationError):
                await px.account.get()
    assert len(sleeps.delays) == 2


async def test_post_is_not_retried_after_a_reset() -> None:
    sleeps = Sleeps()
    with aioresponses() as mocked:
        mocked.post(PROJECTS, exception=aiohttp.ServerDisconnectedError())
        async with _client(sleeps) as px:
            with pytest.raises(errors.APIConnectionError) as info:
                await px.projects.create("p")
    assert info.value.attempts == 1
    assert info.value.request_sent
    assert sleeps.delays == []


async def test_post_is_not_retried_on_503() -> None:
    sleeps = Sleeps()
    with aioresponses() as mocked:
        mocked.post(PROJECTS, status=503)
        async with _client(sleeps) as px:
            with pytest.raises(errors.ServerError):
                await px.projects.create("p")
    assert sleeps.delays == []


async def test_post_is_retried_when_connection_never_made() -> None:
    sleeps = Sleeps()
    project = {
        "id": "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1",
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z",
        "name": "p",
        "isSample": False,
        "teamId": "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a2",
    }
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("api.example.test", 443, True, None, None, None, None),
        OSError(111, "refused"),
    )
    with aioresponses() as mocked:
        mocked.post(PROJECTS, exception=refused)
        mocked.post(PROJECTS, status=201, payload=project)
        async with _client(sleeps) as px:
            created = await px.projects.create("p")
    assert created.name == "p"
    assert len(sleeps.delays) == 1


async def test_timeout_maps_to_api_timeout_error() -> None:
    sleeps = Sleeps()
    with aioresponses() as mocked:
        for _ in range(2):
            mocked.get(ACCOUNT, exception=asyncio.TimeoutError())
        async with _client(sleeps, RetryPolicy(max_attempts=2)) as px:
            with pytest.raises(errors.APITimeoutError) as info:
                await px.account.get()
    assert info.value.attempts == 2


async def test_headers_sent() -> None:
    with aioresponses() as mocked:
        mocked.get(ACCOUNT, status=404, payload={"message": "m"})
        async with Pixop(SECRET, base_url=BASE) as px:
            with pytest.raises(errors.NotFoundError):
                await px.account.get()
        (call,) = [c for calls in mocked.requests.values() for c in calls]
    assert call.kwargs["headers"]["X-API-Key"] == SECRET


async def test_user_agent_and_lazy_session() -> None:
    http = HttpSession()
    assert http._session is None
    client = http._client()
    assert client.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("pixop-async/")
    await http.close()
    assert client.closed


async def test_closed_client_raises_clear_error() -> None:
    px = Pixop(SECRET, base_url=BASE)
    await px.close()
    with pytest.raises(errors.ClientClosedError, match="closed"):
        await px.account.get()


async def test_borrowed_session_is_not_closed() -> None:
    async with aiohttp.ClientSession() as session:
        async with Pixop(SECRET, base_url=BASE, session=session) as px:
            assert px.http._client() is session
        assert not session.closed


async def test_secrets_never_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps = Sleeps()
    px = Pixop(SECRET, base_url=BASE, email="me@example.test", password="hunter2-password")
    px._http._sleep = sleeps
    with aioresponses() as mocked:
        mocked.get(ACCOUNT, status=503)
        mocked.get(ACCOUNT, status=401, payload={"message": "bad key", "errorCode": "X"})
        with pytest.raises(errors.AuthenticationError) as info:
            await px.account.get()
    await px.close()
    texts = [
        repr(px),
        str(px),
        repr(px._api_key_auth),
        repr(px._basic_auth),
        str(info.value),
        repr(info.value),
        caplog.text,
    ]
    for text in texts:
        assert SECRET not in text
        assert "hunter2" not in text


def test_tls_off_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    HttpSession(ClientConfig(verify_ssl=False))
    assert "verification is turned off" in caplog.text
    caplog.clear()
    HttpSession(ClientConfig())
    assert caplog.text == ""

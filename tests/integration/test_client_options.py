"""Per-call options (``with_options``) and response capture, against the emulator and a small
recording server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from pixop_async import (
    ClientConfig,
    Pixop,
    PixopLegacy,
    RequestOptions,
    RetryPolicy,
    capture_responses,
)
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import APITimeoutError, InvalidRequestError, NotFoundError, ServerError

from ..servers import serve
from .legacy_helpers import legacy_client

PROJECT = "6f0d2c52-7d0a-4a55-9a35-3b1f5f8f0c11"
QUICK_RETRY = RetryPolicy(max_attempts=4, base_delay=0, max_delay=0)


class Recorder:
    """A server that records every request and answers from a script of statuses."""

    def __init__(self, statuses: list[int] | None = None, retry_after: str | None = None) -> None:
        self.seen: list[web.Request] = []
        self.statuses = statuses or []
        self.retry_after = retry_after

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        headers = {"Retry-After": self.retry_after} if self.retry_after and status >= 500 else {}
        if status < 400:
            return web.Response(status=status, headers=headers)
        return web.json_response({}, status=status, headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, Pixop]]:
    rec = Recorder()
    async with (
        serve(rec.app()) as url,
        Pixop("key-for-recorder", base_url=url, config=ClientConfig(retry=QUICK_RETRY)) as px,
    ):
        yield rec, px


async def test_view_shares_the_session_and_does_not_close_it(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    await pixop_client.account.get()
    session = pixop_client.http._session
    view = pixop_client.with_options(timeout=30, extra_headers={"X-Trace": "t1"})
    assert view.http is pixop_client.http
    assert view.budget is pixop_client.budget
    assert view.transfers is pixop_client.transfers
    assert view.account is not pixop_client.account  # bound to the view
    account = await view.account.get()
    assert account.user.email == pixop_emulator.email
    assert pixop_client.http._session is session  # no new aiohttp session
    async with view:
        pass
    await view.close()
    assert not pixop_client.closed
    await pixop_client.account.get()  # the client still works
    await pixop_client.close()
    assert view.closed


async def test_view_sends_extra_headers_and_query_only_on_its_calls(
    recorder: tuple[Recorder, Pixop],
) -> None:
    rec, px = recorder
    view = px.with_options(extra_headers={"X-Trace": "t1", "accept": "application/x-test"})
    nested = view.with_options(extra_query={"dryRun": True}, extra_headers={"X-Trace": "t2"})
    await view.projects.delete(PROJECT)
    await nested.projects.delete(PROJECT)
    await px.projects.delete(PROJECT)
    first, second, plain = rec.seen
    assert first.headers["X-Trace"] == "t1"
    assert first.headers.getall("Accept") == ["application/x-test"]  # replaced, not doubled
    assert "dryRun" not in first.query
    assert second.headers["X-Trace"] == "t2"
    assert second.query["dryRun"] == "true"
    assert "X-Trace" not in plain.headers and "dryRun" not in plain.query
    assert plain.headers["Accept"] == "application/json"
    assert first.headers["X-API-Key"] == "key-for-recorder"


async def test_extra_query_may_not_replace_a_parameter_of_the_call(
    recorder: tuple[Recorder, Pixop],
) -> None:
    rec, px = recorder
    view = px.with_options(extra_query={"pageNumber": 3})
    with pytest.raises(InvalidRequestError, match="extra_query: may not set 'pageNumber'") as err:
        await view.projects.list()
    assert err.value.field == "extra_query"
    assert rec.seen == []


@pytest.mark.parametrize("name", ["Authorization", "x-api-key", "X-API-KEY", "Cookie", "Host"])
def test_extra_headers_refuse_credential_and_framing_headers(name: str) -> None:
    px = Pixop("key", base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidRequestError, match=f"extra_headers: may not set {name!r}") as err:
        px.with_options(extra_headers={name: "Bearer other"})
    assert err.value.field == "extra_headers" and "Bearer other" not in str(err.value)
    with pytest.raises(InvalidRequestError, match=f"may not set {name!r}"):
        RequestOptions(extra_headers={name: "x"})


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"timeout": 0}, "timeout", "must be > 0"),
        ({"timeout": -1.5}, "timeout", "must be > 0"),
        ({"timeout": math.nan}, "timeout", "must be > 0 seconds and finite"),
        ({"timeout": math.inf}, "timeout", "finite"),
        ({"timeout": "5"}, "timeout", "must be a number"),
        ({"timeout": True}, "timeout", "must be a number"),
        ({"max_retries": -1}, "max_retries", "must be >= 0"),
        ({"max_retries": 1.5}, "max_retries", "must be an int"),
        ({"max_retries": 1, "retry": RetryPolicy()}, "max_retries", "not both"),
        ({"retry": 3}, "retry", "must be a RetryPolicy"),
        ({"extra_headers": {"X-A": "a\r\nX-B: b"}}, "extra_headers", "must not contain CR, LF"),
        ({"extra_headers": {"bad name": "v"}}, "extra_headers", "not a valid HTTP header name"),
        ({"extra_headers": {"X-A": 1}}, "extra_headers", "'X-A' must have a str value"),
        ({"extra_headers": [("X-A", "1")]}, "extra_headers", "must be a mapping"),
        ({"extra_query": {"": "v"}}, "extra_query", "non-empty str name"),
        ({"extra_query": {"a": [1]}}, "extra_query", "'a' must have a str, int"),
        # breaker fixes: every control character but HTAB, and numbers a URL cannot carry
        ({"extra_headers": {"X-A": "a\x7fb"}}, "extra_headers", "other control characters"),
        ({"extra_headers": {"X-A": "a\x0bb"}}, "extra_headers", "other control characters"),
        ({"extra_headers": {"X-A": "a\x00b"}}, "extra_headers", "other control characters"),
        ({"extra_query": {"a": math.nan}}, "extra_query", "'a' must be a finite number"),
        ({"extra_query": {"a": -math.inf}}, "extra_query", "'a' must be a finite number"),
    ],
)
def test_with_options_validates_before_any_request(
    kwargs: dict[str, Any], field: str, text: str
) -> None:
    px = Pixop("key", base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidRequestError, match=text) as err:
        px.with_options(**kwargs)
    assert err.value.field == field


def test_options_repr_hides_header_values_and_options_are_read_only() -> None:
    px = Pixop("key", base_url="http://127.0.0.1:9")
    view = px.with_options(
        extra_headers={"X-Session-Token": "tok-s3cret", "X-Tab": "a\tb"}, extra_query={"a": 1}
    )
    shown = repr(view.options)
    assert "tok-s3cret" not in shown and "'X-Session-Token': '***'" in shown
    assert "extra_query={'a': 1}" in shown
    # the checked mappings cannot be changed afterwards (that would skip the checks), and
    # the shared default options of every client stay empty
    with pytest.raises(TypeError):
        view.options.extra_headers["Authorization"] = "Bearer other"  # type: ignore[index]
    with pytest.raises(TypeError):
        px.options.extra_query["a"] = 2  # type: ignore[index]
    assert view.options.extra_headers["X-Tab"] == "a\tb"  # HTAB is a valid field character


async def test_max_retries_per_view(recorder: tuple[Recorder, Pixop]) -> None:
    rec, px = recorder
    rec.statuses = [503] * 10
    with pytest.raises(ServerError):
        await px.with_options(max_retries=0).projects.delete(PROJECT)
    assert len(rec.seen) == 1
    with pytest.raises(ServerError):
        await px.with_options(max_retries=1).projects.delete(PROJECT)
    assert len(rec.seen) == 3
    with pytest.raises(ServerError):
        await px.projects.delete(PROJECT)  # the client's own policy: 4 attempts
    assert len(rec.seen) == 7
    view = px.with_options(retry=RetryPolicy.disabled())
    assert view.options.retry == RetryPolicy.disabled()
    with pytest.raises(ServerError):
        await view.projects.delete(PROJECT)
    assert len(rec.seen) == 8


async def test_view_timeout_bounds_the_retry_waits_too(recorder: tuple[Recorder, Pixop]) -> None:
    rec, px = recorder
    # the server asks for a 30 s wait before the retry; the view's 0.5 s bound ends the call
    rec.statuses, rec.retry_after = [503] * 5, "30"
    view = px.with_options(timeout=0.5, retry=RetryPolicy(max_attempts=4, max_server_delay=60))
    with pytest.raises(APITimeoutError, match=r"did not complete within 0\.5 s"):
        await asyncio.wait_for(view.projects.delete(PROJECT), 20)
    assert len(rec.seen) == 1


async def test_legacy_view_sends_extra_headers(pixop_emulator: EmulatorServer) -> None:
    async with legacy_client(pixop_emulator) as legacy:
        view = legacy.with_options(extra_headers={"X-Trace": "legacy"}, max_retries=0)
        assert isinstance(view, PixopLegacy)
        with capture_responses() as seen:
            await view.accounts.get()
        assert [info.status for info in seen][-1] == 200
        assert view.http is legacy.http and view.scheduler is legacy.scheduler
        await view.close()
        assert not legacy.closed
        # a password changed through a view is the client's (and every view's) from now on
        other = legacy.with_options(timeout=30)
        await view.accounts.update_password("a-brand-new-password")
        assert legacy.basic_auth is other.basic_auth is view.basic_auth
        legacy.jwt_auth.invalidate()  # the next token is fetched with the new password
        await other.accounts.get()


async def test_capture_responses_records_successful_calls(
    pixop_client: Pixop, recorder: tuple[Recorder, Pixop]
) -> None:
    await pixop_client.account.get()  # outside any block: not recorded anywhere
    with capture_responses() as seen:
        await pixop_client.account.get()
        with capture_responses() as inner:
            await asyncio.gather(pixop_client.account.get(), pixop_client.account.get())
        assert len(inner) == 2
    assert len(seen) == 1
    info = seen[0]
    assert (info.method, info.status, info.attempts) == ("GET", 200, 1)
    assert info.url.endswith("/v1/account")
    assert info.header("content-type") == info.header("Content-Type")
    assert info.header("content-type") is not None
    assert "headers" not in repr(info)
    rec, px = recorder
    rec.statuses = [503, 200]
    with capture_responses() as retried:
        await px.projects.delete(PROJECT)
    assert [(i.method, i.status, i.attempts) for i in retried] == [("DELETE", 200, 2)]
    rec.statuses = [404]
    with capture_responses() as failed, pytest.raises(NotFoundError):
        await px.projects.delete(PROJECT)
    assert failed == []

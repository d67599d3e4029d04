"""Success answers whose body is not what the API documents, for every parsing method.

A server answers 200 to everything with a body that is not JSON, JSON of the wrong shape,
JSON nested deeper than any parser's recursion limit, or an endless stream. Every client
method that parses a body must then raise :class:`InvalidResponseError` (a typed
``PixopError``), never a raw ``json``/``cattrs``/``RecursionError`` exception, and never
read an endless body into memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from pixop_async import ClientConfig, Pixop, PixopLegacy, RetryPolicy, errors
from pixop_async.models.locations import S3BucketWithAccessKeys
from tests.servers import serve

V = "5b8e9c6a-1d2f-4f3a-9b7c-0e1d2c3b4a59"
BUCKET = S3BucketWithAccessKeys("my-bucket", "AKIAEXAMPLE", "s3-secret-value")
JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1IiwiZXhwIjo0MTAyNDQ0ODAwfQ."

BODIES = {
    "not-json": b'{"id": "x", not json',
    "wrong-shape": b'{"items": "nope", "id": [1, 2], "user": 7}',
    "a-list": b"[1, 2, 3]",
    "deep": b"[" * 200_000 + b"]" * 200_000,
    "html": b"<html><body>Welcome to nginx!</body></html>",
}

Call = Callable[[Pixop, PixopLegacy], Awaitable[Any]]


async def _first(paginator: Any) -> Any:
    return await paginator


CALLS: list[tuple[str, Call]] = [
    ("account.get", lambda px, lg: px.account.get()),
    ("teams.get", lambda px, lg: px.teams.get(V)),
    ("teams.list", lambda px, lg: _first(px.teams.list())),
    ("projects.get", lambda px, lg: px.projects.get(V)),
    ("projects.create", lambda px, lg: px.projects.create("p")),
    ("projects.update", lambda px, lg: px.projects.update(V, name="p")),
    ("projects.get_default", lambda px, lg: px.projects.get_default()),
    ("projects.list", lambda px, lg: _first(px.projects.list())),
    ("api_keys.get", lambda px, lg: px.api_keys.get(V)),
    ("api_keys.create", lambda px, lg: px.api_keys.create("k")),
    ("api_keys.list", lambda px, lg: _first(px.api_keys.list())),
    ("videos.get", lambda px, lg: px.videos.get(V)),
    ("videos.list", lambda px, lg: _first(px.videos.list())),
    ("videos.update", lambda px, lg: px.videos.update(V, name="n")),
    ("videos.delete", lambda px, lg: px.videos.delete(V)),
    ("videos.derived", lambda px, lg: _first(px.videos.derived(V))),
    ("videos.compare_with", lambda px, lg: px.videos.compare_with(V, V)),
    ("imports.from_https", lambda px, lg: px.imports.from_https("https://example.com/v", "n")),
    ("imports.from_s3", lambda px, lg: px.imports.from_s3(BUCKET, "k", "n")),
    ("imports.status", lambda px, lg: px.imports.status(V)),
    ("exports.status", lambda px, lg: px.exports.status(V)),
    ("exports.download_url", lambda px, lg: px.exports.download_url(V)),
    ("exports.to_s3", lambda px, lg: px.exports.to_s3(V, BUCKET, "o/")),
    ("downloads.download", lambda px, lg: px.downloads.download(V, "/nonexistent/")),
    ("processing.status", lambda px, lg: px.processing.status(V)),
    ("processing.start", lambda px, lg: px.processing.start(V, {})),
    ("processing.appraise", lambda px, lg: px.processing.appraise(V, {})),
    ("processing_configurations.get", lambda px, lg: px.processing_configurations.get(V)),
    ("processing_configurations.list",
     lambda px, lg: _first(px.processing_configurations.list())),
    ("webhooks.get", lambda px, lg: px.webhooks.get(V)),
    ("webhooks.list", lambda px, lg: _first(px.webhooks.list())),
    ("webhooks.test", lambda px, lg: px.webhooks.test(V)),
    ("webhooks.events.list", lambda px, lg: _first(px.webhooks.events.list())),
    ("webhooks.public_keys.list", lambda px, lg: px.webhooks.public_keys.list()),
    ("input_locations.get", lambda px, lg: px.input_locations.get(V)),
    ("output_locations.list", lambda px, lg: _first(px.output_locations.list())),
    ("billing.stripe.list_billing_periods",
     lambda px, lg: _first(px.billing.stripe.list_billing_periods())),
    ("billing.stripe.transactions", lambda px, lg: _first(px.billing.stripe.transactions(V))),
    ("billing.stripe.financial_details", lambda px, lg: px.billing.stripe.financial_details()),
    ("billing.aws_marketplace.credits_usage",
     lambda px, lg: _first(px.billing.aws_marketplace.credits_usage())),
    ("billing.aws_marketplace.get_subscription",
     lambda px, lg: px.billing.aws_marketplace.get_subscription("agreement-1")),
    ("admin.mimir_integration.create_or_update",
     lambda px, lg: px.admin.mimir_integration.create_or_update(
         mimir_tenant="t", mimir_api_key="k", mimir_notification_user_id="u")),
    ("legacy.accounts.create_token", lambda px, lg: lg.accounts.create_token()),
    ("legacy.accounts.get", lambda px, lg: lg.accounts.get()),
    ("legacy.accounts.validate_token", lambda px, lg: lg.accounts.validate_token(JWT)),
    ("legacy.videos.get", lambda px, lg: lg.videos.get(V)),
    ("legacy.videos.create", lambda px, lg: lg.videos.create(name="n")),
    ("legacy.videos.list", lambda px, lg: _first(lg.videos.list())),
    ("legacy.videos.list_projects", lambda px, lg: _first(lg.videos.list_projects())),
    ("legacy.videos.ingest_progress", lambda px, lg: lg.videos.ingest_progress(V)),
    ("legacy.videos.process_progress", lambda px, lg: lg.videos.process_progress(V)),
    ("legacy.media.head_original", lambda px, lg: lg.media.head_original(V)),
]  # fmt: skip


#: Bodies a method rightly accepts: HEAD parses no body, and a HAL page without
#: ``_embedded`` is an empty page (HAL leaves empty collections out).
ACCEPTED = {(kind, "legacy.media.head_original") for kind in BODIES} | {
    ("wrong-shape", "legacy.videos.list"),
    ("wrong-shape", "legacy.videos.list_projects"),
}


def _app(body: bytes) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@pytest.mark.parametrize("kind", list(BODIES))
async def test_every_parsing_method_gives_a_typed_error(kind: str) -> None:
    config = ClientConfig(retry=RetryPolicy.disabled())
    untyped: list[str] = []
    async with serve(_app(BODIES[kind])) as root:
        px = Pixop("pxk_bodies_key_123456", base_url=root + "/api", email="a@b.c",
                   password="pw", config=config)  # fmt: skip
        legacy = PixopLegacy(email="a@b.c", password="pw", base_url=root, config=config)
        legacy.jwt_auth.set_token(JWT)
        try:
            for name, call in CALLS:
                try:
                    await call(px, legacy)
                except errors.PixopError as exc:
                    assert "pxk_bodies" not in str(exc)
                except Exception as exc:  # anything untyped is the failure reported below
                    untyped.append(f"{name}: {type(exc).__name__}")
                else:
                    if (kind, name) not in ACCEPTED:
                        untyped.append(f"{name}: accepted a {kind} body")
        finally:
            await px.close()
            await legacy.close()
    assert not untyped, untyped


async def test_an_endless_success_body_is_not_read_into_memory() -> None:
    """A 200 that never ends is cut off at the client's cap instead of filling memory."""

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"items": [')
        chunk = b'"' + b"x" * 65_000 + b'",'
        for _ in range(20_000):  # 1.3 GB if anyone read it all; bounded so the test ends
            await response.write(chunk)
        return response

    app = web.Application()
    app.router.add_get("/api/v1/account", endless)
    config = ClientConfig(retry=RetryPolicy.disabled(), max_response_body=2 * 1024 * 1024)
    async with serve(app) as root, Pixop("pxk_bodies_key_123456", base_url=root + "/api",
                                         config=config) as px:  # fmt: skip
        with pytest.raises(errors.InvalidResponseError, match="larger than"):
            await asyncio.wait_for(px.account.get(), timeout=30)


@pytest.mark.parametrize("kind", list(BODIES))
def test_upload_results_parse_to_a_typed_error(kind: str) -> None:
    from pixop_async.transfer.upload import UploadResult

    result = UploadResult(201, {}, BODIES[kind], 1, 0, 0.0)
    if kind in ("wrong-shape", "a-list"):
        assert result.json() is not None  # valid JSON: the caller decides what it means
        return
    with pytest.raises(errors.InvalidResponseError):
        result.json()


async def test_a_truncated_api_body_is_retried_for_reads_only() -> None:
    """A success body that stops short of its Content-Length is a transport failure: a GET
    is sent again, a POST (which reached the server) is not."""
    from tests.payloads import account_json

    calls = {"GET": 0, "POST": 0}

    async def short_then_whole(request: web.Request) -> web.StreamResponse:
        calls[request.method] += 1
        if request.method == "POST" or calls["GET"] == 1:
            response = web.StreamResponse(
                headers={"Content-Type": "application/json", "Content-Length": "5000"}
            )
            await response.prepare(request)
            await response.write(b'{"user": {')
            if request.transport is not None:
                request.transport.close()
            return response
        return web.json_response(account_json("e@x"))

    app = web.Application()
    app.router.add_route("*", "/api/v1/account", short_then_whole)
    app.router.add_route("*", "/api/v1/projects", short_then_whole)
    config = ClientConfig(retry=RetryPolicy(base_delay=0.01, max_delay=0.02))
    async with serve(app) as root, Pixop("pxk_bodies_key_123456", base_url=root + "/api",
                                         config=config) as px:  # fmt: skip
        account = await px.account.get()
        assert account.user.email == "e@x"
        with pytest.raises(errors.APIConnectionError) as raised:
            await px.projects.create("p")
    assert calls == {"GET": 2, "POST": 1}
    assert raised.value.request_sent and raised.value.attempts == 1

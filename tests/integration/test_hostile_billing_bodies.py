"""Billing answers with lossy or wrong-kind values, over real HTTP: a typed
InvalidResponseError, never a silently truncated credit or a NaN amount."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from pixop_async import Pixop
from pixop_async.errors import InvalidResponseError
from tests.conformance import spec
from tests.servers import serve


def _usage_page(**item: Any) -> bytes:
    page = spec.example("CreditsUsagePage")
    page["items"][0].update(item)
    return json.dumps(page).encode()


def _transactions_page(**item: Any) -> bytes:
    page = spec.example("TransactionsPage")
    page["items"][0].update(item)
    return json.dumps(page).encode()


@pytest.mark.skipif(not spec.OPS, reason="the API 2.1.0 digest is not available")
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("credits-usage", _usage_page(pixopCredits=1.7)),
        ("credits-usage", _usage_page(pixopCredits=True)),
        ("credits-usage", _usage_page(createdAt=1_700_000_000)),
        ("transactions", _transactions_page(amountUsd="NaN")),
        ("transactions", b'{"items": [{"amountUsd": NaN}]}'),
        ("transactions", _transactions_page(balanceUsd={"value": 1})),
    ],
)
async def test_lossy_billing_values_are_invalid_responses(path: str, body: bytes) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", answer)
    async with serve(app) as root, Pixop("key", base_url=root + "/api") as px:
        with pytest.raises(InvalidResponseError):
            if path == "credits-usage":
                await px.billing.aws_marketplace.credits_usage()
            else:
                await px.billing.stripe.latest_transactions()


@pytest.mark.skipif(not spec.OPS, reason="the API 2.1.0 digest is not available")
async def test_integral_numbers_in_any_json_form_still_decode() -> None:
    body = _usage_page(pixopCredits=125.0)

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", answer)
    async with serve(app) as root, Pixop("key", base_url=root + "/api") as px:
        page = await px.billing.aws_marketplace.credits_usage()
    assert page.items[0].pixop_credits == 125

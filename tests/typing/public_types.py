"""Checked by ``mypy --strict`` from outside the repository in ``.ci/run`` (never executed):
the installed package is visible to type checkers and its public types are precise."""

from __future__ import annotations

from typing_extensions import assert_type

import pixop_async
from pixop_async.models.account import Project
from pixop_async.models.billing import (
    CreditsUsage,
    CreditsUsagePage,
    Transaction,
    TransactionsPage,
)
from pixop_async.models.common import Page
from pixop_async.models.webhooks import WebhookPublicKey


async def uses_the_sdk(px: pixop_async.Pixop) -> None:
    page = await px.projects.list()
    assert_type(page, Page[Project])
    async for project in px.projects.list():
        assert_type(project, Project)

    first = await px.billing.stripe.latest_transactions()
    assert_type(first, TransactionsPage)
    async for tx in px.billing.stripe.latest_transactions():
        assert_type(tx, Transaction)
    usage = await px.billing.aws_marketplace.credits_usage()
    assert_type(usage, CreditsUsagePage)
    async for item in px.billing.aws_marketplace.credits_usage():
        assert_type(item, CreditsUsage)

    keys = await px.webhooks.public_keys.list()
    assert_type(keys, list[WebhookPublicKey])
    async for key in px.webhooks.public_keys.list():
        assert_type(key, WebhookPublicKey)


async def uses_per_call_options(px: pixop_async.Pixop, legacy: pixop_async.PixopLegacy) -> None:
    view = px.with_options(timeout=5, max_retries=0, extra_headers={"X-Trace": "t"})
    assert_type(view, pixop_async.Pixop)
    assert_type(legacy.with_options(retry=pixop_async.RetryPolicy()), pixop_async.PixopLegacy)
    assert_type(view.options, pixop_async.RequestOptions)
    with pixop_async.capture_responses() as seen:
        await view.account.get()
    assert_type(seen[-1], pixop_async.ResponseInfo)
    assert_type(seen[-1].header("Date"), str | None)

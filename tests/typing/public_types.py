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


async def uses_the_lazy_exports(px: pixop_async.Pixop) -> None:
    # ``pixop_async`` and ``pixop_async.models`` load these on first use (PEP 562); type
    # checkers must still see each one precisely, and a misspelt name must stay an error.
    account = await px.account.get()
    assert_type(account, pixop_async.models.Account)
    assert_type(pixop_async.TransferConfig(connections=2).connections, int)
    assert_type(pixop_async.PollIntervals().maximum, float)
    report = await pixop_async.download_many([pixop_async.DownloadItem("http://x", "y")])
    assert_type(report.items[0].item, pixop_async.DownloadItem)

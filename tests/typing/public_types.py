"""Checked by ``mypy --strict`` from outside the repository in ``.ci/run`` (never executed):
the installed package is visible to type checkers and its public types are precise.

``--strict`` turns on ``warn_unused_ignores``, so each ``# type: ignore[arg-type]`` below is
itself an assertion: if the call stopped being an error, mypy would fail on the unused ignore.
"""

from __future__ import annotations

import uuid

from typing_extensions import assert_type

import pixop_async
from pixop_async import ProjectId, TeamId, VideoId
from pixop_async.models.account import Project
from pixop_async.models.billing import (
    CreditsUsage,
    CreditsUsagePage,
    Transaction,
    TransactionsPage,
)
from pixop_async.models.common import Page
from pixop_async.models.locations import S3BucketWithAccessKeys
from pixop_async.models.videos import Video
from pixop_async.models.webhooks import WebhookPublicKey
from pixop_async.transfer.options import DownloadOptions


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


async def typed_ids(px: pixop_async.Pixop) -> None:
    project = await px.projects.get("0b4bd1b2-1111-4aaa-8aaa-000000000001")
    assert_type(project.id, ProjectId)
    assert_type(project.team_id, TeamId)
    page = await px.videos.list(project_id=project.id, team_id=project.team_id)
    assert_type(page.items, list[Video])
    video = page.items[0]
    assert_type(video.id, VideoId)
    assert_type(video.project_id, ProjectId)
    # The right kind, or text (read from a file, a CLI, the environment), is accepted.
    await px.videos.get(video.id)
    await px.videos.get("0b4bd1b2-1111-4aaa-8aaa-000000000002")
    await px.videos.get(VideoId(uuid.UUID("0b4bd1b2-1111-4aaa-8aaa-000000000002")))
    deleted = await px.videos.delete(video.id, expected_derived_ids=[])
    assert_type(deleted, list[VideoId])
    # Another kind of id is refused where a video id is expected, and a bare UUID carries no
    # kind at all.
    await px.videos.get(project.id)  # type: ignore[arg-type]
    await px.processing.status(project.id)  # type: ignore[arg-type]
    await px.projects.get(video.id)  # type: ignore[arg-type]
    await px.videos.list(project_id=video.id)  # type: ignore[arg-type]
    await px.videos.get(uuid.uuid4())  # type: ignore[arg-type]


async def next_pages(px: pixop_async.Pixop) -> None:
    page = await px.projects.list()
    if page.has_next_page():
        following = await page.get_next_page()
        assert_type(following, Page[Project])
    tx = await px.billing.stripe.latest_transactions()
    if tx.has_next_page():
        assert_type(await tx.get_next_page(), TransactionsPage)


async def options_stay_typed(px: pixop_async.Pixop, bucket: S3BucketWithAccessKeys) -> None:
    # The keywords of download_url / imports.from_file are declared once (a TypedDict passed
    # through as **options): names and types are still checked.
    await pixop_async.download_url("https://example.com/v", "v.mp4", connections=4, resume=False)
    prepared: DownloadOptions = {"part_size": 1 << 20, "expected_crc32c": 7}
    await pixop_async.download_url("https://example.com/v", "v.mp4", **prepared)
    await pixop_async.download_url("https://example.com/v", "v.mp4", resume="no")  # type: ignore[arg-type]
    await pixop_async.download_url("https://example.com/v", "v.mp4", conections=4)  # type: ignore[call-arg]
    done = await px.imports.from_file("a.mp4", "a", bucket=bucket, wait=True, timeout=60)
    assert_type(done.upload.size, int)
    await px.imports.from_file("a.mp4", "a", bucket=bucket, project_id=done.upload)  # type: ignore[arg-type]


async def uses_the_lazy_exports(px: pixop_async.Pixop) -> None:
    # ``pixop_async`` and ``pixop_async.models`` load these on first use (PEP 562); type
    # checkers must still see each one precisely, and a misspelt name must stay an error.
    account = await px.account.get()
    assert_type(account, pixop_async.models.Account)
    assert_type(pixop_async.TransferConfig(connections=2).connections, int)
    assert_type(pixop_async.PollIntervals().maximum, float)
    report = await pixop_async.download_many([pixop_async.DownloadItem("http://x", "y")])
    assert_type(report.items[0].item, pixop_async.DownloadItem)

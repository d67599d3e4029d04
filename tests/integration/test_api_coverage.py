"""Every operation of the current API is reachable through the client against the emulator.

The table below lists each operation of the reference (API 1.0.1 minus the v1 billing
operations that 2.x removed, plus the v2 Stripe and AWS Marketplace reads): 56 distinct paths.
Each row calls the client method and checks, through an aiohttp trace on the client's own
session, that exactly the documented method and path went out and that the emulator answered
it with real behaviour: success, or the documented error for the state the world is in.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs
import pytest
import pytest_asyncio
from aiohttp import web

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer, buckets
from pixop_async.emulator.lifecycle import tick
from pixop_async.emulator.records import fully_ingested
from pixop_async.errors import APIStatusError
from pixop_async.models.locations import S3BucketWithAccessKeys
from tests.integration.processing_fixtures import make_source
from tests.integration.test_processing import OPTIONS
from tests.servers import serve

CREDS = S3BucketWithAccessKeys("coverage-bucket", "AKIACOVERAGE0001", "coverage-secret")


@attrs.define
class World:
    """Ids of everything the rows act on, made fresh for each row."""

    team_id: str
    aws_team_id: str
    project_id: str
    master_id: str
    processed_id: str
    conf_id: str
    input_location_id: str
    output_location_id: str
    webhook_id: str
    event_id: str
    key_id: str
    api_key_id: str
    appraisal_id: str
    billing_period_id: str
    agreement_id: str
    source_url: str
    hook_url: str


Call = Callable[[Pixop, World], Awaitable[Any]]


@attrs.frozen
class Row:
    method: str
    path: str
    call: Call
    #: None: the call succeeds; otherwise the error code the emulator must answer with.
    expect: str | None = None


def _drain(paginator: Any) -> Awaitable[Any]:
    async def first_page() -> Any:
        return await paginator

    return first_page()


ROWS: list[Row] = [
    Row("GET", "/v1/account", lambda px, w: px.account.get()),
    Row("GET", "/v1/teams", lambda px, w: _drain(px.teams.list())),
    Row("GET", "/v1/teams/{id}", lambda px, w: px.teams.get(w.team_id)),
    Row("POST", "/v1/projects", lambda px, w: px.projects.create("coverage")),
    Row("GET", "/v1/projects", lambda px, w: _drain(px.projects.list(team_id=w.team_id))),
    Row("GET", "/v1/projects/default", lambda px, w: px.projects.get_default()),
    Row("GET", "/v1/projects/{id}", lambda px, w: px.projects.get(w.project_id)),
    Row("PATCH", "/v1/projects/{id}", lambda px, w: px.projects.update(w.project_id, name="n")),
    Row(
        "DELETE",
        "/v1/projects/{id}",
        lambda px, w: px.projects.delete(w.project_id),
        expect="PROJECT_WITH_VIDEOS_CANNOT_BE_DELETED",
    ),
    Row("POST", "/v1/api-keys", lambda px, w: px.api_keys.create("k2", active=False)),
    Row("GET", "/v1/api-keys", lambda px, w: _drain(px.api_keys.list())),
    Row("GET", "/v1/api-keys/{id}", lambda px, w: px.api_keys.get(w.api_key_id)),
    Row("PATCH", "/v1/api-keys/{id}", lambda px, w: px.api_keys.update(w.api_key_id, name="r")),
    Row("POST", "/v1/api-keys/{id}/activate", lambda px, w: px.api_keys.activate(w.api_key_id)),
    Row(
        "POST",
        "/v1/api-keys/{id}/deactivate",
        lambda px, w: px.api_keys.deactivate(w.api_key_id),
    ),
    Row("DELETE", "/v1/api-keys/{id}", lambda px, w: px.api_keys.delete(w.api_key_id)),
    Row(
        "POST",
        "/v1/input-locations/s3",
        lambda px, w: px.input_locations.create("in2", "in-bucket", "AKIAXXXXXXXX", "s3cret"),
    ),
    Row("GET", "/v1/input-locations/s3", lambda px, w: _drain(px.input_locations.list())),
    Row(
        "GET",
        "/v1/input-locations/s3/{id}",
        lambda px, w: px.input_locations.get(w.input_location_id),
    ),
    Row(
        "PATCH",
        "/v1/input-locations/s3/{id}",
        lambda px, w: px.input_locations.update(w.input_location_id, name="renamed"),
    ),
    Row(
        "DELETE",
        "/v1/input-locations/s3/{id}",
        lambda px, w: px.input_locations.delete(w.input_location_id),
    ),
    Row(
        "POST",
        "/v1/output-locations/s3",
        lambda px, w: px.output_locations.create("out2", "out-bucket", "AKIAXXXXXXXX", "s3cret"),
    ),
    Row("GET", "/v1/output-locations/s3", lambda px, w: _drain(px.output_locations.list())),
    Row(
        "GET",
        "/v1/output-locations/s3/{id}",
        lambda px, w: px.output_locations.get(w.output_location_id),
    ),
    Row(
        "PATCH",
        "/v1/output-locations/s3/{id}",
        lambda px, w: px.output_locations.update(w.output_location_id, bucket="other-bucket"),
    ),
    Row(
        "DELETE",
        "/v1/output-locations/s3/{id}",
        lambda px, w: px.output_locations.delete(w.output_location_id),
    ),
    Row(
        "POST",
        "/v1/processing-configurations",
        lambda px, w: px.processing_configurations.create("conf2", OPTIONS),
    ),
    Row(
        "GET",
        "/v1/processing-configurations",
        lambda px, w: _drain(px.processing_configurations.list()),
    ),
    Row(
        "GET",
        "/v1/processing-configurations/{confId}",
        lambda px, w: px.processing_configurations.get(w.conf_id),
    ),
    Row(
        "DELETE",
        "/v1/processing-configurations/{confId}",
        lambda px, w: px.processing_configurations.delete(w.conf_id),
    ),
    Row("GET", "/v1/videos", lambda px, w: _drain(px.videos.list(project_id=w.project_id))),
    Row("GET", "/v1/videos/{videoId}", lambda px, w: px.videos.get(w.master_id)),
    Row(
        "PATCH",
        "/v1/videos/{videoId}",
        lambda px, w: px.videos.update(w.master_id, name="renamed", description="d"),
    ),
    Row(
        "DELETE",
        "/v1/videos/{videoId}",
        lambda px, w: px.videos.delete(w.master_id, expected_derived_ids=[]),
        expect="CONFLICTING_DERIVED_VIDEO_IDS",  # the processed video is missing from the list
    ),
    Row(
        "GET", "/v1/videos/{videoId}/derived", lambda px, w: _drain(px.videos.derived(w.master_id))
    ),
    Row(
        "GET",
        "/v1/videos/{videoId}/compare-with/{targetVideoId}",
        lambda px, w: px.videos.compare_with(w.master_id, w.processed_id),
    ),
    Row(
        "POST",
        "/v1/videos/in/https",
        lambda px, w: px.imports.from_https(w.source_url, "film", allow_loopback_http=True),
    ),
    Row(
        "POST",
        "/v1/videos/in/s3",
        lambda px, w: px.imports.from_s3(CREDS, "film.mov", "from s3"),
    ),
    Row(
        "POST",
        "/v1/videos/in/s3/{inputLocationId}",
        lambda px, w: px.imports.from_s3_location(w.input_location_id, "film.mov", "from loc"),
    ),
    Row("GET", "/v1/videos/{videoId}/in/status", lambda px, w: px.imports.status(w.master_id)),
    Row(
        "POST",
        "/v1/videos/{videoId}/in/restart",
        lambda px, w: px.imports.restart(w.master_id),
        expect="VIDEO_IN_OPERATION_NOT_FAILED",
    ),
    Row(
        "DELETE",
        "/v1/videos/{videoId}/in/abandon",
        lambda px, w: px.imports.abandon(w.master_id),
        expect="VIDEO_IN_OPERATION_NOT_FAILED",
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/out/s3",
        lambda px, w: px.exports.to_s3(w.processed_id, CREDS, "deliveries"),
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/out/s3/{outputLocationId}",
        lambda px, w: px.exports.to_s3_location(w.processed_id, w.output_location_id, "d"),
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/out/https",
        lambda px, w: px.exports.download_url(w.processed_id, duration_minutes=5),
    ),
    Row("GET", "/v1/videos/{videoId}/out/status", lambda px, w: px.exports.status(w.processed_id)),
    Row(
        "POST",
        "/v1/videos/{videoId}/out/restart",
        lambda px, w: px.exports.restart(w.processed_id),
        expect="VIDEO_OUT_OPERATION_NOT_FAILED",
    ),
    Row(
        "DELETE",
        "/v1/videos/{videoId}/out/abandon",
        lambda px, w: px.exports.abandon(w.processed_id),
        expect="VIDEO_OUT_OPERATION_NOT_FAILED",
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/processing/start",
        lambda px, w: px.processing.start(w.master_id, OPTIONS),
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/processing/start/{confId}",
        lambda px, w: px.processing.start_with_configuration(w.master_id, w.conf_id),
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/processing/appraisals/create",
        lambda px, w: px.processing.appraise(w.master_id, OPTIONS),
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/processing/appraisals/create/{confId}",
        lambda px, w: px.processing.appraise_with_configuration(w.master_id, w.conf_id),
    ),
    Row(
        "POST",
        "/v1/videos/{videoId}/processing/appraisals/{appraisalId}/accept",
        lambda px, w: px.processing.accept_appraisal(w.master_id, w.appraisal_id),
    ),
    Row(
        "GET",
        "/v1/videos/{videoId}/processing/status",
        lambda px, w: px.processing.status(w.processed_id),
    ),
    Row(
        "POST",
        "/v1/webhooks",
        lambda px, w: px.webhooks.create(
            "w2", w.hook_url, ["video_in.done"], allow_loopback_http=True
        ),
    ),
    Row("GET", "/v1/webhooks", lambda px, w: _drain(px.webhooks.list())),
    Row("GET", "/v1/webhooks/{id}", lambda px, w: px.webhooks.get(w.webhook_id)),
    Row(
        "PATCH",
        "/v1/webhooks/{id}",
        lambda px, w: px.webhooks.update(w.webhook_id, name="renamed"),
    ),
    Row("DELETE", "/v1/webhooks/{id}", lambda px, w: px.webhooks.delete(w.webhook_id)),
    Row(
        "POST",
        "/v1/webhooks/{id}/deactivate",
        lambda px, w: px.webhooks.deactivate(w.webhook_id),
    ),
    Row("POST", "/v1/webhooks/{id}/activate", lambda px, w: px.webhooks.activate(w.webhook_id)),
    Row("POST", "/v1/webhooks/{id}/test", lambda px, w: px.webhooks.test(w.webhook_id)),
    Row("GET", "/v1/webhooks/events", lambda px, w: _drain(px.webhooks.events.list())),
    Row("GET", "/v1/webhooks/events/{id}", lambda px, w: px.webhooks.events.get(w.event_id)),
    Row("GET", "/v1/webhooks/public-keys", lambda px, w: px.webhooks.public_keys.list()),
    Row(
        "GET",
        "/v1/webhooks/public-keys/{id}",
        lambda px, w: px.webhooks.public_keys.get(w.key_id),
    ),
    Row(
        "GET",
        "/v2/stripe/billing-periods",
        lambda px, w: _drain(px.billing.stripe.list_billing_periods()),
    ),
    Row(
        "GET",
        "/v2/stripe/billing-periods/{id}",
        lambda px, w: px.billing.stripe.get_billing_period(w.billing_period_id),
    ),
    Row(
        "GET",
        "/v2/stripe/financial-details",
        lambda px, w: px.billing.stripe.financial_details(),
    ),
    Row(
        "GET",
        "/v2/stripe/billing-periods/{id}/transactions",
        lambda px, w: _drain(px.billing.stripe.transactions(w.billing_period_id)),
    ),
    Row(
        "GET",
        "/v2/stripe/billing-periods/latest/transactions",
        lambda px, w: _drain(px.billing.stripe.latest_transactions()),
    ),
    Row(
        "GET",
        "/v2/aws-marketplace/credits-usage",
        lambda px, w: _drain(
            px.billing.aws_marketplace.credits_usage(select_team_id=w.aws_team_id)
        ),
    ),
    Row(
        "GET",
        "/v2/aws-marketplace/subscriptions",
        lambda px, w: _drain(px.billing.aws_marketplace.list_subscriptions(team_id=w.aws_team_id)),
    ),
    Row(
        "GET",
        "/v2/aws-marketplace/subscriptions/{agreementId}",
        lambda px, w: px.billing.aws_marketplace.get_subscription(w.agreement_id),
    ),
    Row(
        "GET",
        "/v2/aws-marketplace/subscriptions/current",
        lambda px, w: px.billing.aws_marketplace.current_subscription(select_team_id=w.aws_team_id),
    ),
]


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^/api" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


def test_the_table_covers_56_distinct_paths() -> None:
    assert len({row.path for row in ROWS}) == 56
    assert len({(row.method, row.path) for row in ROWS}) == len(ROWS) == 75


@pytest.fixture
def pixop_emulator_config(local_root: str) -> EmulatorConfig:
    # Depending on local_root makes that server outlive the emulator's fetches and deliveries.
    return EmulatorConfig(speed=50, rate_limit_per_minute=10_000, allow_http_sources=True)


@pytest_asyncio.fixture
async def local_root(tmp_path: Path) -> AsyncIterator[str]:
    """A server on 127.0.0.1: an import source at /media/film.mov (static files answer range
    requests) and a webhook endpoint at /hook, so nothing leaves the machine."""
    (tmp_path / "origin").mkdir()
    (tmp_path / "origin" / "film.mov").write_bytes(os.urandom(64 * 1024))

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_static("/media", tmp_path / "origin")
    app.router.add_post("/hook", hook)
    async with serve(app) as root:
        yield root


@pytest_asyncio.fixture
async def traced(
    pixop_emulator: EmulatorServer,
) -> AsyncIterator[tuple[Pixop, list[tuple[str, str, int]]]]:
    """A client whose aiohttp session records (method, path, status) of every response."""
    seen: list[tuple[str, str, int]] = []

    async def on_end(
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        seen.append((params.method, params.url.path, params.response.status))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        Pixop(
            pixop_emulator.api_key,
            base_url=pixop_emulator.base_url,
            email=pixop_emulator.email,
            password=pixop_emulator.password,
            session=session,
        ) as px,
    ):
        yield px, seen


async def _until_fully_ingested(state: Any, video_id: str) -> None:
    """Move the emulator's clock until the processed video is done and fully ingested.

    Processing ends with a file copy on a worker thread and then a full ingestion, so the
    world is only settled once both have happened: checking the record, not a fixed sleep,
    keeps the table independent of the machine's speed.
    """
    for _ in range(400):
        state.clock.advance(3600)
        tick(state)
        if fully_ingested(state.videos[video_id]):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"processed video {video_id} never became fully ingested")


async def _world(px: Pixop, emu: EmulatorServer, tmp_path: Path, root: str) -> World:
    state = emu.state
    buckets.create_bucket(
        state, CREDS.bucket, access_key=CREDS.access_key, secret_access_key=CREDS.secret_access_key
    )
    buckets.put_object(state, CREDS.bucket, "film.mov", os.urandom(4096))
    master = make_source(emu, tmp_path)
    started = await px.processing.start(master["id"], OPTIONS, video_name="processed")
    await _until_fully_ingested(state, str(started.video_id))
    teams = (await px.teams.list()).items
    aws_team = next(t for t in teams if t.name == "Second Team")
    conf = await px.processing_configurations.create("coverage conf", OPTIONS)
    in_loc = await px.input_locations.create(
        "in", CREDS.bucket, CREDS.access_key, CREDS.secret_access_key
    )
    out_loc = await px.output_locations.create(
        "out", CREDS.bucket, CREDS.access_key, CREDS.secret_access_key
    )
    hook = await px.webhooks.create(
        "w", root + "/hook", ["video_in.done"], allow_loopback_http=True
    )
    event = await px.webhooks.test(hook.id)
    keys = await px.webhooks.public_keys.list()
    key = await px.api_keys.create("coverage key", active=False)
    appraisal = await px.processing.appraise(master["id"], OPTIONS)
    period = await px.billing.stripe.list_billing_periods()
    subscriptions = await px.billing.aws_marketplace.list_subscriptions(team_id=aws_team.id)
    return World(
        team_id=str(teams[0].id),
        aws_team_id=str(aws_team.id),
        project_id=master["projectId"],
        master_id=master["id"],
        processed_id=str(started.video_id),
        conf_id=str(conf.id),
        input_location_id=str(in_loc.id),
        output_location_id=str(out_loc.id),
        webhook_id=str(hook.id),
        event_id=str(event.id),
        key_id=str(keys[0].id),
        api_key_id=str(key.id),
        appraisal_id=str(appraisal.appraisal_id),
        billing_period_id=str(period.items[0].id),
        agreement_id=subscriptions.items[0].agreement_id,
        source_url=root + "/media/film.mov",
        hook_url=root + "/hook",
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method} {r.path}")
async def test_operation_is_reachable_through_the_client(
    row: Row,
    traced: tuple[Pixop, list[tuple[str, str, int]]],
    pixop_emulator: EmulatorServer,
    tmp_path: Path,
    local_root: str,
) -> None:
    px, seen = traced
    world = await _world(px, pixop_emulator, tmp_path, local_root)
    seen.clear()
    if row.expect is None:
        await row.call(px, world)
    else:
        with pytest.raises(APIStatusError) as info:
            await row.call(px, world)
        assert info.value.error_code == row.expect
    pattern = _pattern(row.path)
    matching = [(m, p, s) for m, p, s in seen if m == row.method and pattern.match(p)]
    assert matching, f"{row.method} {row.path} never sent; saw {seen}"
    # a route the emulator lacks would have answered 404 NOT_FOUND (failing the call above)
    # or 405; neither may appear
    assert all(status != 405 for _, _, status in matching)

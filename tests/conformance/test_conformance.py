"""The SDK against API 2.1.0, driven by the digest of its OpenAPI document (:mod:`.spec`).

1. Every one of the 75 operations is reached by an SDK method (:data:`CALLS`, all optional
   arguments set) against a stub server that answers spec-shaped bodies: the request's
   method, path, query names (exactly the operation's) and JSON body names (each a property
   of the body schema, required ones present, read-only ones absent) are checked.
2. Every answer decodes into the SDK's model and re-encodes with no property dropped, for
   each variant of each polymorphic schema; bodies with unknown properties and unknown enum
   values decode too, and the unknown enum values survive.
3. The emulator's answers (successes and errors, malformed JSON bodies included) conform to
   the same schemas: nothing required missing, nothing invented, every enum value known.

A field renamed in a model, a query name or a body name changed in a resource, or a field
invented by the emulator fails one of these tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
import pytest_asyncio
from aiohttp import web

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import APIStatusError
from pixop_async.models.converter import json_name, unstructure
from pixop_async.models.locations import S3BucketWithAccessKeys
from pixop_async.models.processing_options import VideoProcessingConfigurationOptions
from tests.servers import serve

from . import spec

pytestmark = pytest.mark.skipif(not spec.OPS, reason="the API 2.1.0 digest is not available")

ID = [f"{n:08x}-1111-4222-8333-{n:012x}" for n in range(1, 6)]
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
BUCKET = S3BucketWithAccessKeys("conformance-bucket", "AKIACONFORMANCE01", "s3cret-key")
OPTIONS: Any = {
    "filters": {"scaler": "DVRES2"},
    "filterSettings": {"resolution": {"tag": "2X"}},
    "container": "MOV",
}
PAGING: dict[str, Any] = dict(
    page_number=1, page_size=20, sort_direction="DESC", sort_by="updatedAt"
)
WINDOW: dict[str, Any] = dict(
    from_date_time=WHEN, to_date_time=WHEN + dt.timedelta(days=1), video_id=ID[2]
)
HOOK = "https://hooks.example.com/pixop"

Call = Callable[[Pixop], Awaitable[Any]]


def _first_page(paginator: Any) -> Awaitable[Any]:
    async def first() -> Any:
        return await paginator

    return first()


#: One SDK call per operation (``Class.operationId`` of the Java SDK), every optional
#: argument given so that every query parameter the operation has must go out.
CALLS: dict[str, Call] = {
    "AccountApi.getAccount": lambda px: px.account.get(),
    "ApiKeyApi.activateApiKeyById": lambda px: px.api_keys.activate(ID[0]),
    "ApiKeyApi.createApiKey": lambda px: px.api_keys.create("k", description="d", active=False),
    "ApiKeyApi.deactivateApiKeyById": lambda px: px.api_keys.deactivate(ID[0]),
    "ApiKeyApi.deleteApiKeyById": lambda px: px.api_keys.delete(ID[0]),
    "ApiKeyApi.getApiKeyById": lambda px: px.api_keys.get(ID[0]),
    "ApiKeyApi.getApiKeys": lambda px: _first_page(px.api_keys.list(**PAGING)),
    "ApiKeyApi.patchApiKey": lambda px: px.api_keys.update(ID[0], name="n", description="d"),
    "ProjectApi.createProject": lambda px: px.projects.create("p", select_team_id=ID[1]),
    "ProjectApi.deleteProjectById": lambda px: px.projects.delete(ID[0]),
    "ProjectApi.getDefaultProject": lambda px: px.projects.get_default(select_team_id=ID[1]),
    "ProjectApi.getProjectById": lambda px: px.projects.get(ID[0]),
    "ProjectApi.getProjects": lambda px: _first_page(px.projects.list(team_id=ID[1], **PAGING)),
    "ProjectApi.patchProject": lambda px: px.projects.update(ID[0], name="n"),
    "S3InputLocationApi.createS3InputLocation": lambda px: px.input_locations.create(
        "in", "bucket-in", "AKIAINPUT0001", "secret", select_team_id=ID[1]
    ),
    "S3InputLocationApi.deleteS3InputLocationById": lambda px: px.input_locations.delete(ID[0]),
    "S3InputLocationApi.getS3InputLocationById": lambda px: px.input_locations.get(ID[0]),
    "S3InputLocationApi.getS3InputLocations": lambda px: _first_page(
        px.input_locations.list(team_id=ID[1], **PAGING)
    ),
    "S3InputLocationApi.patchS3InputLocation": lambda px: px.input_locations.update(
        ID[0], name="n", bucket="bucket-2", access_key="AKIAINPUT0002", secret_access_key="s2"
    ),
    "S3OutputLocationApi.createS3OutputLocation": lambda px: px.output_locations.create(
        "out", "bucket-out", "AKIAOUTPUT001", "secret", select_team_id=ID[1]
    ),
    "S3OutputLocationApi.deleteS3OutputLocationById": lambda px: px.output_locations.delete(ID[0]),
    "S3OutputLocationApi.getS3OutputLocationById": lambda px: px.output_locations.get(ID[0]),
    "S3OutputLocationApi.getS3OutputLocations": lambda px: _first_page(
        px.output_locations.list(team_id=ID[1], **PAGING)
    ),
    "S3OutputLocationApi.patchS3OutputLocation": lambda px: px.output_locations.update(
        ID[0], name="n", bucket="bucket-3", access_key="AKIAOUTPUT002", secret_access_key="s3"
    ),
    "TeamApi.getTeamById": lambda px: px.teams.get(ID[1]),
    "TeamApi.getTeams": lambda px: _first_page(px.teams.list(**PAGING)),
    "VideoApi.deleteVideoById": lambda px: px.videos.delete(ID[0], expected_derived_ids=[ID[3]]),
    "VideoApi.getDerivedVideos": lambda px: _first_page(px.videos.derived(ID[0], **PAGING)),
    "VideoApi.getVideoById": lambda px: px.videos.get(ID[0]),
    "VideoApi.getVideoComparisonLink": lambda px: px.videos.compare_with(ID[0], ID[3]),
    "VideoApi.getVideos": lambda px: _first_page(
        px.videos.list(
            team_id=ID[1],
            project_id=ID[2],
            master_video_id=ID[3],
            clip_id=ID[4],
            clip_mode="EXCLUDE",
            **PAGING,
        )
    ),
    "VideoApi.patchVideo": lambda px: px.videos.update(ID[0], name="n", description="d"),
    "VideoInApi.abandonFailedVideoInOperation": lambda px: px.imports.abandon(ID[0]),
    "VideoInApi.createMasterVideoFromHttps": lambda px: px.imports.from_https(
        "https://media.example.com/film.mov",
        "film",
        description="d",
        project_id=ID[2],
        file_name="film.mov",
        crc32c=123456,
        full_ingestion=True,
        max_concurrent_connections=4,
        select_team_id=ID[1],
    ),
    "VideoInApi.createMasterVideoFromS3Bucket": lambda px: px.imports.from_s3(
        BUCKET,
        "in/film.mov",
        "film",
        description="d",
        project_id=ID[2],
        file_name="film.mov",
        full_ingestion=True,
        select_team_id=ID[1],
    ),
    "VideoInApi.createMasterVideoFromS3InputLocationId": lambda px: px.imports.from_s3_location(
        ID[0],
        "in/film.mov",
        "film",
        description="d",
        project_id=ID[2],
        file_name="film.mov",
        full_ingestion=True,
        select_team_id=ID[1],
    ),
    "VideoInApi.getVideoInStatus": lambda px: px.imports.status(ID[0]),
    "VideoInApi.restartFailedVideoInOperation": lambda px: px.imports.restart(
        ID[0], skip_checksum_validation=True
    ),
    "VideoOutApi.abandonFailedVideoOutOperation": lambda px: px.exports.abandon(ID[0]),
    "VideoOutApi.copyVideoDataToS3Bucket": lambda px: px.exports.to_s3(ID[0], BUCKET, "out/"),
    "VideoOutApi.copyVideoDataToS3OutputLocationId": lambda px: px.exports.to_s3_location(
        ID[0], ID[1], "out/"
    ),
    "VideoOutApi.generateVideoDownloadUrl": lambda px: px.exports.download_url(ID[0], 30),
    "VideoOutApi.getVideoOutStatus": lambda px: px.exports.status(ID[0]),
    "VideoOutApi.restartFailedVideoOutOperation": lambda px: px.exports.restart(ID[0]),
    "VideoProcessingApi.acceptVideoProcessingAppraisal": lambda px: px.processing.accept_appraisal(
        ID[0], ID[1], video_name="v", video_description="d"
    ),
    "VideoProcessingApi.createVideoProcessingAppraisal": lambda px: px.processing.appraise(
        ID[0], OPTIONS, start_pos_ms=1000, end_pos_ms=5000
    ),
    "VideoProcessingApi.createVideoProcessingAppraisalByConfId": lambda px: (
        px.processing.appraise_with_configuration(ID[0], ID[1], start_pos_ms=0, end_pos_ms=9000)
    ),
    "VideoProcessingApi.getVideoProcessingStatus": lambda px: px.processing.status(ID[0]),
    "VideoProcessingApi.startProcessingByVideoId": lambda px: px.processing.start(
        ID[0], OPTIONS, video_name="v", video_description="d", start_pos_ms=0, end_pos_ms=9000
    ),
    "VideoProcessingApi.startProcessingByVideoIdAndConfId": lambda px: (
        px.processing.start_with_configuration(
            ID[0], ID[1], video_name="v", video_description="d", start_pos_ms=0, end_pos_ms=9000
        )
    ),
    "VideoProcessingConfigurationApi.createVideoProcessingConfiguration": lambda px: (
        px.processing_configurations.create("c", OPTIONS, description="d", select_team_id=ID[1])
    ),
    "VideoProcessingConfigurationApi.deleteVideoProcessingConfigurationById": lambda px: (
        px.processing_configurations.delete(ID[0])
    ),
    "VideoProcessingConfigurationApi.getVideoProcessingConfigurationById": lambda px: (
        px.processing_configurations.get(ID[0])
    ),
    "VideoProcessingConfigurationApi.getVideoProcessingConfigurations": lambda px: _first_page(
        px.processing_configurations.list(team_id=ID[1], built_in_mode="ONLY", **PAGING)
    ),
    "WebhookApi.activateWebhookById": lambda px: px.webhooks.activate(ID[0]),
    "WebhookApi.createWebhook": lambda px: px.webhooks.create(
        "w",
        HOOK,
        ["video_in.done"],
        rate_limit_per_second=5,
        active=False,
        description="d",
        select_team_id=ID[1],
    ),
    "WebhookApi.deactivateWebhookById": lambda px: px.webhooks.deactivate(ID[0]),
    "WebhookApi.deleteWebhookById": lambda px: px.webhooks.delete(ID[0]),
    "WebhookApi.getWebhookById": lambda px: px.webhooks.get(ID[0]),
    "WebhookApi.getWebhooks": lambda px: _first_page(px.webhooks.list(team_id=ID[1], **PAGING)),
    "WebhookApi.patchWebhook": lambda px: px.webhooks.update(
        ID[0],
        name="n",
        url=HOOK,
        event_types=["video.deleted"],
        rate_limit_per_second=9,
        max_total_retry_delay_minutes=30,
        description="d",
    ),
    "WebhookApi.testVideoWebhookById": lambda px: px.webhooks.test(
        ID[0], video_id=ID[3], event_type="video_out.done"
    ),
    "WebhookEventApi.getWebhookEventById": lambda px: px.webhooks.events.get(ID[0]),
    "WebhookEventApi.getWebhookEvents": lambda px: _first_page(
        px.webhooks.events.list(
            team_id=ID[1],
            successful_mode="EXCLUDE",
            test_mode="ONLY",
            occurred_at_from=WHEN,
            occurred_at_until=WHEN + dt.timedelta(hours=1),
            **PAGING,
        )
    ),
    "WebhookPublicKeyApi.getWebhookPublicKeyById": lambda px: px.webhooks.public_keys.get(ID[0]),
    "WebhookPublicKeyApi.getWebhookPublicKeys": lambda px: px.webhooks.public_keys.list(),
    "StripeBillingApi.getStripeBillingPeriodById": lambda px: px.billing.stripe.get_billing_period(
        ID[0]
    ),
    "StripeBillingApi.getStripeBillingPeriods": lambda px: _first_page(
        px.billing.stripe.list_billing_periods(
            team_id=ID[1],
            from_date=WHEN.date(),
            to_date=WHEN.date() + dt.timedelta(days=30),
            ended_mode="ONLY",
            **PAGING,
        )
    ),
    "StripeBillingApi.getStripeFinancialDetails": lambda px: px.billing.stripe.financial_details(
        select_team_id=ID[1]
    ),
    "StripeBillingApi.getStripeTransactionsByBillingPeriodId": lambda px: _first_page(
        px.billing.stripe.transactions(
            ID[0],
            processing_transactions_mode="EXCLUDE",
            page_number=1,
            page_size=20,
            sort_direction="ASC",
            **WINDOW,
        )
    ),
    "StripeBillingApi.getStripeTransactionsForLatestBillingPeriod": lambda px: _first_page(
        px.billing.stripe.latest_transactions(
            select_team_id=ID[1],
            processing_transactions_mode="ONLY",
            page_number=1,
            page_size=20,
            sort_direction="ASC",
            **WINDOW,
        )
    ),
    "AwsMarketplaceBillingApi.getAwsMarketplacePixopCreditsUsage": lambda px: _first_page(
        px.billing.aws_marketplace.credits_usage(
            select_team_id=ID[1],
            processing_credits_usage_mode="ONLY",
            page_number=1,
            page_size=20,
            sort_direction="ASC",
            **WINDOW,
        )
    ),
    "AwsMarketplaceBillingApi.getAwsMarketplaceSubscriptionByAgreementId": lambda px: (
        px.billing.aws_marketplace.get_subscription("agmt-0123456789abcdef")
    ),
    "AwsMarketplaceBillingApi.getAwsMarketplaceSubscriptions": lambda px: _first_page(
        px.billing.aws_marketplace.list_subscriptions(team_id=ID[1], **PAGING)
    ),
    "AwsMarketplaceBillingApi.getCurrentAwsMarketplaceSubscription": lambda px: (
        px.billing.aws_marketplace.current_subscription(select_team_id=ID[1])
    ),
}

OP_KEYS = [f"{op['cls']}.{op['op']}" for op in spec.OPS]
OPS_BY_KEY = {f"{op['cls']}.{op['op']}": op for op in spec.OPS}


@attrs.define
class Seen:
    method: str
    path: str
    query: list[str]
    body: Any


@attrs.define
class Stub:
    """Answers any operation of the digest with a spec-shaped body and records requests."""

    variant: int = 0
    unknown: bool = False
    seen: list[Seen] = attrs.Factory(list)
    answered: list[Any] = attrs.Factory(list)

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api")
        raw = await request.read()
        self.seen.append(
            Seen(request.method, path, list(request.query), json.loads(raw) if raw else None)
        )
        op = spec.find_op(request.method, path)
        if op is None:
            return web.json_response({"message": "no such operation"}, status=404)
        returns = op["returns"]
        if returns == "void":
            return web.Response(status=204)
        body = spec.example(returns, variant=self.variant, unknown=self.unknown)
        self.answered.append(body)
        return web.json_response(body)


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[tuple[Stub, Pixop]]:
    handler = Stub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    async with (
        serve(app) as root,
        Pixop(
            "conformance-key", base_url=root + "/api", email="c@example.com", password="pw"
        ) as px,
    ):
        yield handler, px


def test_every_operation_has_exactly_one_call() -> None:
    assert len(spec.OPS) == 75
    assert sorted(CALLS) == sorted(OP_KEYS)


@pytest.mark.parametrize("key", OP_KEYS)
async def test_request_matches_the_operation(key: str, stub: tuple[Stub, Pixop]) -> None:
    handler, px = stub
    op = OPS_BY_KEY[key]
    await CALLS[key](px)
    assert len(handler.seen) == 1, [(s.method, s.path) for s in handler.seen]
    seen = handler.seen[0]
    assert seen.method == op["method"]
    assert spec.path_pattern(op["path"]).match(seen.path), (seen.path, op["path"])
    assert spec.find_op(seen.method, seen.path) is op
    assert sorted(seen.query) == sorted(op["query"]), "query names differ from the operation's"
    body_type = _body_type(op)
    if body_type is None:
        assert seen.body is None, "the operation takes no body"
    else:
        assert seen.body is not None, "the operation needs a body"
        problems = list(spec.violations(seen.body, body_type, request=True))
        assert not problems, problems


def _body_type(op: dict[str, Any]) -> str | None:
    """The schema of an operation's JSON body (the digest names the Java parameter)."""
    name = op["body"]
    if name is None:
        return None
    if name == "UUID":
        return "List<UUID>"
    return name[0].upper() + name[1:]


def _decoded(result: Any) -> Any:
    return unstructure(result)


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("key", [k for k in OP_KEYS if OPS_BY_KEY[k]["returns"] != "void"])
async def test_answer_decodes_with_no_property_dropped(
    key: str, variant: int, stub: tuple[Stub, Pixop]
) -> None:
    handler, px = stub
    handler.variant = variant
    result = await CALLS[key](px)
    sent = handler.answered[-1]
    lost = list(spec.dropped(sent, _decoded(result)))
    assert not lost, f"{OPS_BY_KEY[key]['returns']} lost {lost}"


@pytest.mark.parametrize("key", [k for k in OP_KEYS if OPS_BY_KEY[k]["returns"] != "void"])
async def test_unknown_properties_and_enum_values_decode(
    key: str, stub: tuple[Stub, Pixop]
) -> None:
    handler, px = stub
    handler.unknown = True
    result = await CALLS[key](px)
    sent = handler.answered[-1]
    assert spec.unknown_enum_kept(sent, _decoded(result))


def invented(obj: Any, type_name: str, path: str = "$") -> Iterator[str]:
    """Attributes of a decoded model that its schema does not have (an optional field the SDK
    made up stays None on decoding, so only walking the model itself finds it)."""
    outer, inner = spec._split(type_name)
    if outer in ("List", "Map") and isinstance(obj, list | dict):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for key, item in items:
            yield from invented(item, inner or "String", f"{path}[{key!r}]")
        return
    if not attrs.has(type(obj)) or type_name not in spec.MODELS:
        return
    own = type(obj).__name__
    # a variant with a class of its own is checked against its schema; one class standing
    # for all variants (Transaction, CreditsUsage) against all of them together
    if own in spec.variants(type_name) and own != type_name:
        schema = spec.fields_of(own)
    else:
        schema = spec.all_variant_fields(type_name)
    for field in attrs.fields(type(obj)):
        name = json_name(field)
        if name not in schema:
            yield f"{path}.{name}"
        else:
            yield from invented(getattr(obj, field.name), schema[name]["type"], f"{path}.{name}")


@pytest.mark.parametrize("key", [k for k in OP_KEYS if OPS_BY_KEY[k]["returns"] != "void"])
async def test_models_invent_no_property(key: str, stub: tuple[Stub, Pixop]) -> None:
    _, px = stub
    result = await CALLS[key](px)
    made_up = list(invented(result, OPS_BY_KEY[key]["returns"]))
    assert not made_up, made_up


def test_examples_conform_to_their_own_schemas() -> None:
    """The checker and the example builder agree (so neither can pass vacuously)."""
    for op in spec.OPS:
        if op["returns"] != "void":
            for variant in (0, 1):
                example = spec.example(op["returns"], variant=variant)
                assert not list(spec.violations(example, op["returns"])), op["returns"]
    broken = spec.example("CreditsUsagePage")
    broken["items"][0]["credits"] = broken["items"][0].pop("pixopCredits")
    assert list(spec.violations(broken, "CreditsUsagePage")) == [
        "$.items[0].credits: not a property of ProcessingCreditsUsage",
        "$.items[0].pixopCredits: required property missing",
    ]


def test_unknown_billing_type_decodes_as_the_base_appraisal() -> None:
    from pixop_async.models.appraisal import VideoProcessingJobAppraisal
    from pixop_async.models.converter import structure

    body = spec.example("VideoProcessingJobAppraisal")
    body["billingType"] = "INVOICE"
    decoded = structure(body, VideoProcessingJobAppraisal)
    assert type(decoded) is VideoProcessingJobAppraisal
    assert decoded.currency is None and decoded.billing_type is not None
    assert decoded.billing_type.value == "INVOICE" and not decoded.billing_type.known


# --------------------------------------------------------------------------- the emulator


def _options_model() -> VideoProcessingConfigurationOptions:
    from pixop_async.models.converter import structure

    return structure(OPTIONS, VideoProcessingConfigurationOptions)


HOP_HEADERS = {"host", "content-length", "transfer-encoding", "content-encoding", "connection"}


@pytest_asyncio.fixture
async def recorded(
    pixop_emulator: EmulatorServer,
) -> AsyncIterator[tuple[Pixop, list[list[Any]]]]:
    """A client talking to the emulator through a recording proxy on 127.0.0.1, which keeps
    ``[method, path, status, body]`` of every answer."""
    log: list[list[Any]] = []
    upstream = pixop_emulator.base_url.removesuffix("/api")

    async with aiohttp.ClientSession(auto_decompress=False) as http:

        async def forward(request: web.Request) -> web.Response:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
            async with http.request(
                request.method,
                upstream + request.path_qs,
                headers=headers,
                data=await request.read(),
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
            log.append([request.method, request.path, answer.status, body])
            return web.Response(status=answer.status, body=body, headers=kept)

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", forward)
        async with (
            serve(app) as root,
            Pixop(
                pixop_emulator.api_key,
                base_url=root + "/api",
                email=pixop_emulator.email,
                password=pixop_emulator.password,
            ) as px,
        ):
            yield px, log


def _check_answers(log: list[list[Any]]) -> tuple[set[str], set[str], list[str]]:
    """Operations reached, operations answered with success, and every schema departure in
    the recorded answers."""
    reached: set[str] = set()
    answered: set[str] = set()
    problems: list[str] = []
    for method, path, status, raw in log:
        op = spec.find_op(method, re.sub(r"^/api", "", path))
        if op is None:
            continue
        reached.add(f"{op['cls']}.{op['op']}")
        if status < 300:
            answered.add(f"{op['cls']}.{op['op']}")
        if not raw:
            if status != 204 or op["returns"] != "void":
                problems.append(f"{method} {path}: HTTP {status} without a body")
            continue
        body = json.loads(bytes(raw))
        expected = op["returns"] if status < 300 else "Error"
        problems += [f"{method} {path} ({expected}) {p}" for p in spec.violations(body, expected)]
    return reached, answered, problems


async def test_emulator_answers_conform(
    recorded: tuple[Pixop, list[list[Any]]],
    pixop_emulator: EmulatorServer,
    tmp_path: Path,
) -> None:
    from tests.integration.test_api_coverage import ROWS

    px, log = recorded
    world = await _emulator_world(px, pixop_emulator, tmp_path)
    for row in ROWS:
        with contextlib.suppress(APIStatusError):  # error bodies are checked below
            await row.call(px, world)
    reached, answered, problems = _check_answers(log)
    assert not problems, "\n".join(problems[:40])
    assert reached == set(OP_KEYS), sorted(set(OP_KEYS) - reached)
    # the billing reads, both appraisal variants and the paged envelopes were all seen
    for key in (
        "AwsMarketplaceBillingApi.getAwsMarketplacePixopCreditsUsage",
        "AwsMarketplaceBillingApi.getAwsMarketplaceSubscriptions",
        "StripeBillingApi.getStripeTransactionsByBillingPeriodId",
        "VideoProcessingApi.createVideoProcessingAppraisal",
        "WebhookApi.createWebhook",
    ):
        assert key in answered, key
    assert len(answered) >= 55, sorted(set(OP_KEYS) - answered)


async def _emulator_world(px: Pixop, emu: EmulatorServer, tmp_path: Path) -> Any:
    from pixop_async.emulator import buckets
    from tests.integration.processing_fixtures import make_source
    from tests.integration.test_api_coverage import World

    state = emu.state
    buckets.create_bucket(
        state,
        BUCKET.bucket,
        access_key=BUCKET.access_key,
        secret_access_key=BUCKET.secret_access_key,
    )
    buckets.put_object(state, BUCKET.bucket, "film.mov", b"\0" * 4096)
    master = make_source(emu, tmp_path)
    aws_master = make_source(emu, tmp_path, name="aws source", team_index=1)
    options = _options_model()
    started = await px.processing.start(master["id"], options, video_name="processed")
    teams = (await px.teams.list()).items
    aws_team = next(t for t in teams if t.billing_type and t.billing_type.value != "STRIPE")
    conf = await px.processing_configurations.create("conformance conf", options)
    in_loc = await px.input_locations.create(
        "in", BUCKET.bucket, BUCKET.access_key, BUCKET.secret_access_key
    )
    out_loc = await px.output_locations.create(
        "out", BUCKET.bucket, BUCKET.access_key, BUCKET.secret_access_key
    )
    hook = await px.webhooks.create("w", HOOK, ["video_in.done"])
    event = await px.webhooks.test(hook.id)
    keys = await px.webhooks.public_keys.list()
    key = await px.api_keys.create("conformance key", active=False)
    appraisal = await px.processing.appraise(master["id"], options)
    await px.processing.appraise(aws_master["id"], options)  # the Pixop-credits variant
    period = await px.billing.stripe.list_billing_periods()
    subscriptions = await px.billing.aws_marketplace.list_subscriptions(team_id=aws_team.id)
    await _first_page(px.billing.aws_marketplace.credits_usage(select_team_id=aws_team.id))
    await _first_page(px.billing.stripe.latest_transactions(processing_transactions_mode="ONLY"))
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
        source_url="https://media.example.com/film.mov",
        hook_url=HOOK,
    )


async def test_emulator_malformed_bodies_answer_the_error_schema(
    pixop_emulator: EmulatorServer,
) -> None:
    """Every operation that takes a JSON body answers malformed JSON with the API's Error."""
    auth = aiohttp.BasicAuth(pixop_emulator.email, pixop_emulator.password)
    async with aiohttp.ClientSession() as http:
        for op in spec.OPS:
            if op["body"] is None:
                continue
            path = re.sub(r"\{[^}]+\}", ID[0], op["path"])
            headers = {"X-API-Key": pixop_emulator.api_key, "Content-Type": "application/json"}
            for raw in (b"{not json", b"[1, 2", b"\xff\xfe"):
                async with http.request(
                    op["method"],
                    pixop_emulator.base_url + path,
                    data=raw,
                    headers=headers,
                    auth=auth if op["auth"] == "basic_auth" else None,
                ) as response:
                    body = await response.json()
                assert 400 <= response.status < 500, (op["path"], response.status)
                problems = list(spec.violations(body, "Error"))
                assert not problems, (op["path"], problems)
                assert body["statusCode"] == response.status
                assert body["requestPath"] == "/api" + path

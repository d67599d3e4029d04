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
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
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
from pixop_async.models.enums import OpenEnum
from pixop_async.models.processing_options import VideoProcessingConfigurationOptions
from tests.servers import serve

from . import spec
from .calls import BUCKET, CALLS, HOOK, ID, OPTIONS, first_page

pytestmark = pytest.mark.skipif(not spec.OPS, reason="the API 2.1.0 digest is not available")

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
        if isinstance(seen.body, dict) and body_type not in OPTIONS_BODIES:
            # every optional argument was given: each writable property must have gone out
            unsent = [
                prop
                for prop in spec.fields_of(body_type)
                if prop not in seen.body and (body_type, prop) not in spec.READ_ONLY_IN_REQUESTS
            ]
            assert not unsent, f"the SDK cannot send {unsent}"


#: Bodies that are the processing options themselves: the calls send a small valid set; the
#: options model's coverage of every property is checked by the decoding tests.
OPTIONS_BODIES = {"VideoProcessingConfigurationOptions"}


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
    await first_page(px.billing.aws_marketplace.credits_usage(select_team_id=aws_team.id))
    await first_page(px.billing.stripe.latest_transactions(processing_transactions_mode="ONLY"))
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


# --------------------------------------------------------------------------- value types

#: ``BigDecimal`` properties that are measurements, decoded as ``float`` on purpose (README,
#: "Money is exact"); every other ``BigDecimal`` (money, percentages, amounts) is a Decimal.
FLOAT_MEASUREMENTS = {
    ("AspectRatio", "ratio"),
    ("FrameRate", "frameRate"),
    ("QualityMetric", "sampleMean"),
    ("QualityMetric", "subjectiveScore"),
    ("VideoQualityAssessment", "overallSubjectiveScore"),
    # processing options: colour values, tone mapping, frame rate, crop coordinates
    ("Colorimetry", "maxCll"),
    ("Colorimetry", "maxFall"),
    ("MasteringDisplay", "maxLuminance"),
    ("MasteringDisplay", "minLuminance"),
    ("MasteringDisplayPoint", "x"),
    ("MasteringDisplayPoint", "y"),
    ("VideoProcessingConfigurationOptionsFilterSettingsFrameRate", "fps"),
    *(
        ("VideoProcessingConfigurationOptionsFilterSettingsNormalizedCropCoordinates", name)
        for name in ("x1", "x2", "y1", "y2")
    ),
    (
        "VideoProcessingConfigurationOptionsProcessingSettingsInputColorSpaceConversionToneMapper",
        "outputNits",
    ),
    *(
        (
            "VideoProcessingConfigurationOptionsProcessingSettingsOutputColorSpaceConversion"
            "InverseToneMapper",
            name,
        )
        for name in ("outputNits", "saturationBoost")
    ),
}

_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "String": (str,),
    "UUID": (uuid.UUID,),
    "OffsetDateTime": (dt.datetime,),
    "LocalDate": (dt.date,),
    "Integer": (int,),
    "Long": (int,),
    "BigDecimal": (Decimal,),
    "Boolean": (bool,),
    "URI": (str,),
}


def mistyped(obj: Any, type_name: str, owner: str | None = None, path: str = "$") -> Iterator[str]:
    """Values of a decoded model whose Python type does not fit the schema type (money as a
    float, credits as a float, a date-time left as text...), and enum classes whose members
    differ from the schema's value list."""
    outer, inner = spec._split(type_name)
    if outer in ("List", "Map") and isinstance(obj, list | dict):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for key, item in items:
            yield from mistyped(item, inner or "String", owner, f"{path}[{key!r}]")
        return
    if obj is None:
        return
    values = spec.enum_values(owner, type_name)
    if values is not None:
        if type_name in spec.INTEGER_ENUMS:
            if not isinstance(obj, int):
                yield f"{path}: {type(obj).__name__} for the integer enum {type_name}"
            return
        if not isinstance(obj, OpenEnum):
            yield f"{path}: {type(obj).__name__} for the enum {type_name}"
        elif sorted(m.value for m in type(obj)) != sorted(values):
            yield f"{path}: {type(obj).__name__} members differ from {type_name} {values}"
        return
    if type_name in _SCALAR_TYPES:
        wanted = _SCALAR_TYPES[type_name]
        if type_name == "BigDecimal" and (owner, path.rsplit(".", 1)[-1]) in FLOAT_MEASUREMENTS:
            wanted = (float,)
        bad_bool = isinstance(obj, bool) and bool not in wanted
        if bad_bool or not isinstance(obj, wanted):
            yield f"{path} ({owner}): {type(obj).__name__} for {type_name}"
        return
    if not attrs.has(type(obj)) or type_name not in spec.MODELS:
        return
    own = type(obj).__name__
    if own in spec.variants(type_name) and own != type_name:
        concrete = own
    else:
        found = spec.discriminator_of(type_name)
        tag = getattr(obj, found[0], None) if found else None
        concrete = found[1].get(str(tag), type_name) if found else type_name
    schema = spec.fields_of(concrete)
    for field in attrs.fields(type(obj)):
        name = json_name(field)
        if name in schema:
            yield from mistyped(
                getattr(obj, field.name), schema[name]["type"], concrete, f"{path}.{name}"
            )


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("key", [k for k in OP_KEYS if OPS_BY_KEY[k]["returns"] != "void"])
async def test_decoded_values_have_the_schema_types(
    key: str, variant: int, stub: tuple[Stub, Pixop]
) -> None:
    handler, px = stub
    handler.variant = variant
    result = await CALLS[key](px)
    wrong = list(mistyped(result, OPS_BY_KEY[key]["returns"]))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("unknown", [False, True])
def test_the_error_body_decodes_with_no_property_dropped(unknown: bool) -> None:
    """``Error`` is no operation's return type: checked through the error factory."""
    from pixop_async.errors import error_from_response

    sent = spec.example("Error", unknown=unknown)
    error = error_from_response(400, json.dumps(sent).encode())
    assert error.error_body is not None
    kept = unstructure(error.error_body)
    assert not list(spec.dropped(sent, kept))
    assert not list(invented(error.error_body, "Error"))
    assert not list(mistyped(error.error_body, "Error"))
    assert spec.unknown_enum_kept(sent, kept)
    assert error.error_code_enum is not None
    assert error.error_code_enum.known is not unknown

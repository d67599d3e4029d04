"""The admin Pixop-Mimir integration: ``PUT``/``DELETE /api/v1/admin/pixop-mimir-integration``.

The state and time-based rules (mapping, webhook, TTL, leases) live in
:mod:`pixop_async.emulator.mimir_state`. The integration's webhook points at the emulator's
own stand-in for Pixop's integration service (``/mimir-integration/{id}/events`` on the same
host), which verifies each signed delivery and, as the ``commentOn*`` flags ask, records the
comment Pixop would put on the Mimir item. There is no real Mimir: ``MimirWorld`` keeps those
comments and lets tests make Mimir refuse a key or be unreachable, so a failed setup can be
shown to change nothing.

The endpoint authenticates with ``x-pixop-api-key`` rather than ``X-API-Key``; a small
middleware (installed by :func:`setup`) hands that key to the shared auth middleware so the
caller, the rate limit and the error shape work as everywhere else under ``/api``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from aiohttp import web

from ...errors import WebhookSignatureError
from ...webhooks.events import WebhookEventError, parse_event
from ...webhooks.signature import verify_signature
from .. import processing_engine, webhook_delivery
from ..context import caller, selected_team, state_of
from ..http import fail, invalid, no_content, ok, query_bool, query_int, read_json
from ..middleware import STATE_KEY, Handler, auth_middleware
from ..mimir_state import (
    SWEEP_SECONDS,
    MimirWorld,
    on_event,
    remove_integration,
    set_ttl,
    sweep,
    sweep_leases,
    upsert_webhook,
    webhook_of,
    webhook_store,
    world,
)
from ..state import EmulatorState

__all__ = ["SWEEP_SECONDS", "MimirWorld", "setup", "webhook_of", "webhook_store", "world"]

PATH = "/api/v1/admin/pixop-mimir-integration"
ADMIN_PREFIX = "/api/v1/admin/"
SINK_PREFIX = "/mimir-integration/"
MAX_TEXT = 256


# -- the request ------------------------------------------------------------------------------


def _header(request: web.Request, name: str) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        fail(400, "MISSING_REQUEST_HEADER", f"Required request header '{name}' is missing")
    if len(value) > MAX_TEXT:
        invalid(name, None, f"must be at most {MAX_TEXT} characters")
    return value


def _setup_configurations(
    state: EmulatorState, setup: dict[str, Any], team_id: str
) -> list[dict[str, Any]]:
    raw = setup.get("processingConfigurationIds", [])
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        invalid("mimirSetup.processingConfigurationIds", raw, "must be a list of UUID strings")
    store = processing_engine.engine(state).configurations
    found, unknown = [], []
    for config_id in raw:
        try:
            canonical = str(uuid.UUID(config_id))
        except ValueError:
            unknown.append(config_id)
            continue
        config = store.get(canonical)
        if config is None or config.get("teamId") not in (
            processing_engine.BUILTIN_TEAM_ID,
            team_id,
        ):
            unknown.append(config_id)
        else:
            found.append(config)
    if unknown:
        fail(
            400,
            "PROCESSING_CONFIGURATION_NOT_FOUND",
            "Unknown processing configuration ids: " + ", ".join(unknown),
            validation_errors=[
                {
                    "field": "mimirSetup.processingConfigurationIds",
                    "value": ", ".join(unknown),
                    "message": "no such processing configuration in the team",
                }
            ],
        )
    return found


def _manual_steps(setup: dict[str, Any] | None, configs: list[dict[str, Any]]) -> list[str]:
    """What a Mimir administrator still does by hand after this setup."""
    if setup is None:
        return []
    steps = [
        "In Mimir, grant the user groups that may send videos to Pixop access to the custom "
        "actions 'Ingest in Pixop' and 'Delete from Pixop'."
    ]
    for config in configs:
        name = config.get("name") or config.get("id")
        steps.append(
            f"In Mimir, grant access to the custom action for processing configuration '{name}'."
        )
    if setup.get("requireProcessingApproval"):
        steps.append("In Mimir, choose the approvers of Pixop processing jobs.")
    if not setup.get("labels"):
        steps.append("Review the default labels of the Pixop actions and option lists in Mimir.")
    return steps


def _mimir_setup(request: web.Request, api_key: str) -> None:
    """The fake Mimir's answer to configuring the tenant (it changes nothing on failure)."""
    w = world(state_of(request))
    if w.unreachable:
        fail(502, "MIMIR_UNAVAILABLE", "Mimir could not be reached; nothing was changed")
    if api_key in w.rejected_api_keys:
        fail(400, "MIMIR_SETUP_FAILED", "Mimir refused the API key; nothing was changed")


async def put_integration(request: web.Request) -> web.Response:
    state = state_of(request)
    sweep(state)
    tenant = _header(request, "x-mimir-tenant")
    mimir_key = _header(request, "x-mimir-api-key")
    days = query_int(request, "daysToLive", 90, minimum=1, maximum=90) or 90
    window = query_int(request, "tenantIdleLeaseWindowHours", 48, minimum=1, maximum=168) or 48
    jobs = query_int(request, "maxProcessingJobsPerSourceVideo", 1, minimum=1, maximum=5) or 1
    on_ingestion = query_bool(request, "commentOnIngestionFinished", True)
    on_processing = query_bool(request, "commentOnProcessingFinished", True)
    team = selected_team(request, "teamId")
    body = await read_json(request)
    user_id = body.get("mimirNotificationUserId")
    if not isinstance(user_id, str) or not 1 <= len(user_id.strip()) <= MAX_TEXT:
        invalid("mimirNotificationUserId", user_id, f"must be 1 to {MAX_TEXT} characters")
    setup = body.get("mimirSetup")
    if setup is not None and not isinstance(setup, dict):
        invalid("mimirSetup", setup, "must be an object")
    w = world(state)
    existing = w.integrations.get(tenant)
    if existing is not None and existing["teamId"] != team["id"]:
        fail(
            409,
            "MIMIR_TENANT_ALREADY_INTEGRATED",
            f"Mimir tenant '{tenant}' is integrated with another Pixop team",
        )
    configs = _setup_configurations(state, setup, team["id"]) if setup is not None else []
    if setup is not None:
        _mimir_setup(request, mimir_key)
    # Every check passed: only now is anything changed.
    now = state.clock.time()
    record = existing or {**state.stamp(), "mimirTenant": tenant, "webhookId": None}
    old_window = record.get("tenantIdleLeaseWindowHours")
    record.update(
        {
            "teamId": team["id"],
            "mimirNotificationUserId": user_id,
            "daysToLive": days,
            "tenantIdleLeaseWindowHours": window,
            "maxProcessingJobsPerSourceVideo": jobs,
            "commentOnIngestionFinished": on_ingestion,
            "commentOnProcessingFinished": on_processing,
        }
    )
    if setup is not None:
        record["mimirSetup"] = setup
    record["mimirSetupApplied"] = setup is not None
    record["manualSteps"] = _manual_steps(setup, configs)
    set_ttl(record, days, now=now)
    state.touch(record)
    sink = f"{request.url.origin()}{SINK_PREFIX}{record['id']}/events"
    record["webhookId"] = upsert_webhook(state, record, sink)
    w.integrations[tenant] = record
    if old_window is not None and old_window != window:
        sweep_leases(state)  # leases are recomputed against the new window at once
    return ok(_public(record))


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the API shows it (no Mimir key, no internal fields)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


async def delete_integration(request: web.Request) -> web.Response:
    state = state_of(request)
    sweep(state)
    tenant = _header(request, "x-mimir-tenant")
    _header(request, "x-mimir-api-key")
    record = world(state).integrations.get(tenant)
    if record is None or record["teamId"] not in state.team_ids(caller(request)["id"]):
        fail(404, "RESOURCE_NOT_FOUND", f"No Pixop-Mimir integration for tenant '{tenant}'")
    remove_integration(state, tenant)
    return no_content()


# -- the integration service's end of the webhook -------------------------------------------

#: Which events are "ingestion finished" / "processing finished" for the comment flags.
_COMMENT_FLAGS = {
    "video_in_ingestion.done": "commentOnIngestionFinished",
    "video_in_ingestion.failed": "commentOnIngestionFinished",
    "video_processing.done": "commentOnProcessingFinished",
    "video_processing.failed": "commentOnProcessingFinished",
}


def _comment(record: dict[str, Any], event_type: str, video_id: str | None) -> dict[str, Any]:
    step = "ingestion" if "ingestion" in event_type else "processing"
    outcome = "failed" if event_type.endswith(".failed") else "finished"
    return {
        "tenant": record["mimirTenant"],
        "videoId": video_id,
        "userId": record["mimirNotificationUserId"],
        "eventType": event_type,
        "text": f"Pixop {step} {outcome}.",
    }


async def integration_events(request: web.Request) -> web.Response:
    """Receive the integration's webhook deliveries the way Pixop's service would."""
    state = state_of(request)
    w = world(state)
    record = next((r for r in w.integrations.values() if r["id"] == request.match_info["id"]), None)
    if record is None:
        return web.json_response({"status": "no such integration"}, status=404)
    body = await request.read()
    keys = {key.id: key.public_b64 for key in webhook_delivery.hub(state).valid_keys()}
    try:
        verify_signature(body, request.headers, keys, now=state.clock.time())
        event = parse_event(body, request.headers)
    except WebhookSignatureError:
        return web.json_response({"status": "invalid signature"}, status=401)
    except WebhookEventError:
        return web.json_response({"status": "malformed event"}, status=400)
    if str(event.id) in w.handled_events:
        return web.json_response({"status": "duplicate"})
    w.handled_events.add(str(event.id))
    flag = _COMMENT_FLAGS.get(event.event_type.value)
    if flag is not None and record[flag] and not event.test:
        video_id = str(event.video_id) if event.video_id else None
        w.comments.append(_comment(record, event.event_type.value, video_id))
    return web.json_response({"status": "accepted"})


@web.middleware
async def admin_key_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Present the admin endpoint's ``x-pixop-api-key`` to the shared X-API-Key auth."""
    if not request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    key = request.headers.get("x-pixop-api-key", "").strip()
    if not key:
        fail(401, "MISSING_API_KEY", "The x-pixop-api-key header is missing")
    headers = request.headers.copy()
    headers["X-API-Key"] = key
    return await handler(request.clone(headers=headers))


def setup(app: web.Application) -> None:
    app.router.add_put(PATH, put_integration)
    app.router.add_delete(PATH, delete_integration)
    app.router.add_post(SINK_PREFIX + "{id}/events", integration_events)
    # Runs inside errors_middleware (so failures get the API's Error body), before auth.
    app.middlewares.insert(app.middlewares.index(auth_middleware), admin_key_middleware)
    state = app[STATE_KEY]
    state.event_listeners.append(lambda event, vid: on_event(state, event, vid))

    async def ticker() -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            sweep(state)

    tasks: list[asyncio.Task[None]] = []

    async def start(_app: web.Application) -> None:
        tasks.append(asyncio.get_running_loop().create_task(ticker()))

    async def stop(_app: web.Application) -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.on_startup.append(start)
    app.on_cleanup.append(stop)

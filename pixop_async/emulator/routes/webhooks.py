"""``/v1/webhooks``, ``/v1/webhooks/events``, ``/v1/webhooks/public-keys``.

Webhook target URLs follow the API's rules (public HTTPS on port 443); with
``EmulatorConfig.allow_http_sources`` the emulator also accepts ``http://127.0.0.1`` targets,
so tests can receive deliveries on a local server.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from aiohttp import web

from ...import_url import url_problem
from ...models.converter import parse_datetime
from ...models.webhooks import WebhookEventType
from ..activation import refuse_when_full, set_active
from ..context import owned, selected_team, state_of, team_filter
from ..http import (
    fail,
    invalid,
    no_content,
    not_found,
    ok,
    optional_text,
    paginate,
    path_uuid,
    query_enum,
    query_uuid,
    read_json,
    require_text,
)
from ..webhook_delivery import WebhookHub, hub

NAME_MAX = 255
DESCRIPTION_MAX = 511
MAX_ACTIVE = 10
#: The retry window a new webhook gets; clients cannot set it on creation.
DEFAULT_RETRY_MINUTES = 180
TEST_EVENTS_PER_DAY = 1000
TEST_EVENT_TTL_SECONDS = 24 * 3600
EVENT_TYPES = tuple(t.value for t in WebhookEventType)
MODES = ("INCLUDE", "EXCLUDE", "ONLY")


def _hub(request: web.Request) -> WebhookHub:
    return hub(state_of(request))


# --------------------------------------------------------------------------- body checks


def _url(request: web.Request, value: Any) -> str:
    allow = state_of(request).config.allow_http_sources
    problem = url_problem(value, allow_loopback_http=allow)
    if problem is not None:
        invalid("url", value, problem)
    assert isinstance(value, str)
    return value


def _int_field(body: dict[str, Any], name: str, lo: int, hi: int) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        invalid(name, value, f"must be an integer between {lo} and {hi}")
    return value


def _event_types(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        invalid("eventTypes", value, "must be a non-empty list of event types")
    for item in value:
        if item not in EVENT_TYPES:
            invalid("eventTypes", item, "unknown event type")
    return list(dict.fromkeys(value))


def _refuse_over_limit(webhooks: WebhookHub, team_id: str) -> None:
    refuse_when_full(
        (w for w in webhooks.webhooks.values() if w["teamId"] == team_id),
        MAX_ACTIVE,
        "MAXIMUM_AMOUNT_OF_ACTIVE_WEBHOOKS_REACHED",
        f"A team can have at most {MAX_ACTIVE} active webhooks",
    )


# --------------------------------------------------------------------------- webhooks


async def create(request: web.Request) -> web.Response:
    body = await read_json(request)
    active = body.get("active")
    if not isinstance(active, bool):
        invalid("active", active, "must be true or false")
    webhook = {
        "name": require_text(body, "name", min_len=1, max_len=NAME_MAX),
        "description": optional_text(body, "description", max_len=DESCRIPTION_MAX),
        "url": _url(request, body.get("url")),
        "rateLimitPerSecond": _int_field(body, "rateLimitPerSecond", 1, 1000),
        # read-only on creation (API 2.1.0): a value sent is ignored, the default applies
        "maxTotalRetryDelayMinutes": DEFAULT_RETRY_MINUTES,
        "eventTypes": _event_types(body.get("eventTypes")),
        "active": active,
    }
    team = selected_team(request)
    webhooks = _hub(request)
    if active:
        _refuse_over_limit(webhooks, team["id"])
    record = {**state_of(request).stamp(), "teamId": team["id"], **webhook}
    webhooks.webhooks[record["id"]] = record
    return ok(record, status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    keep = team_filter(request)
    items = [w for w in _hub(request).webhooks.values() if keep(w)]
    return ok(paginate(request, items))


def _webhook(request: web.Request) -> dict[str, Any]:
    return owned(request, _hub(request).webhooks, path_uuid(request, "id"), "Webhook")


async def get(request: web.Request) -> web.Response:
    return ok(_webhook(request))


async def patch(request: web.Request) -> web.Response:
    webhook = _webhook(request)
    body = await read_json(request)
    changes: dict[str, Any] = {}
    if body.get("name") is not None:
        changes["name"] = require_text(body, "name", min_len=1, max_len=NAME_MAX)
    if "description" in body:
        changes["description"] = optional_text(body, "description", max_len=DESCRIPTION_MAX)
    if body.get("url") is not None:
        changes["url"] = _url(request, body["url"])
    if body.get("rateLimitPerSecond") is not None:
        changes["rateLimitPerSecond"] = _int_field(body, "rateLimitPerSecond", 1, 1000)
    if body.get("maxTotalRetryDelayMinutes") is not None:
        changes["maxTotalRetryDelayMinutes"] = _int_field(
            body, "maxTotalRetryDelayMinutes", 0, 1440
        )
    if body.get("eventTypes") is not None:
        changes["eventTypes"] = _event_types(body["eventTypes"])
    webhook.update(changes)
    state_of(request).touch(webhook)
    return ok(webhook)


async def delete(request: web.Request) -> web.Response:
    webhook = _webhook(request)
    del _hub(request).webhooks[webhook["id"]]
    return no_content()


async def activate(request: web.Request) -> web.Response:
    webhook = _webhook(request)
    team_id = webhook["teamId"]
    set_active(
        state_of(request),
        webhook,
        True,
        before_activating=lambda: _refuse_over_limit(_hub(request), team_id),
    )
    return ok(webhook)


async def deactivate(request: web.Request) -> web.Response:
    return ok(set_active(state_of(request), _webhook(request), False))


async def send_test(request: web.Request) -> web.Response:
    """Queue a test event; 409 when inactive, unsubscribed or over the daily test quota."""
    webhook = _webhook(request)
    state = state_of(request)
    video_id = query_uuid(request, "videoId") or str(uuid.uuid4())
    event_type = query_enum(request, "eventType", EVENT_TYPES, None)
    if not webhook["active"]:
        fail(409, "WEBHOOK_NOT_ACTIVE", "The webhook is not active")
    if event_type is None:
        event_type = random.choice(webhook["eventTypes"])
    elif event_type not in webhook["eventTypes"]:
        fail(409, "CONFLICT", f"The webhook is not subscribed to {event_type}")
    webhooks = _hub(request)
    now = state.clock.time()
    sent = [t for t in webhooks.test_events_sent.get(webhook["teamId"], []) if now - t < 86400]
    if len(sent) >= TEST_EVENTS_PER_DAY:
        fail(409, "TOO_MANY_WEBHOOK_TEST_EVENTS", "Test event limit reached for 24 hours")
    webhooks.test_events_sent[webhook["teamId"]] = [*sent, now]
    return ok(webhooks.enqueue(webhook, event_type, video_id, test=True))


# --------------------------------------------------------------------------- events


def _query_time(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return parse_datetime(raw).isoformat()
    except ValueError:
        invalid(name, raw, "must be an RFC 3339 date-time")


def _occurred(event: dict[str, Any]) -> str:
    return parse_datetime(event["payload"]["occurredAt"]).isoformat()


def _mode_keeps(mode: str | None, flag: bool) -> bool:
    return mode == "INCLUDE" or (mode == "ONLY") == flag


async def list_events(request: web.Request) -> web.Response:
    keep = team_filter(request)
    successful = query_enum(request, "successfulMode", MODES, "INCLUDE")
    test = query_enum(request, "testMode", MODES, "INCLUDE")
    since, until = _query_time(request, "occurredAtFrom"), _query_time(request, "occurredAtUntil")
    items = [
        e
        for e in _visible_events(request)
        if keep(e)
        and _mode_keeps(successful, e["successful"] is True)
        and _mode_keeps(test, e["payload"]["test"])
        and (since is None or _occurred(e) >= since)
        and (until is None or _occurred(e) < until)
    ]
    return ok(paginate(request, items))


def _visible_events(request: web.Request) -> list[dict[str, Any]]:
    """Events, with test events deleted 24 hours after they occurred."""
    webhooks = _hub(request)
    now = state_of(request).clock.time()
    for event_id, event in list(webhooks.events.items()):
        age = now - parse_datetime(event["createdAt"]).timestamp()
        if event["payload"]["test"] and age > TEST_EVENT_TTL_SECONDS:
            del webhooks.events[event_id]
    return list(webhooks.events.values())


async def get_event(request: web.Request) -> web.Response:
    _visible_events(request)
    return ok(owned(request, _hub(request).events, path_uuid(request, "id"), "Webhook event"))


# --------------------------------------------------------------------------- public keys


async def list_keys(request: web.Request) -> web.Response:
    return ok([k.json() for k in _hub(request).valid_keys()])


async def get_key(request: web.Request) -> web.Response:
    key_id = path_uuid(request, "id")
    for key in _hub(request).valid_keys():
        if key.id == key_id:
            return ok(key.json())
    not_found("Webhook public key")


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/webhooks", create)
    r.add_get("/api/v1/webhooks", list_webhooks)
    r.add_get("/api/v1/webhooks/events", list_events)
    r.add_get("/api/v1/webhooks/events/{id}", get_event)
    r.add_get("/api/v1/webhooks/public-keys", list_keys)
    r.add_get("/api/v1/webhooks/public-keys/{id}", get_key)
    r.add_get("/api/v1/webhooks/{id}", get)
    r.add_patch("/api/v1/webhooks/{id}", patch)
    r.add_delete("/api/v1/webhooks/{id}", delete)
    r.add_post("/api/v1/webhooks/{id}/activate", activate)
    r.add_post("/api/v1/webhooks/{id}/deactivate", deactivate)
    r.add_post("/api/v1/webhooks/{id}/test", send_test)

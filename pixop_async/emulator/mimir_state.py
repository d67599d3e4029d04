"""State of the emulator's Pixop-Mimir integrations and their time-based rules.

Per Mimir tenant: the mapping to a Pixop team and its settings, the Pixop webhook (kept in
the emulator's webhook hub), a time to live (renewed by another PUT and by new Pixop jobs of
the team, expiring into the same clean-up as a DELETE) and the tenant's idle lease window for
master videos (an unused master is deleted when its lease runs out; one still being worked
on gets its lease re-added). :func:`sweep` applies the time-based rules against the emulator
clock; the routes live in :mod:`pixop_async.emulator.routes.mimir`.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

import attrs

from . import lifecycle, webhook_delivery
from .clock import iso
from .state import EmulatorState

SWEEP_SECONDS = 0.2
DAY = 86_400.0
HOUR = 3_600.0
WEBHOOK_EVENT_TYPES = [
    "video_in_ingestion.done",
    "video_in_ingestion.failed",
    "video_processing.done",
    "video_processing.failed",
    "video_processing_ingestion.done",
    "video_processing_ingestion.failed",
    "video.deleted",
]
#: Events that mean "a new Pixop job was initiated" and so renew the integration's TTL.
JOB_START_EVENTS = frozenset({"video_in.started", "video_processing.started"})


@attrs.define
class MimirWorld:
    """Emulator-only facts: integrations by tenant, master-video leases, the comments the
    integration made in Mimir, and knobs that make the fake Mimir fail."""

    integrations: dict[str, dict[str, Any]] = attrs.Factory(dict)
    #: Comments "posted" to Mimir items: {tenant, videoId, userId, eventType, text}.
    comments: list[dict[str, Any]] = attrs.Factory(list)
    #: Event ids the integration service has handled (deliveries are retried).
    handled_events: set[str] = attrs.Factory(set)
    #: tenant -> {master video id: last-used unix time}
    leases: dict[str, dict[str, float]] = attrs.Factory(dict)
    #: Mimir API keys the fake Mimir refuses (setup fails with 400).
    rejected_api_keys: set[str] = attrs.Factory(set)
    #: When True the fake Mimir cannot be reached (setup fails with 502).
    unreachable: bool = False


_WORLDS: weakref.WeakKeyDictionary[EmulatorState, MimirWorld] = weakref.WeakKeyDictionary()


def world(state: EmulatorState) -> MimirWorld:
    """The Mimir side of an emulator state (created on first use)."""
    if state not in _WORLDS:
        _WORLDS[state] = MimirWorld()
    return _WORLDS[state]


# -- the webhook, kept in the emulator's webhook hub ---------------------------------------------


def webhook_store(state: EmulatorState) -> dict[str, dict[str, Any]]:
    return webhook_delivery.hub(state).webhooks


def webhook_of(state: EmulatorState, tenant: str) -> dict[str, Any] | None:
    record = world(state).integrations.get(tenant)
    if record is None:
        return None
    return webhook_store(state).get(record["webhookId"])


def upsert_webhook(state: EmulatorState, record: dict[str, Any], url: str) -> str:
    """Create the integration's webhook (posting to ``url``) or reactivate the existing one."""
    store = webhook_store(state)
    existing = store.get(record.get("webhookId") or "")
    if existing is not None:
        existing["teamId"] = record["teamId"]
        existing["active"] = True
        state.touch(existing)
        return str(existing["id"])
    tenant = record["mimirTenant"]
    webhook = {
        **state.stamp(),
        "teamId": record["teamId"],
        "active": True,
        "name": f"Pixop-Mimir integration ({tenant})"[:47],
        "description": "Created by the Pixop-Mimir integration; removed with it.",
        "url": url,
        "rateLimitPerSecond": 10,
        "maxTotalRetryDelayMinutes": 1440,
        "eventTypes": list(WEBHOOK_EVENT_TYPES),
    }
    store[webhook["id"]] = webhook
    return str(webhook["id"])


def remove_integration(state: EmulatorState, tenant: str) -> bool:
    """Delete an integration with its webhook and leases (DELETE and TTL expiry)."""
    w = world(state)
    record = w.integrations.pop(tenant, None)
    if record is None:
        return False
    webhook_store(state).pop(record["webhookId"], None)
    w.leases.pop(tenant, None)
    return True


# -- leases of master videos -----------------------------------------------------------------


def _unix(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _masters(state: EmulatorState, team_id: str) -> list[dict[str, Any]]:
    return [
        v
        for v in state.videos.values()
        if v.get("teamId") == team_id and (v.get("flags") or {}).get("isMaster")
    ]


def _busy(state: EmulatorState, master_id: str) -> bool:
    """Whether Pixop still works on the master or on anything derived from it."""
    for video in state.videos.values():
        related = video["id"] == master_id or (video.get("masterVideo") or {}).get("id") == (
            master_id
        )
        flags = video.get("flags") or {}
        if related and (flags.get("isProcessing") or flags.get("isIngesting")):
            return True
    return False


def sweep_leases(state: EmulatorState) -> list[str]:
    """Delete idle masters whose lease ran out; busy ones get their lease re-added."""
    now = state.clock.time()
    deleted: list[str] = []
    for tenant, record in list(world(state).integrations.items()):
        leases = world(state).leases.setdefault(tenant, {})
        window = record["tenantIdleLeaseWindowHours"] * HOUR
        for master in _masters(state, record["teamId"]):
            last_used = leases.setdefault(master["id"], _unix(master["createdAt"]))
            if now - last_used < window:
                continue
            if _busy(state, master["id"]):
                leases[master["id"]] = now  # re-added while work is in progress
                continue
            deleted.extend(lifecycle.delete_video(state, master["id"]))
            leases.pop(master["id"], None)
    return deleted


def sweep(state: EmulatorState) -> None:
    """Apply every time-based rule: TTL expiry first, then master-video leases."""
    now = state.clock.time()
    for tenant, record in list(world(state).integrations.items()):
        if record["_expires"] <= now:
            remove_integration(state, tenant)
    sweep_leases(state)


def on_event(state: EmulatorState, event_type: str, video_id: str) -> None:
    """New jobs renew the TTL; use of a master renews its lease."""
    video = state.videos.get(video_id)
    if video is None:
        return
    now = state.clock.time()
    master_id = (video.get("masterVideo") or {}).get("id") or video_id
    for tenant, record in world(state).integrations.items():
        if record["teamId"] != video.get("teamId"):
            continue
        if event_type in JOB_START_EVENTS:
            set_ttl(record, record["daysToLive"], now=now)
        if event_type == "video_processing.started" or video_id == master_id:
            world(state).leases.setdefault(tenant, {})[master_id] = now


def set_ttl(record: dict[str, Any], days: int, *, now: float) -> None:
    record["_expires"] = now + days * DAY
    record["expiresAt"] = iso(dt.datetime.fromtimestamp(record["_expires"], dt.timezone.utc))

"""Typed webhook events: a delivery's WebhookEventPayload plus what the delivery said about it.

The payload model is :class:`pixop_async.models.webhooks.WebhookEventPayload` (shared with
the webhook event listings of the API); :class:`ReceivedEvent` wraps it with the delivery's
signing facts and shortcuts for the fields every handler reads.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from ..models.converter import structure
from ..models.webhooks import WebhookEventPayload, WebhookEventType
from .signature import KEY_ID_HEADER, TIMESTAMP_HEADER, header

#: Bodies larger than this are not parsed (a Pixop event is a few hundred bytes).
MAX_EVENT_BODY = 256 * 1024


class WebhookEventError(ValueError):
    """A (verified) delivery body is not a well-formed webhook event."""


@attrs.frozen
class ReceivedEvent:
    """One accepted webhook delivery.

    ``payload`` is the typed body. ``id`` identifies the event across delivery attempts
    (Pixop's retries repeat it with a higher ``attempt_count``), so it is the key for
    de-duplication. ``key_id`` and ``signed_at`` (unix seconds) come from the signature
    headers; ``raw`` keeps the decoded JSON for fields this SDK does not model yet.
    """

    payload: WebhookEventPayload
    key_id: str | None = None
    signed_at: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def id(self) -> uuid.UUID:
        return self.payload.id

    @property
    def webhook_id(self) -> uuid.UUID:
        return self.payload.webhook_id

    @property
    def event_type(self) -> WebhookEventType:
        return self.payload.event_type

    @property
    def occurred_at(self) -> dt.datetime:
        return self.payload.occurred_at

    @property
    def test(self) -> bool:
        return self.payload.test

    @property
    def attempt_count(self) -> int:
        return self.payload.attempt_count

    @property
    def video_id(self) -> uuid.UUID | None:
        """The video concerned (every event type Pixop sends today is about a video)."""
        return self.payload.data.video_id if self.payload.data is not None else None

    @property
    def is_failure(self) -> bool:
        return self.event_type.value.endswith(".failed")

    @property
    def is_terminal(self) -> bool:
        """Whether the step reported on has ended (done, failed, or the video deleted)."""
        return self.event_type.value.endswith((".done", ".failed")) or (
            self.event_type is WebhookEventType.VIDEO_DELETED
        )


def _check_shape(data: Any) -> dict[str, Any]:
    """Type checks the converter would otherwise coerce (``bool("no")`` is True)."""
    if not isinstance(data, dict):
        raise WebhookEventError("event body must be a JSON object")
    for field in ("id", "webhookId", "eventType", "occurredAt"):
        if not isinstance(data.get(field), str) or not data[field]:
            raise WebhookEventError(f"event lacks a string {field!r}")
    if not isinstance(data.get("test"), bool):
        raise WebhookEventError("event field 'test' is missing or not a boolean")
    attempts = data.get("attemptCount")
    if isinstance(attempts, bool) or not isinstance(attempts, int):
        raise WebhookEventError("event field 'attemptCount' is missing or not an integer")
    payload = data.get("data")
    if payload is not None:
        if not isinstance(payload, dict):
            raise WebhookEventError("event field 'data' is not an object")
        video_id = payload.get("videoId")
        if video_id is not None and not isinstance(video_id, str):
            raise WebhookEventError("event field 'data.videoId' is not a string")
    return data


def payload_from_json(data: Any) -> WebhookEventPayload:
    """A typed payload from decoded JSON; :class:`WebhookEventError` when malformed."""
    checked = _check_shape(data)
    try:
        return structure(checked, WebhookEventPayload)
    except Exception as exc:  # cattrs reports bad UUIDs/dates as (grouped) ValueErrors
        raise WebhookEventError(f"event is malformed: {type(exc).__name__}") from None


def parse_event(body: bytes, headers: Mapping[str, str] | None = None) -> ReceivedEvent:
    """Parse a delivery body (raw bytes); ``headers`` add the signing key id and time."""
    if len(body) > MAX_EVENT_BODY:
        raise WebhookEventError("event body is too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookEventError("event body is not valid JSON") from None
    payload = payload_from_json(data)
    key_id = header(headers, KEY_ID_HEADER) if headers is not None else None
    stamp = header(headers, TIMESTAMP_HEADER) if headers is not None else None
    return ReceivedEvent(
        payload,
        key_id=key_id,
        signed_at=int(stamp) if stamp is not None and stamp.strip().isdigit() else None,
        raw=data,
    )

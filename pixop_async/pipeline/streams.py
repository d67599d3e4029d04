"""Publishing to a Redis Stream, and webhook events as stream entries (both ways)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ..webhooks.events import MAX_EVENT_BODY, ReceivedEvent, WebhookEventError, payload_from_json
from .policy import check_key
from .worker import StreamMessage

#: The ``kind`` field of webhook entries.
WEBHOOK_KIND = "pixop.webhook"


class StreamPublisher:
    """``XADD`` entries to ``stream``; ``maxlen`` (approximate) bounds the stream's length.

    ``maxlen`` drops the oldest entries whether or not a consumer group has handled them,
    so it can lose work a slow worker has not reached; :class:`StreamWorker` trims safely
    on its own (``WorkerSettings.trim``), below what every group still needs. Use
    ``maxlen`` only as a hard cap for streams whose loss is acceptable.

    Calling the publisher with a :class:`ReceivedEvent` publishes it (this is the
    ``publish=`` hook of :class:`~pixop_async.webhooks.WebhookReceiver`).
    """

    def __init__(self, redis: Any, stream: str, *, maxlen: int | None = None) -> None:
        if maxlen is not None and (not isinstance(maxlen, int) or maxlen < 1):
            raise ValueError("maxlen must be a positive integer or None")
        self.redis = redis
        self.stream = check_key(stream, "stream")
        self.maxlen = maxlen

    def __repr__(self) -> str:
        return f"StreamPublisher(stream={self.stream!r})"

    async def publish(self, fields: Mapping[str, str]) -> str:
        """Append one entry; returns its id."""
        entry_id = await self.redis.xadd(
            self.stream, dict(fields), maxlen=self.maxlen, approximate=True
        )
        return str(entry_id)

    async def __call__(self, event: ReceivedEvent) -> None:
        await self.publish(event_fields(event))


def event_fields(event: ReceivedEvent) -> dict[str, str]:
    """A verified webhook event as stream entry fields (the body is the event's JSON)."""
    fields = {
        "kind": WEBHOOK_KIND,
        "event_id": str(event.id),
        "event_type": event.event_type.value,
        "body": json.dumps(event.raw, separators=(",", ":")),
        "received_at": f"{time.time():.6f}",
    }
    if event.video_id is not None:
        fields["video_id"] = str(event.video_id)
    if event.key_id is not None:
        fields["key_id"] = event.key_id
    if event.signed_at is not None:
        fields["signed_at"] = str(event.signed_at)
    return fields


def event_from_message(message: StreamMessage) -> ReceivedEvent:
    """The webhook event in a stream entry; :class:`WebhookEventError` if it is not one.

    The entry was written by a receiver after verifying the signature, but whoever can
    write to the stream can write anything: the body is parsed and checked again.
    """
    fields = message.fields
    if fields.get("kind") != WEBHOOK_KIND:
        raise WebhookEventError(f"stream entry {message.id} is not a webhook event")
    body = fields.get("body", "")
    if len(body) > MAX_EVENT_BODY:
        raise WebhookEventError("event body is too large")
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookEventError("event body is not valid JSON") from None
    payload = payload_from_json(data)
    if str(payload.id) != fields.get("event_id"):
        raise WebhookEventError("entry event_id does not match its body")
    stamp = fields.get("signed_at", "")
    return ReceivedEvent(
        payload,
        key_id=fields.get("key_id"),
        signed_at=int(stamp) if stamp.isdigit() else None,
        raw=data,
    )

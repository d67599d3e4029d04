"""Receiving Pixop webhooks: signature verification, key cache, typed events, a receiver.

```python
keys = PublicKeyCache(px)                          # fetched from /v1/webhooks/public-keys
receiver = WebhookReceiver(keys)
async with receiver.serve(port=8091) as url:       # or mount receiver.handler in your app
    async for event in receiver.events():
        print(event.event_type, event.video_id)
```
"""

from typing import TYPE_CHECKING, Any

# Names load on first use (PEP 562): the receiver brings aiohttp.web and verifying brings
# cryptography, and a client that only polls should pay for neither.
_EXPORTS = {
    "WebhookSignatureError": "..errors",
    "WebhookEventPayload": "..models.webhooks",
    "WebhookEventType": "..models.webhooks",
    **dict.fromkeys(
        ["ReceivedEvent", "WebhookEventError", "parse_event", "payload_from_json"], ".events"
    ),
    **dict.fromkeys(["KeyRecord", "PublicKeyCache"], ".keys"),
    "WebhookReceiver": ".receiver",
    **dict.fromkeys(
        [
            "ALGORITHM",
            "ALGORITHM_HEADER",
            "KEY_ID_HEADER",
            "SIGNATURE_HEADER",
            "TIMESTAMP_HEADER",
            "UnknownPublicKeyError",
            "encode_public_key",
            "generate_key",
            "sign",
            "verify_signature",
        ],
        ".signature",
    ),
    **dict.fromkeys(["Claim", "EventStore", "MemoryEventStore", "RedisEventStore"], ".store"),
    **dict.fromkeys(["EventWaitResult", "wait_for_event"], ".waiting"),
}

if TYPE_CHECKING:
    from ..errors import WebhookSignatureError
    from ..models.webhooks import WebhookEventPayload, WebhookEventType
    from .events import ReceivedEvent, WebhookEventError, parse_event, payload_from_json
    from .keys import KeyRecord, PublicKeyCache
    from .receiver import WebhookReceiver
    from .signature import (
        ALGORITHM,
        ALGORITHM_HEADER,
        KEY_ID_HEADER,
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        UnknownPublicKeyError,
        encode_public_key,
        generate_key,
        sign,
        verify_signature,
    )
    from .store import Claim, EventStore, MemoryEventStore, RedisEventStore
    from .waiting import EventWaitResult, wait_for_event


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "ALGORITHM",
    "ALGORITHM_HEADER",
    "KEY_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Claim",
    "EventStore",
    "EventWaitResult",
    "KeyRecord",
    "MemoryEventStore",
    "PublicKeyCache",
    "ReceivedEvent",
    "RedisEventStore",
    "UnknownPublicKeyError",
    "WebhookEventError",
    "WebhookEventPayload",
    "WebhookEventType",
    "WebhookReceiver",
    "WebhookSignatureError",
    "encode_public_key",
    "generate_key",
    "parse_event",
    "payload_from_json",
    "sign",
    "verify_signature",
    "wait_for_event",
]

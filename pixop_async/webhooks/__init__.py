"""Receiving Pixop webhooks: signature verification, key cache, typed events, a receiver.

```python
keys = PublicKeyCache(px)                          # fetched from /v1/webhooks/public-keys
receiver = WebhookReceiver(keys)
async with receiver.serve(port=8091) as url:       # or mount receiver.handler in your app
    async for event in receiver.events():
        print(event.event_type, event.video_id)
```
"""

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

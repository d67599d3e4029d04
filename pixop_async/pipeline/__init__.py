"""Work shared by many processes over Redis Streams (needs ``pixop-async[redis]``).

```python
from pixop_async.pipeline import StreamWorker, connect, event_from_message

redis = connect("redis://localhost:6379/0")

async def handle(message):
    event = event_from_message(message)          # a verified webhook event
    ...                                          # idempotent work; raise to retry

await StreamWorker(redis, "pixop:webhooks", "exporters", handle).run()
```

redis-py is imported on first use (:func:`connect`), never by ``import pixop_async``.
"""

from ._redis import RedisUnavailableError, connect, redacted, redis_module
from .policy import PermanentError, WorkerSettings, backoff, is_permanent
from .streams import WEBHOOK_KIND, StreamPublisher, event_fields, event_from_message
from .trim import TrimResult, trim_acknowledged
from .worker import StreamMessage, StreamWorker, default_consumer

__all__ = [
    "WEBHOOK_KIND",
    "PermanentError",
    "RedisUnavailableError",
    "StreamMessage",
    "StreamPublisher",
    "StreamWorker",
    "TrimResult",
    "WorkerSettings",
    "backoff",
    "connect",
    "default_consumer",
    "event_fields",
    "event_from_message",
    "is_permanent",
    "redacted",
    "redis_module",
    "trim_acknowledged",
]

"""Shared receiver state: which event ids were already acted on, across replicas.

An :class:`EventStore` answers "may I act on this event id?" exactly once per id. A
claim is first a short *lease* (the replica holding it is handing the event over); it
becomes *done* when the hand-over succeeded, and is released when it failed, so Pixop's
retry of that delivery is accepted again instead of being lost as a "duplicate". Done
ids are kept for ``ttl`` seconds, longer than Pixop retries a delivery; older replays
are refused anyway by the signature's timestamp tolerance.

:class:`MemoryEventStore` is the single-process default; :class:`RedisEventStore` (SET NX
with an expiry) lets any number of receivers share one view.
"""

from __future__ import annotations

import collections
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .events import ReceivedEvent

log = logging.getLogger("pixop_async.webhooks")

#: Seconds an event id is remembered once handed over (Pixop retries for up to a day).
DEFAULT_TTL = 3 * 24 * 3600.0
#: Seconds a replica may hold a claim while it hands the event over.
DEFAULT_LEASE = 60.0


class Claim(enum.Enum):
    NEW = "new"  # act on it, then confirm() or release()
    DUPLICATE = "duplicate"  # already handed over
    IN_PROGRESS = "in_progress"  # another replica is handing it over right now


class EventStore(Protocol):
    async def claim(self, event_id: str) -> Claim: ...

    async def confirm(self, event_id: str) -> None: ...

    async def release(self, event_id: str) -> None: ...


def _check_times(ttl: float, lease: float) -> None:
    if not ttl > 0 or not lease > 0:
        raise ValueError("ttl and lease must be > 0 seconds")


class MemoryEventStore:
    """An :class:`EventStore` in this process's memory (the last ``capacity`` ids)."""

    def __init__(
        self,
        capacity: int = 10_000,
        *,
        ttl: float = DEFAULT_TTL,
        lease: float = DEFAULT_LEASE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        _check_times(ttl, lease)
        self.capacity, self.ttl, self.lease = capacity, ttl, lease
        self._clock = clock
        # id -> (done?, expiry), oldest first
        self._ids: collections.OrderedDict[str, tuple[bool, float]] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    async def claim(self, event_id: str) -> Claim:
        now = self._clock()
        entry = self._ids.get(event_id)
        if entry is not None and entry[1] > now:
            return Claim.DUPLICATE if entry[0] else Claim.IN_PROGRESS
        self._put(event_id, False, now + self.lease)
        return Claim.NEW

    async def confirm(self, event_id: str) -> None:
        self._put(event_id, True, self._clock() + self.ttl)

    async def release(self, event_id: str) -> None:
        entry = self._ids.get(event_id)
        if entry is not None and not entry[0]:
            del self._ids[event_id]

    def _put(self, event_id: str, done: bool, expiry: float) -> None:
        self._ids[event_id] = (done, expiry)
        self._ids.move_to_end(event_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


_RELEASE = """
if redis.call('GET', KEYS[1]) == 'lease' then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisEventStore:
    """An :class:`EventStore` in Redis: one key per event id, ``SET NX`` with an expiry.

    ``redis`` is a ``redis.asyncio.Redis`` with ``decode_responses=True`` (see
    :func:`pixop_async.pipeline.connect`); keys are ``{prefix}{event id}``.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "pixop:webhook:event:",
        ttl: float = DEFAULT_TTL,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        _check_times(ttl, lease)
        self.redis, self.prefix, self.ttl = redis, prefix, ttl
        self.ttl_ms, self.lease_ms = int(ttl * 1000), max(1, int(lease * 1000))
        self._release = redis.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"RedisEventStore(prefix={self.prefix!r})"

    async def claim(self, event_id: str) -> Claim:
        key = self.prefix + event_id
        if await self.redis.set(key, "lease", nx=True, px=self.lease_ms):
            return Claim.NEW
        state = await self.redis.get(key)
        if state is None:  # expired between the two calls: try once more
            return await self.claim(event_id)
        return Claim.DUPLICATE if state == "done" else Claim.IN_PROGRESS

    async def confirm(self, event_id: str) -> None:
        await self.redis.set(self.prefix + event_id, "done", px=self.ttl_ms)

    async def release(self, event_id: str) -> None:
        await self._release(keys=[self.prefix + event_id])


Publish = Callable[["ReceivedEvent"], Awaitable[None]]


async def accept_shared(
    event: ReceivedEvent,
    store: EventStore,
    publish: Publish | None,
    busy: Callable[[], bool],
) -> tuple[int, str]:
    """The receiver's decision for a verified event when a store or publisher is set.

    Returns ``(HTTP status, outcome)``; on 202 the event was claimed, published (if a
    publisher is set) and confirmed, and the caller dispatches it locally.
    """
    event_id = str(event.id)
    claim = await store.claim(event_id)
    if claim is Claim.DUPLICATE:
        return 200, "duplicate"
    if claim is Claim.IN_PROGRESS:
        return 503, "in progress"
    if busy():
        await store.release(event_id)
        return 503, "busy"
    if publish is not None:
        try:
            await publish(event)
        except Exception:
            await store.release(event_id)
            raise
    try:
        await store.confirm(event_id)
    except Exception as exc:
        # Handed over already: answering 503 now would make Pixop deliver it again and,
        # once the lease lapsed, publish it twice. The lease still covers the retries of
        # the next ``lease`` seconds.
        log.warning("event %s handed over, but not marked done: %s", event_id, exc)
    return 202, "accepted"

"""Wait for a video's webhook event, polling as a safety net when events do not come."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from .. import validation as v
from ..errors import InvalidRequestError, PollTimeoutError
from ..ids import VideoId
from ..models.webhooks import WebhookEventType
from .events import ReceivedEvent

if TYPE_CHECKING:
    from .receiver import WebhookReceiver

T = TypeVar("T")


@attrs.frozen
class EventWaitResult(Generic[T]):
    """How a wait ended: by a webhook ``event`` or by the ``polled`` fallback result."""

    event: ReceivedEvent | None = None
    polled: T | None = None

    @property
    def source(self) -> str:
        """``"webhook"`` or ``"poll"``."""
        return "webhook" if self.event is not None else "poll"


def _event_types(values: Iterable[WebhookEventType | str] | WebhookEventType | str) -> set[str]:
    if isinstance(values, str):  # a WebhookEventType is a str as well
        values = [values]
    types = {WebhookEventType(str(value)).value for value in values}
    if not types:
        raise InvalidRequestError("event_types", "give at least one event type")
    return types


#: Each safety-net poll of a webhook wait comes this many times later than the previous one.
SAFETY_BACKOFF = 2.0
#: The latest a safety-net poll is put off, in seconds.
SAFETY_MAX_INTERVAL = 600.0


def safety_poll_delays(first: float, *, factor: float = SAFETY_BACKOFF) -> Iterable[float]:
    """Waits before each safety-net poll of a webhook wait: ``first``, then growing."""
    delay = first
    while True:
        yield delay
        delay = min(SAFETY_MAX_INTERVAL, max(delay, delay * factor))


async def wait_for_event(
    receiver: WebhookReceiver | None,
    video_id: VideoId | str,
    event_types: Iterable[WebhookEventType | str] | WebhookEventType | str,
    *,
    fallback: Callable[[], Awaitable[T | None]] | None = None,
    timeout: float | None = None,
    poll_interval: float = 30.0,
    include_test_events: bool = False,
) -> EventWaitResult[T]:
    """Wait until ``video_id`` reaches one of ``event_types``.

    With a ``receiver``, the first matching accepted event ends the wait, including one the
    receiver accepted before the wait began (its :meth:`~WebhookReceiver.recent_events`);
    test events are ignored unless ``include_test_events``. ``fallback`` is an async
    callable that checks the state by polling: it returns ``None`` while the video is not
    there yet and anything else once it is. With a receiver it is a late safety net: first
    called after ``poll_interval`` seconds without the event, then after twice as long each
    time (at most every 10 minutes), so a waiting job costs no request until its event is
    overdue and a lost webhook only costs latency. Without a receiver the wait is plain
    polling: ``fallback`` right away, then every ``poll_interval`` seconds.

    Returns an :class:`EventWaitResult` naming the event or the fallback's result. Raises
    :class:`~pixop_async.errors.PollTimeoutError` (``last_state`` = the last polled value)
    after ``timeout`` seconds; exceptions raised by ``fallback`` propagate.
    """
    vid = uuid.UUID(v.uuid_str("video_id", video_id))
    wanted = _event_types(event_types)
    if timeout is not None:
        v.number("timeout", timeout, minimum=0)
    v.number("poll_interval", poll_interval, minimum=0.01)
    if receiver is None and fallback is None:
        raise InvalidRequestError("fallback", "needed when no receiver is given")

    def matches(event: ReceivedEvent) -> bool:
        if event.video_id != vid or event.event_type.value not in wanted:
            return False
        return include_test_events or not event.test

    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[ReceivedEvent] = loop.create_future()

    def listener(event: ReceivedEvent) -> None:
        if not arrived.done() and matches(event):
            arrived.set_result(event)

    deadline = None if timeout is None else time.monotonic() + timeout
    last_polled: T | None = None
    if receiver is not None:
        receiver.add_listener(listener, video_id=vid)
        for earlier in receiver.recent_events(vid):
            listener(earlier)
    delays = iter(safety_poll_delays(poll_interval)) if receiver is not None else None
    try:
        poll_now = receiver is None
        while True:
            if arrived.done():
                return EventWaitResult(event=arrived.result())
            if poll_now and fallback is not None:
                last_polled = await fallback()
                if last_polled is not None:
                    return EventWaitResult(polled=last_polled)
            wait: float | None = None
            if fallback is not None:
                wait = poll_interval if delays is None else next(delays)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PollTimeoutError(
                        f"no {sorted(wanted)} event for video {vid} within {timeout} s",
                        last_state=last_polled,
                    )
                wait = remaining if wait is None else min(wait, remaining)
            done, _ = await asyncio.wait({arrived}, timeout=wait)
            if done:
                return EventWaitResult(event=arrived.result())
            poll_now = True
    finally:
        if receiver is not None:
            receiver.remove_listener(listener, video_id=vid)
        if not arrived.done():
            arrived.cancel()

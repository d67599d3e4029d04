"""Wait for a video's webhook event, polling as a safety net when events do not come."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import attrs

from .. import validation as v
from ..errors import InvalidRequestError, PollTimeoutError
from ..models.webhooks import WebhookEventType
from .events import ReceivedEvent
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


async def wait_for_event(
    receiver: WebhookReceiver | None,
    video_id: Any,
    event_types: Iterable[WebhookEventType | str] | WebhookEventType | str,
    *,
    fallback: Callable[[], Awaitable[T | None]] | None = None,
    timeout: float | None = None,
    poll_interval: float = 30.0,
    include_test_events: bool = False,
) -> EventWaitResult[T]:
    """Wait until ``video_id`` reaches one of ``event_types``.

    With a ``receiver``, the first matching accepted event ends the wait (test events are
    ignored unless ``include_test_events``). ``fallback`` is an async callable that checks
    the state by polling: it returns ``None`` while the video is not there yet and anything
    else once it is. It is called once right away (the event may have happened before the
    wait began), then every ``poll_interval`` seconds while no matching event arrives, so a
    lost or late webhook only costs latency. Without a receiver the wait is pure polling.

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

    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[ReceivedEvent] = loop.create_future()

    def listener(event: ReceivedEvent) -> None:
        if arrived.done() or event.video_id != vid or event.event_type.value not in wanted:
            return
        if event.test and not include_test_events:
            return
        arrived.set_result(event)

    deadline = None if timeout is None else time.monotonic() + timeout
    last_polled: T | None = None
    if receiver is not None:
        receiver.add_listener(listener)
    try:
        while True:
            if fallback is not None:
                last_polled = await fallback()
                if last_polled is not None:
                    return EventWaitResult(polled=last_polled)
            wait = poll_interval if fallback is not None else None
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
    finally:
        if receiver is not None:
            receiver.remove_listener(listener)
        if not arrived.done():
            arrived.cancel()

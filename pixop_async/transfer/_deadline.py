"""Deadlines of one transfer: a low-speed rule and an overall limit.

Like curl's ``--speed-limit``/``--speed-time``: a transfer that moves fewer than
``low_speed_limit`` bytes per second over ``low_speed_time`` seconds is stalled (with a
limit of 0: no byte at all for that long). Only body bytes count, so headers dripped one
byte at a time, a body that trickles and a server that never reads an upload all stall.
Time spent waiting for one of the client's shared connection slots does not count (the
transfer holds no connection then). ``total_timeout`` bounds the whole call.

The watchdog cancels the transfer and raises :class:`TransferStalledError` or
:class:`TransferTimeoutError`. Local work (re-hashing a resumed file, publishing) pauses
it: the stall rule judges the network, and a cancellation never lands in the middle of a
publish, so the error always means nothing was published.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from ..errors import TransferError, TransferStalledError, TransferTimeoutError
from .config import TransferConfig
from .progress import Progress
from .scheduler import Scheduler

T = TypeVar("T")


class Activity:
    """What the watchdog of one transfer looks at."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.holding = 0  #: connections held right now
        self.paused = 0  #: local steps in progress (the watchdog waits for them)

    @contextlib.contextmanager
    def local_work(self) -> Iterator[None]:
        """Mark a step that moves no network bytes and must not be cancelled midway."""
        self.paused += 1
        try:
            yield
        finally:
            self.paused -= 1

    @asynccontextmanager
    async def connection(self, scheduler: Scheduler) -> AsyncIterator[None]:
        """One of the scheduler's connection slots, counted as held by this transfer."""
        async with scheduler.connection():
            self.holding += 1
            try:
                yield
            finally:
                self.holding -= 1


def stall_verdict(
    samples: collections.deque[tuple[float, int]], now: float, moved: int, window: float, rate: int
) -> bool:
    """Record ``(now, moved)`` and say whether the last ``window`` seconds moved too little."""
    samples.append((now, moved))
    while len(samples) > 1 and samples[1][0] <= now - window:
        samples.popleft()
    start, before = samples[0]
    return now - start >= window and moved - before < max(1.0, rate * (now - start))


async def _watch(activity: Activity, config: TransferConfig) -> TransferError:
    loop = asyncio.get_running_loop()
    window, total = config.low_speed_time, config.total_timeout
    tick = max(0.01, min(1.0, min(w for w in (window, total) if w is not None) / 5))
    started = loop.time()
    samples: collections.deque[tuple[float, int]] = collections.deque()
    while True:
        await asyncio.sleep(tick)
        now, moved = loop.time(), activity.progress.moved
        if activity.paused:
            samples.clear()
            continue
        if total is not None and now - started >= total:
            return TransferTimeoutError(
                f"the transfer did not finish within {total:g} s; nothing was published"
            )
        if window is None:
            continue
        if activity.holding == 0:
            samples.clear()  # waiting for a shared slot is not a stall
            continue
        if stall_verdict(samples, now, moved, window, config.low_speed_limit):
            return TransferStalledError(
                f"the transfer moved less than {config.low_speed_limit} bytes/s for "
                f"{window:g} s; nothing was published"
            )


async def _watch_and_cancel(
    activity: Activity, config: TransferConfig, task: asyncio.Task[Any], fired: list[TransferError]
) -> None:
    fired.append(await _watch(activity, config))
    task.cancel()


async def guarded(work: Awaitable[T], activity: Activity, config: TransferConfig) -> T:
    """Await ``work`` under the deadlines of ``config``.

    ``work`` runs in the calling task (no extra task per transfer); the watchdog cancels
    that task and the cancellation is turned into the typed error here.
    """
    task = asyncio.current_task()
    if task is None or (config.low_speed_time is None and config.total_timeout is None):
        return await work
    fired: list[TransferError] = []
    watchdog = asyncio.ensure_future(_watch_and_cancel(activity, config, task, fired))
    try:
        return await work
    except asyncio.CancelledError:
        if not fired:
            raise
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+
        if uncancel is not None and uncancel() > 0:
            raise  # cancelled from outside as well: that wins
        raise fired[0] from None
    finally:
        watchdog.cancel()

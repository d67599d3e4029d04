"""One request budget per client: every API call (creates, reads, polls) draws from it.

The budget paces requests inside the latest ``X-RateLimit-*`` window the API reported
(:func:`pacing_delay`): it counts requests already granted whose responses have not come
back (the window cannot reflect them yet), spreads what is left evenly over the time left
in the window, and lets a single probe out while no window is known. When responses have
shown that the server sends no rate-limit headers at all, only ``max_in_flight`` bounds it.

Fair progress: waiting requests are not served first come, first served. Each asyncio task
is stamped with the time of its first request through the budget (or with the stamp of an
enclosing :func:`pipeline` block, which a task's sub-tasks inherit), and the waiter whose
task is oldest goes first. A service
running N pipelines as N tasks therefore moves the earliest-started pipelines through to
their end (their status reads, their start call, their final read) before a thousand newer
pipelines get their first request in: the first results come after about the time one
pipeline needs, not after all of them have advanced together. The budget stays
work-conserving: while old pipelines wait for the server (no request pending), new ones
use the capacity. :func:`pipeline` starts a fresh stamp explicitly (say, per job taken off
a queue by a long-lived worker task); :func:`urgent` requests go first. A young pipeline
waits while older ones have requests pending, which ends as they finish; ``fairness_horizon``
bounds that wait instead (age then buys at most that many seconds of precedence), at the
price of the first results: measured with 1,000 pipelines started together, a 60 s horizon
let the young pipelines' early-queued creates overtake the old ones' final reads
(done-to-return p50 180 s instead of under a second).

Waiting costs no CPU: waiters sleep on futures in a heap; one pump task sleeps until the
next grant is due, and a finished request hands its place on at once.
"""

from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from ._budget_context import (
    BudgetTimeout,
    _deadline,
    _held,
    _Place,
    _stamp,
    checked_deadline,
    deadline,
    pipeline,
    urgent,
)
from ._budget_home import Home, forget_in_forked_child
from ._budget_pump import Pump
from ._budget_queue import Entry, WaiterQueue
from ._pacing import (
    PROBE_RECHECK_SECONDS,
    RESET_MARGIN_SECONDS,
    awaits_response,
    merge_window,
    next_virtual_grant,
    paceable,
    pacing_delay,
    reserve_for,
    window_gap,
)
from .ratelimit import RateLimit, parse_rate_limit

__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "PROBE_RECHECK_SECONDS",
    "RESET_MARGIN_SECONDS",
    "BudgetTimeout",
    "RequestBudget",
    "deadline",
    "merge_window",
    "next_virtual_grant",
    "paceable",
    "pacing_delay",
    "pipeline",
    "reserve_for",
    "urgent",
    "window_gap",
]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Requests out at once when the server reports no limit (the default connection limit).
DEFAULT_MAX_IN_FLIGHT = 64

# --------------------------------------------------------------------------- the budget

#: Every budget alive, so a forked child can drop what its parent's event loop held.
_budgets: weakref.WeakSet[RequestBudget] = weakref.WeakSet()


def _forget_parent_loop_in_child() -> None:
    for budget in list(_budgets):
        budget._home.forget()
        budget._forget_loop_state()


forget_in_forked_child(_forget_parent_loop_in_child)


class RequestBudget:
    """Pacing shared by every request of one client (see the module docstring).

    ``rate_source`` (optional) supplies the window from outside; by default the budget keeps
    the window it is told about through :meth:`observe`. ``reserve_fraction`` of each
    window (at least ``min_reserve`` requests) is left unused: 0 when every call goes
    through the budget. ``max_reset`` caps an announced reset (a hostile or broken header
    must not freeze a client for a day).
    """

    def __init__(
        self,
        rate_source: Callable[[], RateLimit | None] | None = None,
        *,
        reserve_fraction: float = 0.0,
        min_reserve: int = 0,
        max_in_flight: int | None = DEFAULT_MAX_IN_FLIGHT,
        max_reset: float = 120.0,
        burst_fraction: float = 0.0,
        fairness_horizon: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._rate_source = rate_source
        self._rate: RateLimit | None = None
        self._reserve_fraction = reserve_fraction
        self._min_reserve = min_reserve
        self._max_in_flight = max_in_flight
        self.max_reset = max_reset
        self._burst_fraction = burst_fraction
        self.fairness_horizon = fairness_horizon
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._last_grant: float | None = None
        self._unlimited = False
        self._queue = WaiterQueue()
        self._pumper = Pump(self._pump_tick, clock, sleep)
        # each task's first request time (a task's sub-tasks get their own: a service's main
        # task that made one call before spawning N pipelines must not give them one stamp)
        self._task_stamps: weakref.WeakKeyDictionary[asyncio.Task[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        self.granted = 0
        self._home = Home()  # the event loop served (see :mod:`._budget_home`)
        _budgets.add(self)

    def _forget_loop_state(self) -> None:
        """Drop the places out, the waiters and the pump of the loop served so far (see
        :mod:`._budget_home`, which has forgotten the loop); the window and the pacing
        stay."""
        peak = self._queue.peak
        self._in_flight = 0
        self._queue = WaiterQueue()
        self._queue.peak = peak
        self._pumper.task = self._pumper.due = None  # (its end, if ever, restarts nothing)
        self._pumper = Pump(self._pump_tick, self._clock, self._sleep)
        self._task_stamps = weakref.WeakKeyDictionary()

    def _settle_loop(self) -> None:
        if self._home.moved():
            self._forget_loop_state()

    # -- state -------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Requests granted whose responses have not arrived yet."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Requests queued for their turn."""
        return self._queue.live

    @property
    def peak_waiting(self) -> int:
        """The most requests queued at once so far."""
        return self._queue.peak

    @property
    def _pump(self) -> asyncio.Task[None] | None:
        """The pump's task while it runs."""
        return self._pumper.task

    @property
    def _heap(self) -> list[Entry]:
        """The queue's heap (its entries of waiters that stopped waiting included)."""
        return self._queue.heap

    @property
    def rate(self) -> RateLimit | None:
        """The window the budget paces by."""
        return self._rate_source() if self._rate_source is not None else self._rate

    def observe(self, headers: Mapping[str, str]) -> RateLimit | None:
        """Learn the window from an API response's headers; returns the window kept."""
        self._settle_loop()
        now = self._clock()
        parsed = parse_rate_limit(headers, now=now)
        if parsed is None:
            rate = self._rate
            if rate is None or (
                rate.reset_seconds is None or now >= rate.observed_at + rate.reset_seconds
            ):
                # No window, or the last one is over and the server has stopped reporting
                # one: it no longer limits us (else the budget would probe one request at a
                # time for good).
                self._rate = None
                self._unlimited = True
                self._grant_ready()
            return self._rate
        if parsed.reset_seconds is not None and parsed.reset_seconds > self.max_reset:
            parsed = RateLimit(parsed.limit, parsed.remaining, self.max_reset, parsed.observed_at)
        # A partial window (a count without a reset, a reset without a count, a reset of 0)
        # cannot be paced by: unless it says nothing is left, only max_in_flight bounds the
        # requests (else every request would wait for the one probe before it, for good).
        self._unlimited = not paceable(parsed) and parsed.remaining != 0
        self._rate = merge_window(self._rate, parsed)
        self._grant_ready()
        return self._rate

    def _reserve(self, rate: RateLimit | None) -> int:
        return (
            0
            if self._reserve_fraction <= 0 and self._min_reserve <= 0
            else reserve_for(
                rate.limit if rate else None,
                fraction=self._reserve_fraction,
                minimum=self._min_reserve,
            )
        )

    def _burst(self, rate: RateLimit | None) -> int:
        if rate is None or rate.limit is None or self._burst_fraction <= 0:
            return 0
        return int(rate.limit * self._burst_fraction)

    def delay(self) -> float:
        """The wait a request would face right now."""
        rate = self.rate
        reserve = self._reserve(rate)
        return pacing_delay(
            rate,
            now=self._clock(),
            in_flight=self._in_flight,
            last_grant=self._last_grant,
            reserve=reserve,
            unlimited=self._unlimited,
            max_in_flight=self._max_in_flight,
            burst=self._burst(rate),
        )

    def _firm(self) -> bool:
        """Whether :meth:`delay` says when the next grant comes (the window's pacing), not
        how soon to look again while it waits for a response (:func:`awaits_response`)."""
        return not awaits_response(
            self.rate,
            now=self._clock(),
            in_flight=self._in_flight,
            unlimited=self._unlimited,
            max_in_flight=self._max_in_flight,
        )

    def _too_late(self, when: float | None, wait: float, firm: bool) -> bool:
        """Whether a grant due in ``wait`` seconds misses ``when``. A wait for a response
        is no forecast (the place may free up at once): only a deadline reached is missed."""
        if when is None:
            return False
        now = self._clock()
        return now + wait > when if firm else now >= when

    # -- granting ----------------------------------------------------------------------------

    def _grant(self) -> None:
        now = self._clock()
        rate = self.rate
        gap = window_gap(rate, now=now, in_flight=self._in_flight, reserve=self._reserve(rate))
        self._last_grant = next_virtual_grant(self._last_grant, now, gap)
        self._in_flight += 1
        self.granted += 1

    def _grant_ready(self) -> None:
        """Hand places to the oldest waiters for as long as the budget allows."""
        queue = self._queue
        while (head := queue.head()) is not None:
            wait, firm = self.delay(), self._firm()
            if self._too_late(head[3], wait, firm):
                # this waiter's turn would come after its deadline: tell it now
                queue.pop().set_exception(BudgetTimeout())
                continue
            if wait > 0:
                now = self._clock()
                queue.expire(now + wait if firm else now, reached=not firm)
                if queue.heap:
                    self._pumper.ensure(self._next_wake(wait, firm))
                    return
                continue
            fut = queue.pop()
            self._grant()
            fut.set_result(None)
        queue.clear()  # (every entry's future is done: granted or told)
        self._pumper.stop()  # everyone served: no pump left sleeping on a stale delay

    def _next_wake(self, wait: float, firm: bool) -> float:
        """Seconds until the queue must be served again: the next grant, or while it waits
        for a response, the earliest deadline if that comes first (told at that time)."""
        deadlines = self._queue.deadlines
        if firm or not deadlines:
            return wait
        return min(wait, deadlines[0][0] - self._clock())

    def _pump_tick(self) -> float | None:
        """The pump's turn: serve the queue; the pause until the next turn, or None when
        nobody waits."""
        self._grant_ready()
        if not self._queue.heap:
            return None
        return self._next_wake(self.delay(), self._firm())

    def _release(self) -> None:
        self._in_flight -= 1
        if self._queue.heap:
            self._grant_ready()

    @asynccontextmanager
    async def slot(self, *, deadline: float | None = None) -> AsyncIterator[None]:
        """Hold one request's place: wait for its turn, then count it in flight.

        Nested use (a poller's slot around a fetch that calls the session): the first
        request inside uses the enclosing slot's place and gives it back when it ends; any
        later request inside the enclosing slot (a retry after a 429, a second call) waits
        for a place of its own like every other request.
        Raises :class:`BudgetTimeout` when the turn would come after ``deadline`` (or the
        deadline set with :func:`deadline`): a deadline bounds the wait, so a request that
        may go at once is granted even past it.
        """
        outer = _held.get()
        if outer is not None and outer.budget is self and outer.spare:
            outer.spare = False
            try:
                yield
            finally:
                self._give_back(outer)
            return
        when = deadline if deadline is not None else _deadline.get()
        await self._acquire(when)
        place = _Place(self)
        token = _held.set(place)
        try:
            yield
        finally:
            _held.reset(token)
            self._give_back(place)

    # -- the poll loop's way in: what ``slot`` does, without a context manager's objects
    # (a queued poll of a parked watcher holds fewer), for callers that run their requests
    # in a context they discard afterwards (:func:`pixop_async._poll_scheduler.in_context_copy`)

    def spare_place_held(self) -> bool:
        """Whether the caller is inside a slot of this budget whose place is still unused."""
        outer = _held.get()
        return outer is not None and outer.budget is self and outer.spare

    def queue_place(self, *, deadline: float | None, stamp: float) -> asyncio.Future[None] | None:
        """Ask for a place queued by ``stamp``: None when granted at once, else a future
        resolved at the grant (or failed with :class:`BudgetTimeout`); one that stops
        waiting calls :meth:`abandon_place`. Then :meth:`hold_place`."""
        return self._enqueue(deadline if deadline is not None else _deadline.get(), stamp)

    def abandon_place(self, fut: asyncio.Future[None]) -> None:
        """The caller stopped waiting for ``fut`` (a place granted meanwhile is given back)."""
        self._abandon(fut)

    def hold_place(self, stamp: float) -> _Place:
        """Mark a granted place as the context's own (its first request uses it) and
        ``stamp`` as the stamp of the requests inside; end it with :meth:`give_back`."""
        place = _Place(self)
        _held.set(place)
        _stamp.set(stamp)
        return place

    async def take_place(self, *, deadline: float | None, stamp: float) -> _Place:
        """:meth:`queue_place`, awaited, then :meth:`hold_place` (or the enclosing slot's
        unused place)."""
        outer = _held.get()
        if outer is not None and outer.budget is self and outer.spare:
            outer.spare = False
            return outer
        await self._acquire(deadline if deadline is not None else _deadline.get(), stamp)
        return self.hold_place(stamp)

    def give_back(self, place: _Place) -> None:
        """End a place taken with :meth:`take_place`."""
        self._give_back(place)

    def _give_back(self, place: _Place) -> None:
        if not place.released:
            place.released = True
            if place.generation == self._home.generation:  # (else: forgotten with its loop)
                self._release()

    def stamp_of_caller(self) -> tuple[float, bool]:
        """The priority stamp the caller's next request would queue by (its :func:`pipeline`
        block's, else its task's, else now), without recording it for the task; and whether
        it is the task's own (not a block's)."""
        stamp = _stamp.get()
        if stamp is not None:
            return stamp, False
        task = asyncio.current_task()
        stamp = self._task_stamps.get(task) if task is not None else None
        return (self._clock() if stamp is None else stamp), True

    def adopt_stamp(self, stamp: float) -> None:
        """Record ``stamp`` as the calling task's own unless it has one: a poll loop queues
        by the stamp of its first poll, kept by itself, and hands it over when it ends, so a
        parked wait holds no weak reference here."""
        task = asyncio.current_task()
        if task is not None and task not in self._task_stamps:
            self._task_stamps[task] = stamp

    async def _acquire(self, when: float | None, stamp: float | None = None) -> None:
        fut = self._enqueue(when, stamp)
        if fut is None:
            return
        try:
            await fut
        except BaseException:
            self._abandon(fut)
            raise

    def _enqueue(self, when: float | None, stamp: float | None) -> asyncio.Future[None] | None:
        checked_deadline(when)
        self._settle_loop()
        if stamp is None:
            stamp = _stamp.get()
        if stamp is None:
            task = asyncio.current_task()
            stamp = self._task_stamps.get(task) if task is not None else None
            if stamp is None:
                stamp = self._clock()
                if task is not None:
                    self._task_stamps[task] = stamp
        # (a deadline bounds the wait: a request that may go at once goes, even past its
        # deadline; a poll woken a hair after its wait's deadline still takes its last look)
        if not self._queue.heap and self.delay() <= 0:
            self._grant()
            return None
        if self._too_late(when, self.delay(), self._firm()):
            raise BudgetTimeout
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        key = stamp
        if self.fairness_horizon is not None and stamp != -math.inf:
            key = max(stamp, self._clock() - self.fairness_horizon)
        self._queue.push(key, fut, when)
        self._grant_ready()
        return fut

    def _abandon(self, fut: asyncio.Future[None]) -> None:
        if getattr(fut, "_pixop_abandoned", False):
            return  # abandoned before: its place was counted out or given back then
        fut._pixop_abandoned = True  # type: ignore[attr-defined]  # (at the end: no parked cost)
        if self._home.stale(fut):
            return  # a waiter of a loop closed or forgotten (:mod:`._budget_home`)
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            self._release()  # granted while being cancelled: give the place back
        elif fut.cancelled() or not fut.done():
            # (a task cancelled while awaiting ``fut`` has had ``fut`` cancelled already)
            self._queue.forget(fut)
            if not self._queue.heap:
                # none left waiting: the budget is idle again at once, not when the pump
                # next wakes (maybe two minutes later)
                self._pumper.stop()

"""Polling long-running operations until they finish, within the client's rate-limit budget.

Two entry points, both driven by a ``fetch`` coroutine function that reads the current state
once (e.g. ``lambda: px.processing.status(video_id)``):

``await wait(fetch, *, is_terminal, failure_of=None, progress_of=None, timeout=None,
budget=None, intervals=None)``
    Polls until ``is_terminal(state)``. Returns the final state, or raises
    :class:`~pixop_async.errors.OperationFailedError` (``state``, ``error_code``) when
    ``failure_of(state)`` reports a :class:`PollFailure`, or
    :class:`~pixop_async.errors.PollTimeoutError` (``last_state``) once ``timeout`` seconds
    have passed.

``async for state in watch(fetch, *, is_terminal, progress_of=None, timeout=None, budget=None,
intervals=None)``
    Yields the first state and then every state that differs from the previous one, ending
    after the terminal state (it never raises for a failed operation: inspect the last state).

Intervals adapt (:func:`next_interval`): after a poll where progress moved the next poll comes
after ``intervals.minimum`` seconds; while nothing moves the wait grows by ``intervals.growth``
up to ``intervals.maximum``.

Pacing: every poll request of one client goes through that client's :class:`PollBudget`
(``px.poll_budget``). It reads the latest ``X-RateLimit-*`` window the session saw, counts the
poll requests still in flight, keeps a reserve for the caller's other requests, and spreads the
rest evenly over the time left in the window (:func:`pacing_delay`). With no window known yet
it lets one probe request out at a time, so a crowd of new watchers cannot burst past the limit
before the first response reports it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import attrs

from .errors import OperationFailedError, PollTimeoutError
from .ratelimit import RateLimit

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: How long a waiter re-checks while a probe (a request sent with no known window) is out.
PROBE_RECHECK_SECONDS = 0.05
#: Added after a window's announced reset: the reset header is rounded to whole seconds.
RESET_MARGIN_SECONDS = 1.0


@attrs.frozen
class PollIntervals:
    """Bounds of the adaptive poll interval, in seconds."""

    minimum: float = attrs.field(default=1.0, validator=attrs.validators.gt(0))
    maximum: float = attrs.field(default=15.0, validator=attrs.validators.gt(0))
    growth: float = attrs.field(default=1.5, validator=attrs.validators.ge(1))

    def __attrs_post_init__(self) -> None:
        if self.maximum < self.minimum:
            raise ValueError("PollIntervals.maximum must be >= minimum")


@attrs.frozen
class PollFailure:
    """What ``failure_of`` reports for a terminal state that is a failure."""

    message: str
    error_code: str | None = None


# --------------------------------------------------------------------------- pure decisions


def next_interval(current: float, moved: bool, intervals: PollIntervals) -> float:
    """The wait before the next poll: the minimum after movement, else a capped growth."""
    if moved:
        return intervals.minimum
    grown = max(current, intervals.minimum) * intervals.growth
    return min(intervals.maximum, grown)


def reserve_for(limit: int | None, *, fraction: float = 0.05, minimum: int = 1) -> int:
    """Requests of a window that pollers leave for the caller's other calls."""
    if limit is None:
        return minimum
    return max(minimum, math.ceil(limit * fraction))


def pacing_delay(
    rate: RateLimit | None,
    *,
    now: float,
    in_flight: int,
    last_grant: float | None,
    reserve: int,
) -> float:
    """Seconds a poll request must still wait before it may be sent (0 → send now).

    ``rate`` is the latest window seen (``observed_at`` and ``now`` on the same monotonic
    clock), ``in_flight`` the poll requests sent whose responses have not arrived yet (the
    window cannot reflect them), ``last_grant`` when the previous poll request was let out.
    """
    window_known = (
        rate is not None
        and rate.remaining is not None
        and rate.reset_seconds is not None
        and now < rate.observed_at + rate.reset_seconds
    )
    if not window_known:
        # Unknown or expired window: one probe at a time until a response reports it.
        return 0.0 if in_flight == 0 else PROBE_RECHECK_SECONDS
    assert rate is not None and rate.remaining is not None
    until_reset = rate.seconds_until_reset(now)
    usable = rate.remaining - in_flight - reserve
    if usable <= 0:
        return until_reset + RESET_MARGIN_SECONDS
    gap = until_reset / usable
    if last_grant is None:
        return 0.0
    return max(0.0, last_grant + gap - now)


# --------------------------------------------------------------------------- shared pacing


class BudgetTimeout(Exception):
    """Internal: pacing would have to wait past the caller's deadline."""


class PollBudget:
    """Pacing shared by every poller of one client (see the module docstring).

    ``rate_source`` returns the latest :class:`RateLimit` (``lambda: px.rate_limit``);
    ``reserve_fraction`` of each window (at least ``min_reserve`` requests) is left to other
    calls. Waiters are served in arrival order.
    """

    def __init__(
        self,
        rate_source: Callable[[], RateLimit | None],
        *,
        reserve_fraction: float = 0.05,
        min_reserve: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._rate_source = rate_source
        self._reserve_fraction = reserve_fraction
        self._min_reserve = min_reserve
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._in_flight = 0
        self._last_grant: float | None = None
        self.granted = 0

    @property
    def in_flight(self) -> int:
        """Poll requests currently out."""
        return self._in_flight

    def delay(self) -> float:
        """The wait a poll request would face right now."""
        rate = self._rate_source()
        reserve = reserve_for(
            rate.limit if rate else None,
            fraction=self._reserve_fraction,
            minimum=self._min_reserve,
        )
        return pacing_delay(
            rate,
            now=self._clock(),
            in_flight=self._in_flight,
            last_grant=self._last_grant,
            reserve=reserve,
        )

    @asynccontextmanager
    async def slot(self, *, deadline: float | None = None) -> AsyncIterator[None]:
        """Hold one poll request's place: waits for its turn, then counts it in flight.

        Raises :class:`BudgetTimeout` when the turn would come after ``deadline``.
        """
        async with self._lock:
            while (wait := self.delay()) > 0:
                if deadline is not None and self._clock() + wait > deadline:
                    raise BudgetTimeout
                await self._sleep(wait)
            self._in_flight += 1
            self._last_grant = self._clock()
            self.granted += 1
        try:
            yield
        finally:
            self._in_flight -= 1


# --------------------------------------------------------------------------- poll loops


class _Watch(Generic[T]):
    """One polling run; remembers the last state for timeout errors."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        is_terminal: Callable[[T], bool],
        progress_of: Callable[[T], float | None] | None,
        timeout: float | None,
        budget: PollBudget | None,
        intervals: PollIntervals | None,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0 seconds")
        self._fetch = fetch
        self._is_terminal = is_terminal
        self._progress_of = progress_of
        self._budget = budget
        self._intervals = intervals or PollIntervals()
        self._clock = clock
        self._sleep = sleep
        self._deadline = None if timeout is None else clock() + timeout
        self._timeout = timeout
        self.last: T | None = None
        self.seen = False

    def _timed_out(self) -> PollTimeoutError:
        return PollTimeoutError(
            f"operation not finished after {self._timeout:g} s", last_state=self.last
        )

    async def _poll_once(self) -> T:
        if self._budget is None:
            return await self._fetch()
        # The first poll always goes out, even past the deadline: a wait with no time left
        # still reports the state it gave up on.
        deadline = self._deadline if self.seen else None
        try:
            async with self._budget.slot(deadline=deadline):
                return await self._fetch()
        except BudgetTimeout:
            raise self._timed_out() from None

    def _moved(self, previous: T | None, state: T) -> bool:
        if not self.seen:
            return True
        if self._progress_of is None:
            return previous != state
        assert previous is not None
        return self._progress_of(previous) != self._progress_of(state)

    async def run(self) -> AsyncIterator[T]:
        interval = self._intervals.minimum
        while True:
            state = await self._poll_once()
            changed = not self.seen or state != self.last
            moved = self._moved(self.last, state)
            self.last, self.seen = state, True
            if changed:
                yield state
            if self._is_terminal(state):
                return
            interval = next_interval(interval, moved, self._intervals)
            if self._deadline is not None:
                left = self._deadline - self._clock()
                if left <= 0:
                    raise self._timed_out()
                interval = min(interval, left)
            await self._sleep(interval)


def watch(
    fetch: Callable[[], Awaitable[T]],
    *,
    is_terminal: Callable[[T], bool],
    progress_of: Callable[[T], float | None] | None = None,
    timeout: float | None = None,
    budget: PollBudget | None = None,
    intervals: PollIntervals | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[T]:
    """Yield each new state until the terminal one (see the module docstring)."""
    return _Watch(fetch, is_terminal, progress_of, timeout, budget, intervals, clock, sleep).run()


async def wait(
    fetch: Callable[[], Awaitable[T]],
    *,
    is_terminal: Callable[[T], bool],
    failure_of: Callable[[T], PollFailure | None] | None = None,
    progress_of: Callable[[T], float | None] | None = None,
    timeout: float | None = None,
    budget: PollBudget | None = None,
    intervals: PollIntervals | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Poll until the terminal state and return it (see the module docstring)."""
    run = _Watch(fetch, is_terminal, progress_of, timeout, budget, intervals, clock, sleep)
    async for _state in run.run():
        pass
    assert run.seen
    final: T = run.last  # type: ignore[assignment]
    failure = failure_of(final) if failure_of is not None else None
    if failure is not None:
        raise OperationFailedError(failure.message, state=final, error_code=failure.error_code)
    return final


# --------------------------------------------------------------------------- specs


@attrs.frozen
class PollSpec(Generic[T]):
    """How to read one kind of state: when it is final, whether a final one is a failure,
    and how far along it is (the ``wait``/``watch`` arguments, bundled)."""

    is_terminal: Callable[[T], bool]
    failure_of: Callable[[T], PollFailure | None]
    progress_of: Callable[[T], float | None]


class Poll(Generic[T]):
    """``fetch`` polled under ``spec`` with one client's budget: :meth:`wait` or
    :meth:`watch`."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        spec: PollSpec[T],
        *,
        budget: PollBudget | None,
        intervals: PollIntervals | None,
    ) -> None:
        self._fetch = fetch
        self._spec = spec
        self._budget = budget
        self._intervals = intervals

    async def wait(self, *, timeout: float | None) -> T:
        return await wait(
            self._fetch,
            is_terminal=self._spec.is_terminal,
            failure_of=self._spec.failure_of,
            progress_of=self._spec.progress_of,
            timeout=timeout,
            budget=self._budget,
            intervals=self._intervals,
        )

    def watch(self, *, timeout: float | None) -> AsyncIterator[T]:
        return watch(
            self._fetch,
            is_terminal=self._spec.is_terminal,
            progress_of=self._spec.progress_of,
            timeout=timeout,
            budget=self._budget,
            intervals=self._intervals,
        )

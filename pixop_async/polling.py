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
up to ``intervals.maximum``. Every wait is then scaled by a random factor within
``±intervals.jitter`` (:func:`jittered`), so watchers started together drift apart instead of
polling in waves.

Between two polls a wait is parked on the event loop's one poll scheduler
(:mod:`pixop_async._poll_scheduler`: one heap of futures, one pump task), so ten thousand
idle watchers cost the garbage collector a handful of objects each. :class:`Poller` is the
one wait/watch (and webhook wait) of every resource that polls.

Pacing: a client's pollers hold a place in the client's one
:class:`~pixop_async.budget.RequestBudget` (``px.budget``, also ``px.poll_budget``) for each
poll, like every other call of the client; a poll whose turn would come after the wait's
deadline ends the wait with :class:`~pixop_async.errors.PollTimeoutError`. A
:class:`PollBudget` paces pollers alone, fed by a ``rate_source``, keeping a reserve of each
window for calls it does not see.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from . import validation as v
from .budget import (
    PROBE_RECHECK_SECONDS,
    RESET_MARGIN_SECONDS,
    BudgetTimeout,
    RequestBudget,
    pacing_delay,
    reserve_for,
)
from .errors import OperationFailedError
from .ratelimit import RateLimit

if TYPE_CHECKING:
    from ._poll_scheduler import PollRun
    from .webhooks.receiver import WebhookReceiver

__all__ = [
    "PROBE_RECHECK_SECONDS",
    "RESET_MARGIN_SECONDS",
    "BudgetTimeout",
    "Poll",
    "PollBudget",
    "PollFailure",
    "PollIntervals",
    "PollSpec",
    "Poller",
    "RequestBudget",
    "jittered",
    "next_interval",
    "pacing_delay",
    "reserve_for",
    "wait",
    "watch",
]

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@attrs.frozen
class PollIntervals:
    """Bounds of the adaptive poll interval, in seconds."""

    minimum: float = attrs.field(default=1.0, validator=attrs.validators.gt(0))
    maximum: float = attrs.field(default=15.0, validator=attrs.validators.gt(0))
    growth: float = attrs.field(default=1.5, validator=attrs.validators.ge(1))
    #: Each wait is scaled by a random factor in [1 - jitter, 1 + jitter], so watchers
    #: started together drift apart instead of polling in waves.
    jitter: float = attrs.field(
        default=0.2, validator=[attrs.validators.ge(0), attrs.validators.lt(1)]
    )

    def __attrs_post_init__(self) -> None:
        if self.maximum < self.minimum:
            raise ValueError("PollIntervals.maximum must be >= minimum")


_DEFAULT = PollIntervals()


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


def jittered(interval: float, rand: float, jitter: float) -> float:
    """``interval`` scaled by a factor in [1 - jitter, 1 + jitter] (``rand`` uniform in [0, 1))."""
    return interval * (1.0 - jitter + 2.0 * jitter * rand)


class PollBudget(RequestBudget):
    """A :class:`~pixop_async.budget.RequestBudget` for pollers alone, fed by ``rate_source``
    (or, without one, by :meth:`observe`, as ``HttpSession.rate_observers`` do).

    Since it does not pace the caller's other requests it keeps ``reserve_fraction`` of each
    window (at least ``min_reserve`` requests) back for them. Clients use one
    ``RequestBudget`` for every call instead.
    """

    def __init__(
        self,
        rate_source: Callable[[], RateLimit | None] | None = None,
        *,
        reserve_fraction: float = 0.05,
        min_reserve: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            rate_source,
            reserve_fraction=reserve_fraction,
            min_reserve=min_reserve,
            max_in_flight=None,
            clock=clock,
            sleep=sleep,
        )


# --------------------------------------------------------------------------- poll loops


def _run(
    fetch: Callable[[], Awaitable[T]] | str,
    is_terminal: Callable[[T], bool],
    progress_of: Callable[[T], float | None] | None,
    timeout: float | None,
    budget: RequestBudget | None,
    intervals: PollIntervals | None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    owner: object = None,
    arg: object = None,
) -> PollRun[T]:
    from ._poll_scheduler import PollRun  # the engine builds on this module's decisions

    return PollRun(
        fetch,
        owner,
        arg,
        is_terminal,
        progress_of,
        timeout,
        budget,
        intervals or _DEFAULT,
        clock,
        sleep,
    )


async def _changes(run: PollRun[T]) -> AsyncIterator[T]:
    yield await run.poll()  # the first state always counts as a change
    while not run.finished:
        waiter = run.pause()
        try:
            await waiter
        except asyncio.CancelledError:
            run.cancel(waiter)
            raise
        state = await run.poll()
        if run.changed:
            yield state
        del state  # parked, the run keeps the last state (packed); the frame keeps none


@types.coroutine
def _final(
    run: PollRun[T], failure_of: Callable[[T], PollFailure | None] | None
) -> Generator[Any, None, T]:
    # A generator-based coroutine (as ``asyncio.sleep(0)`` is) so a parked wait hands its
    # future straight to its task: no awaiting iterator, and no state held by the frame.
    while True:
        place = run.queue()  # a poll waiting for its turn in the budget: one heap entry
        if place is not None:
            place._asyncio_future_blocking = True
            try:
                yield place
            except BudgetTimeout:  # its turn would come after the deadline
                run.unqueue(place)
                raise run.timed_out() from None
            except BaseException:
                run.unqueue(place)
                raise
            run.granted()
        final = yield from run.poll()
        if run.finished:
            break
        del final
        # Between polls the caller waits on the loop's one poll scheduler (one future in
        # one heap), not on a timer of its own (issue #16).
        waiter = run.pause()
        waiter._asyncio_future_blocking = True  # what ``Future.__await__`` sets
        try:
            yield waiter
        except asyncio.CancelledError:
            run.cancel(waiter)
            raise
    failure = failure_of(final) if failure_of is not None else None
    if failure is not None:
        raise OperationFailedError(failure.message, state=final, error_code=failure.error_code)
    return final


def watch(
    fetch: Callable[[], Awaitable[T]],
    *,
    is_terminal: Callable[[T], bool],
    progress_of: Callable[[T], float | None] | None = None,
    timeout: float | None = None,
    budget: RequestBudget | None = None,
    intervals: PollIntervals | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[T]:
    """Yield each new state until the terminal one (see the module docstring)."""
    return _changes(_run(fetch, is_terminal, progress_of, timeout, budget, intervals, clock, sleep))


async def wait(
    fetch: Callable[[], Awaitable[T]],
    *,
    is_terminal: Callable[[T], bool],
    failure_of: Callable[[T], PollFailure | None] | None = None,
    progress_of: Callable[[T], float | None] | None = None,
    timeout: float | None = None,
    budget: RequestBudget | None = None,
    intervals: PollIntervals | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Poll until the terminal state and return it (see the module docstring)."""
    run = _run(fetch, is_terminal, progress_of, timeout, budget, intervals, clock, sleep)
    return await _final(run, failure_of)


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
    :meth:`watch` (for callers with a fetch of their own; resources use :class:`Poller`)."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]],
        spec: PollSpec[T],
        *,
        budget: RequestBudget | None,
        intervals: PollIntervals | None,
    ) -> None:
        self._fetch = fetch
        self._spec = spec
        self._budget = budget
        self._intervals = intervals

    def _run(self, timeout: float | None) -> PollRun[T]:
        spec = self._spec
        return _run(
            self._fetch, spec.is_terminal, spec.progress_of, timeout, self._budget, self._intervals
        )

    async def wait(self, *, timeout: float | None) -> T:
        return await _final(self._run(timeout), self._spec.failure_of)

    def watch(self, *, timeout: float | None) -> AsyncIterator[T]:
        return _changes(self._run(timeout))


#: The first safety-net poll of a webhook wait comes after this many slowest poll intervals.
SAFETY_FACTOR = 4.0


class Poller(Generic[T]):
    """The wait/watch pair of one kind of long-running operation, shared by every resource
    that polls (imports, ingestion, exports, processing, the legacy API).

    ``fetch`` names the resource's method that reads the state by video id, ``spec`` judges
    a state (or, called with the id, builds the spec for it), ``events`` are the webhook
    event types that end a wait early when a receiver is given. One instance per kind, at
    module level: a wait allocates its :class:`~pixop_async._poll_scheduler.PollRun` and
    nothing else, and is paced by the resource's client budget (``poll_budget``).
    """

    __slots__ = ("_events", "_fetch", "_spec")

    def __init__(
        self,
        fetch: str,
        spec: PollSpec[T] | Callable[[str], PollSpec[T]],
        events: tuple[str, ...] = (),
    ) -> None:
        self._fetch = fetch
        self._spec = spec
        self._events = events

    def _spec_for(self, vid: str) -> PollSpec[T]:
        spec = self._spec
        return spec if isinstance(spec, PollSpec) else spec(vid)

    def _run(
        self,
        owner: Any,
        vid: str,
        spec: PollSpec[T],
        timeout: float | None,
        intervals: PollIntervals | None,
    ) -> PollRun[T]:
        return _run(
            self._fetch,
            spec.is_terminal,
            spec.progress_of,
            timeout,
            owner._client.poll_budget,
            intervals,
            owner=owner,
            arg=vid,
        )

    def wait(
        self,
        owner: Any,
        video_id: Any,
        *,
        timeout: float | None,
        intervals: PollIntervals | None,
        receiver: WebhookReceiver | None = None,
    ) -> Awaitable[T]:
        """Poll ``owner``'s state of ``video_id`` until it is final (returned) or failed
        (:class:`~pixop_async.errors.OperationFailedError`); with a ``receiver`` the wait
        sleeps until the webhook event instead (:meth:`_wait_for_event`)."""
        vid = v.uuid_str("video_id", video_id)
        spec = self._spec_for(vid)
        if receiver is not None and self._events:
            return self._wait_for_event(owner, vid, spec, timeout, intervals, receiver)
        return _final(self._run(owner, vid, spec, timeout, intervals), spec.failure_of)

    def watch(
        self,
        owner: Any,
        video_id: Any,
        *,
        timeout: float | None,
        intervals: PollIntervals | None,
    ) -> AsyncIterator[T]:
        """Yield ``owner``'s state of ``video_id`` each time it changes, ending when final."""
        vid = v.uuid_str("video_id", video_id)
        return _changes(self._run(owner, vid, self._spec_for(vid), timeout, intervals))

    async def _wait_for_event(
        self,
        owner: Any,
        vid: str,
        spec: PollSpec[T],
        timeout: float | None,
        intervals: PollIntervals | None,
        receiver: WebhookReceiver,
    ) -> T:
        """The wait, woken early by the webhook ``receiver``.

        The event only ends the waiting; the final state is always read from the API (the
        first poll after the event sees it), so results and failures are exactly those of
        plain polling. Until the event comes the wait costs no request: a late safety-net
        poll first goes out after ``SAFETY_FACTOR * intervals.maximum`` seconds (a minute by
        default), later ones ever more rarely, all drawn from the client's budget. Lost
        webhooks cost latency, never correctness.
        """
        from .webhooks.waiting import wait_for_event  # only webhook waits need it

        deadline = None if timeout is None else time.monotonic() + timeout
        fetch = getattr(owner, self._fetch)

        async def terminal_or_none() -> T | None:
            state: T = await fetch(vid)
            return state if spec.is_terminal(state) else None

        await wait_for_event(
            receiver,
            vid,
            self._events,
            fallback=terminal_or_none,
            timeout=timeout,
            poll_interval=(intervals or _DEFAULT).maximum * SAFETY_FACTOR,
        )
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return await _final(self._run(owner, vid, spec, left, intervals), spec.failure_of)

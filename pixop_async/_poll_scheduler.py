"""The poll engine behind :func:`pixop_async.polling.wait` and ``watch``: one timer for all.

A poller between two polls is only an entry in one heap (per event loop and clock): a
:class:`PollRun` with slots, its last state and the future its caller awaits. One pump task
sleeps until the earliest entry is due, then starts that entry's poll as a short task in the
waiting caller's context (so ``call_timeout``, budget deadlines and the caller's place in the
budget's oldest-first order hold exactly as if the caller polled itself). A poll that does not
end the wait puts the entry back with its next (adaptive, jittered) due time.

Why (issue #16): ten thousand pollers each sleeping in their own chain of coroutines,
async generators, ``asyncio.sleep`` futures and timer handles are ~34 objects each for the
garbage collector to walk on every full pass; an idle entry here is a handful, and the
objects one poll allocates die young instead of piling up in the oldest generation.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import random
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from .budget import BudgetTimeout, RequestBudget, pinned_stamp
from .errors import PollTimeoutError
from .polling import _NO_ARG, PollIntervals, jittered, next_interval

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_random = random.Random()

#: Entries due within this many seconds of a pump's wake-up are polled in that wake-up (the
#: loop may wake a timer up to its clock resolution early).
DUE_SLACK = 0.001


class PollRun(Generic[T]):
    """One wait or watch: what to poll, its adaptive interval and the state seen last."""

    __slots__ = (
        "_arg",
        "_budget",
        "_clock",
        "_context",
        "_fetch",
        "_intervals",
        "_is_terminal",
        "_progress_of",
        "_scheduler",
        "_sleep",
        "_task",
        "_waiter",
        "_want_change",
        "changed",
        "deadline",
        "interval",
        "last",
        "queued",
        "seen",
        "timeout",
    )

    def __init__(
        self,
        fetch: Callable[..., Awaitable[T]],
        arg: object,
        is_terminal: Callable[[T], bool],
        progress_of: Callable[[T], float | None] | None,
        timeout: float | None,
        budget: RequestBudget | None,
        intervals: PollIntervals,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0 seconds")
        self._fetch = fetch
        self._arg = arg  # ``fetch(arg)``; ``fetch()`` when it is the polling module's _NO_ARG
        self._is_terminal = is_terminal
        self._progress_of = progress_of
        self._budget = budget
        self._intervals = intervals
        self._clock = clock
        self._sleep = sleep
        self._scheduler: PollScheduler | None = None
        self._context: contextvars.Context | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[T] | None = None
        self._want_change = False
        self.deadline = None if timeout is None else clock() + timeout
        self.timeout = timeout
        self.interval: float = intervals.minimum
        self.last: T | None = None
        self.seen = False
        self.changed = False
        self.queued = False

    # -- one poll ------------------------------------------------------------------------

    def timed_out(self) -> PollTimeoutError:
        return PollTimeoutError(
            f"operation not finished after {self.timeout:g} s", last_state=self.last
        )

    def _read(self) -> Awaitable[T]:
        return self._fetch() if self._arg is _NO_ARG else self._fetch(self._arg)

    async def poll_once(self) -> T:
        """Read the state once (within the budget) and take it in; returns it."""
        if self._budget is None:
            state = await self._read()
        else:
            # The first poll always goes out, even past the deadline: a wait with no time
            # left still reports the state it gave up on.
            deadline = self.deadline if self.seen else None
            try:
                async with self._budget.slot(deadline=deadline):
                    state = await self._read()
            except BudgetTimeout:
                raise self.timed_out() from None
        self._absorb(state)
        return state

    def _absorb(self, state: T) -> None:
        previous, seen = self.last, self.seen
        self.changed = not seen or state != previous
        if not seen:
            moved = True
        elif self._progress_of is None:
            moved = self.changed
        else:
            moved = self._progress_of(previous) != self._progress_of(state)  # type: ignore[arg-type]
        self.last, self.seen = state, True
        if not self._is_terminal(state):
            self.interval = next_interval(self.interval, moved, self._intervals)

    @property
    def finished(self) -> bool:
        return self.seen and self._is_terminal(self.last)  # type: ignore[arg-type]

    def next_pause(self) -> float:
        """The jittered wait before the next poll, cut at the deadline (past it: timeout)."""
        pause = jittered(self.interval, _random.random(), self._intervals.jitter)
        if self.deadline is not None:
            left = self.deadline - self._clock()
            if left <= 0:
                raise self.timed_out()
            pause = min(pause, left)
        return pause

    # -- parked between polls ------------------------------------------------------------

    def park(self, *, until_change: bool) -> asyncio.Future[T]:
        """Hand this run to the scheduler; the future gets the state that ends the park:
        the terminal one, or with ``until_change`` the next one that differs from the last.
        Whoever awaits it calls :meth:`cancel` when cancelled."""
        pause = self.next_pause()
        if self._context is None:
            # Polls run as short tasks in a copy of the caller's context, pinned to the
            # caller's place in the budget's oldest-first order.
            self._context = contextvars.copy_context()
            if self._budget is not None:
                self._context.run(pinned_stamp, self._budget.stamp())
        if self._scheduler is None:
            self._scheduler = scheduler_for(self._clock, self._sleep)
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiter, self._want_change = waiter, until_change
        self._scheduler.add(self, self._clock() + pause)
        return waiter

    def start_poll(self) -> None:
        """Called by the scheduler when this run is due."""
        assert self._context is not None
        self._task = self._context.run(asyncio.get_running_loop().create_task, self._step())

    async def _step(self) -> None:
        waiter = self._waiter
        try:
            state = await self.poll_once()
            if self._is_terminal(state) or (self._want_change and self.changed):
                self._waiter = None
                if waiter is not None and not waiter.done():
                    waiter.set_result(state)
                return
            assert self._scheduler is not None
            self._scheduler.add(self, self._clock() + self.next_pause())
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the caller gets what a poll of its own would raise
            self._waiter = None
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
        finally:
            self._task = None

    def cancel(self) -> None:
        """The caller stopped waiting: leave the heap, stop a poll under way."""
        if self._scheduler is not None:
            self._scheduler.remove(self)
        task = self._task
        if task is not None and not task.done():
            task.cancel()


class PollScheduler:
    """Due entries of one event loop and clock, woken by one pump task (module docstring)."""

    def __init__(self, clock: Clock, sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._heap: list[tuple[float, int, PollRun[Any]]] = []
        self._seq = itertools.count()
        self._live = 0  # queued runs (the heap may also hold removed ones)
        self._pump: asyncio.Task[None] | None = None
        self._target: float | None = None  # when the pump wakes next

    @property
    def queued(self) -> int:
        """Runs waiting for their next poll."""
        return self._live

    def add(self, run: PollRun[Any], due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), run))
        run.queued = True
        self._live += 1
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())
        elif self._target is not None and due < self._target - DUE_SLACK:
            self._pump.cancel()  # sleeping past this entry: start over with the earlier one
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())

    def remove(self, run: PollRun[Any]) -> None:
        if not run.queued:
            return
        run.queued = False
        self._live -= 1
        if self._live == 0:
            self._heap.clear()
            if self._pump is not None and not self._pump.done():
                self._pump.cancel()
            self._pump = self._target = None
        elif len(self._heap) > 4 * self._live + 64:
            self._heap = [entry for entry in self._heap if entry[2].queued]
            heapq.heapify(self._heap)

    def _start_due(self) -> None:
        heap = self._heap
        horizon = self._clock() + DUE_SLACK
        while heap and (not heap[0][2].queued or heap[0][0] <= horizon):
            run = heapq.heappop(heap)[2]
            if run.queued:
                run.queued = False
                self._live -= 1
                run.start_poll()

    async def _run_pump(self) -> None:
        while True:
            self._start_due()
            if not self._heap:
                self._target = None
                return
            self._target = self._heap[0][0]
            await self._sleep(max(0.0, self._target - self._clock()))


_schedulers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Clock, Sleep], PollScheduler]
] = weakref.WeakKeyDictionary()


def scheduler_for(clock: Clock, sleep: Sleep) -> PollScheduler:
    """The running loop's scheduler for this clock and sleep (one per pair)."""
    loop = asyncio.get_running_loop()
    by_pair = _schedulers.get(loop)
    if by_pair is None:
        by_pair = _schedulers[loop] = {}
    scheduler = by_pair.get((clock, sleep))
    if scheduler is None:
        scheduler = by_pair[(clock, sleep)] = PollScheduler(clock, sleep)
    return scheduler

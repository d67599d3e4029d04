"""The poll engine behind :func:`pixop_async.polling.wait` and ``watch``: one timer for all.

A poll runs in the task of the caller that waits, as it always did (so ``call_timeout``,
budget deadlines and the caller's place in the budget's oldest-first order hold unchanged).
Between two polls the caller awaits one plain future kept in one heap per event loop and
clock (:class:`PollScheduler`); one pump task sleeps until the earliest due time and wakes
the callers whose turn it is. :class:`PollRun` (slots) holds what a wait needs between
polls: its adaptive interval, its deadline and the state seen last, kept as its pickle
(:func:`pack_state`: one bytes object, which the garbage collector does not track) rather
than as the model's graph of attrs instances, and decoded only when a timeout reports it.

Why (issue #16): ten thousand pollers each sleeping through their own chain of coroutines,
async generators, ``asyncio.sleep`` coroutines, futures and timer handles, plus a poll
object and closures per call, were ~32 objects each (its last state included) for the
garbage collector to walk on every full pass (183 ms at 10,000 watchers); ~20 with the
shared scheduler. 8 now: the last state kept packed, the budget's per-task weak reference
taken only when the wait ends, each poll run in a context copy (:func:`in_context_copy`: the
task's context keeps no private mapping), and ``wait`` parked on its future without an
awaiting iterator (the task, its context, its coroutine, the wait's generator, the future,
the task's wake-up callback, asyncio's weak reference to the task, the run). A poll waiting
for its turn in a busy budget is queued before it starts (:meth:`PollRun.queue`): one heap
entry more, not a chain of coroutines and context managers (26 objects before).
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import heapq
import itertools
import pickle
import random
import types
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .budget import BudgetTimeout, RequestBudget
from .errors import PollTimeoutError
from .polling import PollIntervals, jittered, next_interval

if TYPE_CHECKING:  # what mypy makes of a ``types.coroutine`` generator: both at once
    from typing import AwaitableGenerator

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_random = random.Random()

#: Entries due within this many seconds of a pump's wake-up are polled in that wake-up (the
#: loop may wake a timer up to its clock resolution early).
DUE_SLACK = 0.001


def pack_state(state: object) -> bytes | None:
    """``state``'s pickle when keeping that instead saves the collector work (the state is a
    tracked object graph) and it decodes to an equal state; else None (keep the state)."""
    blob = _pickled(state)
    return blob if blob is not None and _decodes_to(blob, state) else None


def _pickled(state: object) -> bytes | None:
    if not gc.is_tracked(state):
        return None  # atoms, and tuples or dicts of atoms: nothing to walk
    try:
        return pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
    except Exception:  # unpicklable: keep the object itself
        return None


def _decodes_to(blob: bytes, state: object) -> bool:
    try:
        return bool(pickle.loads(blob) == state)
    except Exception:  # odd equality: keep the object itself
        return False


@types.coroutine
def in_context_copy(coro: Coroutine[Any, Any, T]) -> Generator[Any, Any, T]:
    """Await ``coro`` in a copy of the task's context, as a task of its own would run it,
    but in the caller's task.

    The budget marks a request's place in a context variable while it is out (and a legacy
    token source notes the token it sent): setting and resetting a variable leaves the task's
    context with a private copy of its mapping, two objects more for each parked watcher to
    keep. Run in a copy, the poll leaves the task's context as it was."""
    context = contextvars.copy_context()
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            if error is None:
                sent = context.run(coro.send, value)
            else:
                sent = context.run(coro.throw, error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        try:
            value, error = (yield sent), None
        except GeneratorExit:
            context.run(coro.close)
            raise
        except BaseException as thrown:  # a cancellation, passed on to the poll
            value, error = None, thrown


class PollRun(Generic[T]):
    """One wait or watch: what to poll, its adaptive interval and the state seen last."""

    __slots__ = (
        "_arg",
        "_budget",
        "_clock",
        "_fetch",
        "_granted",
        "_intervals",
        "_is_terminal",
        "_last",
        "_last_progress",
        "_own_stamp",
        "_owner",
        "_packed",
        "_progress_of",
        "_scheduler",
        "_sleep",
        "_stamp",
        "changed",
        "deadline",
        "due",
        "finished",
        "interval",
        "order",
        "seen",
        "timeout",
        "waiter",
    )

    def __init__(
        self,
        fetch: Callable[[], Awaitable[T]] | str,
        owner: object,
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
        # ``fetch()``, or ``owner``'s method named ``fetch`` called with ``arg``, looked up at
        # each poll (no bound method kept per wait; a patched instance method is seen)
        self._owner = owner
        self._arg = arg
        self._is_terminal = is_terminal
        self._progress_of = progress_of
        self._budget = budget
        self._intervals = intervals
        self._clock = clock
        self._sleep = sleep
        self._scheduler: PollScheduler | None = None
        self.deadline = None if timeout is None else clock() + timeout
        self.timeout = timeout
        self.interval: float = intervals.minimum
        # the last state, or its pickle when ``_packed`` (:func:`pack_state`), and the atoms
        # the next decisions need: its progress and whether it was final
        self._last: object = None
        self._packed = False
        self._last_progress: float | None = None
        self._stamp: float | None = None  # the budget priority stamp the polls queue by
        self._own_stamp = False  # the task's own (not a ``budget.pipeline`` block's)
        self._granted = False  # the next poll's budget place was granted by :meth:`queue`
        self.seen = False
        self.changed = False
        self.finished = False
        # while parked: when the next poll is due, its place among equal due times and the
        # future the caller awaits (the run itself is the scheduler's heap entry)
        self.due = 0.0
        self.order = 0
        self.waiter: asyncio.Future[None] | None = None

    # -- one poll ------------------------------------------------------------------------

    @property
    def last(self) -> T | None:
        """The state seen last (decoded afresh when kept packed: equal, not identical)."""
        last = self._last
        if self._packed:
            return pickle.loads(last)  # type: ignore[arg-type,no-any-return]
        return last  # type: ignore[return-value]

    def timed_out(self) -> PollTimeoutError:
        self.settle()
        return PollTimeoutError(
            f"operation not finished after {self.timeout:g} s", last_state=self.last
        )

    def settle(self) -> None:
        """The wait is over: the task takes the budget stamp its polls queued by, as if it
        had been recorded at the first poll (see :meth:`RequestBudget.adopt_stamp`)."""
        if self._budget is not None and self._stamp is not None and self._own_stamp:
            self._budget.adopt_stamp(self._stamp)

    def _read(self) -> Awaitable[T]:
        fetch = self._fetch
        if isinstance(fetch, str):
            result: Awaitable[T] = getattr(self._owner, fetch)(self._arg)
            return result
        return fetch()

    def poll(self) -> AwaitableGenerator[Any, Any, T, Generator[Any, Any, T]]:
        """Read the state once (within the budget) and take it in; returns it. Awaited in a
        copy of the task's context (:func:`in_context_copy`)."""
        return in_context_copy(self._poll_once())

    def _budget_stamp(self, budget: RequestBudget) -> float:
        if self._stamp is None:
            self._stamp, self._own_stamp = budget.stamp_of_caller()
        return self._stamp

    def queue(self) -> asyncio.Future[None] | None:
        """Queue the next poll in the budget before it starts (so a queued poll is one heap
        entry and its future, not a chain of coroutines): None when it may go at once, else
        a future to wait for, then :meth:`granted`, or :meth:`unqueue` when the wait ends."""
        budget = self._budget
        if budget is None or budget.spare_place_held():
            return None  # (inside a caller's slot the poll uses its place, as ``slot`` does)
        # The first poll always goes out, even past the deadline: a wait with no time left
        # still reports the state it gave up on.
        deadline = self.deadline if self.seen else None
        try:
            fut = budget.queue_place(deadline=deadline, stamp=self._budget_stamp(budget))
        except BudgetTimeout:
            raise self.timed_out() from None
        self._granted = fut is None
        return fut

    def granted(self) -> None:
        self._granted = True

    def unqueue(self, waiter: asyncio.Future[None]) -> None:
        """The caller stopped waiting for its place (the wait ends)."""
        assert self._budget is not None
        self._budget.abandon_place(waiter)
        self.settle()

    async def _poll_once(self) -> T:
        budget = self._budget
        if budget is None:
            state = await self._read()
        else:
            deadline = self.deadline if self.seen else None
            stamp = self._budget_stamp(budget)
            try:
                # queued by the stamp the run keeps (the budget keeps nothing for a parked
                # task); the place and the stamp are marked in the context copy only
                if self._granted:
                    self._granted = False
                    place = budget.hold_place(stamp)
                else:
                    place = await budget.take_place(deadline=deadline, stamp=stamp)
                try:
                    state = await self._read()
                finally:
                    budget.give_back(place)
            except BudgetTimeout:
                raise self.timed_out() from None
            except BaseException:
                self.settle()
                raise
        self._absorb(state)
        if self.finished:
            self.settle()
        return state

    def _absorb(self, state: T) -> None:
        seen = self.seen
        blob = _pickled(state)
        if seen and self._packed and blob is not None and blob == self._last:
            changed = False  # the bytes of the last state, which decoded to an equal one
        else:
            changed = not seen or bool(state != self.last)
            if blob is not None and not _decodes_to(blob, state):
                blob = None
        progress = None if self._progress_of is None else self._progress_of(state)
        if not seen:
            moved = True
        elif self._progress_of is None:
            moved = changed
        else:
            moved = progress != self._last_progress
        self.changed, self.seen = changed, True
        self._last, self._packed = (state, False) if blob is None else (blob, True)
        self._last_progress = progress
        self.finished = bool(self._is_terminal(state))
        if not self.finished:
            self.interval = next_interval(self.interval, moved, self._intervals)

    def next_pause(self) -> float:
        """The jittered wait before the next poll, cut at the deadline (past it: timeout)."""
        pause = jittered(self.interval, _random.random(), self._intervals.jitter)
        if self.deadline is not None:
            left = self.deadline - self._clock()
            if left <= 0:
                raise self.timed_out()
            pause = min(pause, left)
        return pause

    # -- between polls -------------------------------------------------------------------

    def pause(self) -> asyncio.Future[None]:
        """A future the scheduler resolves when the next poll is due (the jittered interval,
        cut at the deadline; past the deadline this raises the timeout instead). Whoever
        awaits it calls :meth:`cancel` when cancelled."""
        pause = self.next_pause()
        if self._scheduler is None:
            self._scheduler = scheduler_for(self._clock, self._sleep)
        return self._scheduler.add(self, self._clock() + pause)

    def cancel(self, waiter: asyncio.Future[None]) -> None:
        """The caller stopped waiting: take its entry out of the scheduler."""
        self.settle()
        if self._scheduler is not None:
            self._scheduler.remove(waiter)

    def __lt__(self, other: PollRun[Any]) -> bool:  # heap order: due time, then arrival
        return (self.due, self.order) < (other.due, other.order)


class PollScheduler:
    """Due times of the parked runs of one event loop and clock, woken by one pump task."""

    def __init__(self, clock: Clock, sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._heap: list[PollRun[Any]] = []
        self._seq = itertools.count()
        self._live = 0  # parked callers still waiting (the heap may also hold cancelled ones)
        self._pump: asyncio.Task[None] | None = None
        self._target: float | None = None  # when the pump wakes next

    @property
    def parked(self) -> int:
        """Callers waiting for their next poll."""
        return self._live

    def add(self, run: PollRun[Any], due: float) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        run.due, run.order, run.waiter = due, next(self._seq), waiter
        heapq.heappush(self._heap, run)
        self._live += 1
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._run_pump())
        elif self._target is not None and due < self._target - DUE_SLACK:
            self._pump.cancel()  # sleeping past this entry: start over with the earlier one
            self._pump = loop.create_task(self._run_pump())
        return waiter

    def remove(self, waiter: asyncio.Future[None]) -> None:
        """Forget a cancelled waiter: none left → an empty heap and no pump at once; mostly
        cancelled → the heap is rebuilt without them. Idempotent: a waiter removed again (two
        release paths of one caller) is counted out once."""
        if waiter.done() and not waiter.cancelled():
            return  # already woken (and counted out)
        if getattr(waiter, "_pixop_removed", False):
            return  # removed before: counted out then
        waiter._pixop_removed = True  # type: ignore[attr-defined]  # (only once it is gone)
        waiter.cancel()
        self._live -= 1
        if self._live == 0:
            self._heap.clear()
            if self._pump is not None and not self._pump.done():
                self._pump.cancel()
            self._pump = self._target = None
        elif len(self._heap) > 4 * self._live + 64:
            self._heap = [run for run in self._heap if not _gone(run)]
            heapq.heapify(self._heap)

    def _wake_due(self) -> None:
        heap = self._heap
        horizon = self._clock() + DUE_SLACK
        while heap and (_gone(heap[0]) or heap[0].due <= horizon):
            waiter = heapq.heappop(heap).waiter
            if waiter is not None and not waiter.done():
                self._live -= 1
                waiter.set_result(None)

    async def _run_pump(self) -> None:
        try:
            while True:
                self._wake_due()
                if not self._heap:
                    self._target = None
                    return
                self._target = self._heap[0].due
                await self._sleep(max(0.0, self._target - self._clock()))
        finally:
            # a finished pump is forgotten, so the scheduler never keeps a closed loop alive
            if self._pump is asyncio.current_task():
                self._pump = None


def _gone(run: PollRun[Any]) -> bool:
    """Whether a heap entry's caller has stopped waiting (its future cancelled)."""
    return run.waiter is None or run.waiter.done()


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

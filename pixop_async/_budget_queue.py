"""The budget's waiting room: requests queued for their turn, oldest priority key first,
and the ones with a deadline, earliest deadline first.

Each waiter is a future the budget resolves at its grant (or fails with
:class:`~pixop_async.budget.BudgetTimeout`). A waiter that stops waiting leaves its entries
behind (dropping them from the middle of a heap costs a rebuild); they are skipped when they
reach the top, and the heaps are rebuilt once they are mostly such leftovers. ``live`` counts
the waiters still waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

from ._budget_context import BudgetTimeout

#: (priority key, arrival, future, deadline or None)
Entry = tuple[float, int, "asyncio.Future[None]", float | None]


class WaiterQueue:
    """The waiters of one budget (see the module docstring)."""

    __slots__ = ("_seq", "deadlines", "heap", "live", "peak")

    def __init__(self) -> None:
        self.heap: list[Entry] = []
        # the waiters with a deadline, earliest first: one queued behind older waiters is
        # told as soon as the next grant comes after its deadline, not at the queue's head
        self.deadlines: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self.live = 0  # waiters in the heap still waiting (the rest were cancelled)
        self.peak = 0  # the most waiting at once

    def push(self, key: float, fut: asyncio.Future[None], when: float | None) -> None:
        """Queue ``fut`` by ``key`` (lower goes first; equal keys in arrival order)."""
        seq = next(self._seq)
        heapq.heappush(self.heap, (key, seq, fut, when))
        if when is not None:
            heapq.heappush(self.deadlines, (when, seq, fut))
        self.live += 1
        self.peak = max(self.peak, self.live)

    def head(self) -> Entry | None:
        """The first waiter still waiting (the leftovers above it dropped), or None."""
        heap = self.heap
        while heap and heap[0][2].done():  # cancelled or timed out
            heapq.heappop(heap)
        return heap[0] if heap else None

    def pop(self) -> asyncio.Future[None]:
        """Take the head (see :meth:`head`) out to be granted or told; it is counted out."""
        self.live -= 1
        return heapq.heappop(self.heap)[2]

    def expire(self, next_grant: float, *, reached: bool = False) -> None:
        """Tell every waiter whose deadline comes before ``next_grant`` (with ``reached``:
        is not after it) that its turn would come too late (whatever its place in the
        queue; its heap entry is dropped later)."""
        deadlines = self.deadlines
        while deadlines and (
            deadlines[0][2].done()
            or deadlines[0][0] < next_grant
            or (reached and deadlines[0][0] == next_grant)
        ):
            fut = heapq.heappop(deadlines)[2]
            if not fut.done():
                fut.set_exception(BudgetTimeout())
                self.live -= 1
        self.head()

    def forget(self, fut: asyncio.Future[None]) -> None:
        """A waiter stopped waiting: ``fut`` is cancelled and counted out. None left waiting
        → empty heaps at once; mostly leftovers → the heaps are rebuilt without them."""
        fut.cancel()
        self.live -= 1
        if self.live == 0:
            self.clear()
        elif len(self.heap) > 4 * self.live + 64:
            self.heap = [entry for entry in self.heap if not entry[2].done()]
            heapq.heapify(self.heap)
            self.deadlines = [entry for entry in self.deadlines if not entry[2].done()]
            heapq.heapify(self.deadlines)

    def clear(self) -> None:
        """Drop every entry (call only when no waiter is still waiting)."""
        self.heap.clear()
        self.deadlines.clear()

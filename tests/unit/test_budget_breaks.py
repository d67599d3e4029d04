"""Breaker findings on the budget's pump (issue #16): a pump asleep on a stale delay."""

from __future__ import annotations

import asyncio
from typing import Any

from pixop_async.budget import RequestBudget
from tests.unit.test_polling import FakeTime

EXHAUSTED = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}
# a new window (it ends 30 s from now, not 60): plenty left
FRESH = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "600", "X-RateLimit-Reset": "30"}


def _others() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def test_a_window_that_improves_wakes_waiters_the_pump_was_sleeping_past() -> None:
    """The pump went to sleep for the exhausted window's reset (61 s); a response then
    reported a fresh window. The waiters left after the first grant must go at the fresh
    window's pace (0.05 s apart), not when the stale sleep ends a minute later."""
    t = FakeTime()
    budget = RequestBudget(max_in_flight=1, clock=t.clock, sleep=t.sleep)
    done: list[float] = []

    async def one() -> None:
        async with budget.slot():
            await asyncio.sleep(0)
        done.append(t.now)

    async def scenario() -> None:
        budget.observe(EXHAUSTED)
        tasks = [asyncio.create_task(one()) for _ in range(3)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert budget.waiting == 3 and t.sleeps and t.sleeps[-1] > 60  # the long sleep
        budget.observe(FRESH)
        await asyncio.gather(*tasks)

    await t.run(scenario())
    assert len(done) == 3
    assert max(done) - 1000.0 < 1.0, done  # 61 s with the stale sleep
    await asyncio.sleep(0)
    assert budget._pump is None and _others() == set()


async def test_no_pump_is_left_asleep_once_every_waiter_is_served() -> None:
    budget = RequestBudget(max_in_flight=1)
    budget.observe(EXHAUSTED)
    tasks = [asyncio.create_task(_slot(budget)) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert budget._pump is not None  # asleep until the exhausted window resets
    budget.observe(FRESH)
    await asyncio.gather(*tasks)
    await asyncio.sleep(0)
    assert budget.waiting == 0 and budget.in_flight == 0
    assert _others() == set()  # not a pump asleep for a minute on an empty heap


async def _slot(budget: RequestBudget) -> None:
    async with budget.slot():
        await asyncio.sleep(0)


async def test_abandoning_a_place_twice_counts_it_out_once() -> None:
    budget = RequestBudget(max_in_flight=1)
    assert budget.queue_place(deadline=None, stamp=0.0) is None  # granted at once
    queued = budget.queue_place(deadline=None, stamp=1.0)
    cancelled = budget.queue_place(deadline=None, stamp=2.0)
    assert queued is not None and cancelled is not None and budget.waiting == 2
    cancelled.cancel()
    budget.abandon_place(cancelled)
    budget.abandon_place(cancelled)
    assert budget.waiting == 1  # 0 when the second call counted it out again
    budget.give_back(budget.hold_place(0.0))  # the first request ends: ``queued`` granted
    assert queued.done() and budget.in_flight == 1
    budget.abandon_place(queued)
    budget.abandon_place(queued)
    assert budget.in_flight == 0 and budget.waiting == 0  # not -1: a place given back twice
    assert budget.queue_place(deadline=None, stamp=3.0) is None
    assert budget.in_flight == 1

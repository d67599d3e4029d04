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


async def test_a_cancellation_storm_leaves_no_entry_place_pump_or_task_behind() -> None:
    """300 waits and watches on one budget, half cancelled at random moments (parked,
    queued in the budget, poll in flight), some with timeouts: the others finish with the
    terminal state, and nothing is left: no heap entry, no place, no pump, no task."""
    import random
    import time

    from pixop_async._poll_scheduler import scheduler_for
    from pixop_async.errors import PollTimeoutError
    from pixop_async.polling import PollIntervals, wait, watch
    from tests.unit.test_polling import Job, done

    fast = PollIntervals(minimum=0.001, maximum=0.004, jitter=0.5)
    rnd = random.Random(16)
    budget = RequestBudget(max_in_flight=4)

    async def pipeline(i: int) -> Job:
        polls = {"n": 0}

        async def fetch() -> Job:
            polls["n"] += 1
            for _ in range(rnd.randrange(3)):
                await asyncio.sleep(0)
            return Job("DONE" if polls["n"] >= 4 else "RUNNING", polls["n"])

        if i % 3 == 0:
            states = [
                s async for s in watch(fetch, is_terminal=done, budget=budget, intervals=fast)
            ]
            return states[-1]
        timeout = 0.02 if i % 5 == 0 else None
        return await wait(fetch, is_terminal=done, budget=budget, intervals=fast, timeout=timeout)

    tasks = [asyncio.create_task(pipeline(i)) for i in range(300)]
    for task in rnd.sample(tasks, 150):
        for _ in range(rnd.randrange(4)):
            await asyncio.sleep(0)
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    finished = [r for r in results if isinstance(r, Job)]
    assert finished and all(r == Job("DONE", 4) for r in finished)
    assert all(isinstance(r, (Job, asyncio.CancelledError, PollTimeoutError)) for r in results), [
        r for r in results if not isinstance(r, Job)
    ][:3]
    await asyncio.sleep(0)
    scheduler = scheduler_for(time.monotonic, asyncio.sleep)
    assert scheduler.parked == 0 and scheduler._heap == []
    assert budget.waiting == 0 and budget.in_flight == 0 and budget._heap == []
    assert _others() == set()

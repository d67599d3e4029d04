"""Breaker b17b: the poll scheduler's remove paths at scale and after its pump stopped."""

from __future__ import annotations

import asyncio
import gc
import time

from pixop_async._poll_scheduler import PollRun, PollScheduler, scheduler_for
from pixop_async.polling import PollIntervals, wait
from tests.unit.test_polling import FakeTime, Job, done

SLOW = PollIntervals(minimum=30, maximum=60, jitter=0)


async def _never_done() -> Job:
    return Job("RUNNING", 0)


async def test_ten_thousand_idle_watchers_cancelled_at_once_leave_nothing() -> None:
    waits = [
        asyncio.create_task(wait(_never_done, is_terminal=done, intervals=SLOW))
        for _ in range(10_000)
    ]
    scheduler = scheduler_for(time.monotonic, asyncio.sleep)
    for _ in range(200):  # every wait polls once and parks
        await asyncio.sleep(0.01)
        if scheduler.parked == 10_000:
            break
    assert scheduler.parked == 10_000
    for task in waits:
        task.cancel()
    outcomes = await asyncio.gather(*waits, return_exceptions=True)
    assert all(isinstance(x, asyncio.CancelledError) for x in outcomes)
    await asyncio.sleep(0)
    assert scheduler.parked == 0 and scheduler._heap == [] and scheduler._pump is None
    assert asyncio.all_tasks() == {asyncio.current_task()}
    del waits, outcomes
    gc.collect()
    # and the scheduler still works: a new wait parks and is woken
    run = PollRun(
        _never_done, None, None, done, None, None, None, SLOW, time.monotonic, asyncio.sleep
    )
    waiter = scheduler.add(run, time.monotonic())
    await asyncio.wait_for(waiter, 10)
    assert scheduler.parked == 0


async def test_removes_after_the_pump_stopped_change_nothing() -> None:
    t = FakeTime()
    scheduler = PollScheduler(t.clock, t.sleep)

    def run() -> PollRun[Job]:
        return PollRun(_never_done, None, None, done, None, None, None, SLOW, t.clock, t.sleep)

    async def scenario() -> float:
        first = scheduler.add(run(), t.now + 10)
        await first  # woken: the heap empties and the pump ends
        for _ in range(3):
            await asyncio.sleep(0)
        assert scheduler._pump is None and scheduler.parked == 0
        scheduler.remove(first)  # a late release path of a woken wait
        gone = scheduler.add(run(), t.now + 5)
        scheduler.remove(gone)
        assert scheduler._pump is None  # none left: no pump
        scheduler.remove(gone)
        assert scheduler.parked == 0
        later = scheduler.add(run(), t.now + 20)
        scheduler.remove(first)
        scheduler.remove(gone)
        assert scheduler.parked == 1
        await later
        return t.now

    assert await asyncio.wait_for(t.run(scenario()), 10) == 1030.0
    assert scheduler.parked == 0

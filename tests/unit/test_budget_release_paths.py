"""Regression tests: release paths called twice, a pump cancelled from outside, and deadlines
told early while every slot is busy. All on virtual time (no wall-clock sleeps)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from pixop_async._pacing import awaits_response
from pixop_async._poll_scheduler import PollRun, PollScheduler, scheduler_for
from pixop_async.budget import PROBE_RECHECK_SECONDS, BudgetTimeout, RequestBudget, pacing_delay
from pixop_async.polling import PollIntervals
from pixop_async.ratelimit import RateLimit
from tests.unit.test_polling import FakeTime, Job, done

# 100 requests left over the next 10 s: one grant every 0.1 s
WINDOW = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "100", "X-RateLimit-Reset": "10"}
SLOW = PollIntervals(minimum=30, maximum=60, jitter=0)
GUARD = 10.0  # real seconds: a hang fails the test instead of stalling the suite


async def _never_done() -> Job:
    return Job("RUNNING", 0)


def _run(t: FakeTime) -> PollRun[Job]:
    return PollRun(_never_done, None, None, done, None, None, None, SLOW, t.clock, t.sleep)


# --------------------------------------------------------------------------- (a) twice


async def test_a_scheduler_entry_removed_twice_is_counted_out_once() -> None:
    t = FakeTime()
    scheduler = PollScheduler(t.clock, t.sleep)
    first_run, second_run = _run(t), _run(t)

    async def scenario() -> float:
        first = scheduler.add(first_run, t.now + 10)
        second = scheduler.add(second_run, t.now + 20)
        scheduler.remove(first)
        scheduler.remove(first)  # a second release path for the same entry
        assert scheduler.parked == 1
        await second  # the other caller is still woken, at its due time
        return t.now

    assert await asyncio.wait_for(t.run(scenario()), GUARD) == 1020.0
    assert scheduler.parked == 0


async def test_a_cancelled_wait_removed_twice_is_counted_out_once() -> None:
    t = FakeTime()
    first_run, second_run = _run(t), _run(t)

    async def park(run: PollRun[Job]) -> None:
        waiter = run.pause()  # due in 30 s (no jitter)
        try:
            await waiter
        except asyncio.CancelledError:
            run.cancel(waiter)
            run.cancel(waiter)  # a second release path for the same entry
            raise

    async def scenario() -> float:
        cancelled = asyncio.create_task(park(first_run))
        other = asyncio.create_task(park(second_run))
        await asyncio.sleep(0)
        cancelled.cancel()  # asyncio cancels the awaited future before ``cancel`` runs
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert scheduler_for(t.clock, t.sleep).parked == 1
        await other
        return t.now

    assert await asyncio.wait_for(t.run(scenario()), GUARD) == 1030.0


# --------------------------------------------------------------------------- (b) pump


async def test_a_pump_cancelled_from_outside_is_restarted_and_waiters_are_served() -> None:
    t = FakeTime()
    budget = RequestBudget(max_in_flight=None, clock=t.clock, sleep=t.sleep)
    budget.observe(WINDOW)
    served: list[float] = []

    async def one() -> None:
        async with budget.slot():
            served.append(t.now)

    async def scenario() -> None:
        tasks = [asyncio.create_task(one()) for _ in range(5)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert budget.waiting == 4 and budget.in_flight == 0  # only the pump serves them
        pump = budget._pump
        assert pump is not None
        pump.cancel()  # not by the budget: a supervisor sweeping stray tasks, say
        await asyncio.gather(*tasks)

    await asyncio.wait_for(t.run(scenario()), GUARD)
    assert len(served) == 5
    # still paced by the window (~0.1 s apart: what is left spread over the time left)
    assert all(b - a > 0.09 for a, b in itertools.pairwise(served)), served
    assert served[-1] - served[0] < 0.5, served  # not held up
    await asyncio.sleep(0)
    assert budget.waiting == 0 and budget._pump is None


async def test_a_pump_the_budget_stops_itself_is_not_restarted() -> None:
    t = FakeTime()
    budget = RequestBudget(max_in_flight=None, clock=t.clock, sleep=t.sleep)
    budget.observe(WINDOW)

    async def scenario() -> None:
        async with budget.slot():
            pass
        waiter = asyncio.create_task(budget._acquire(None))
        for _ in range(3):
            await asyncio.sleep(0)
        assert budget._pump is not None
        waiter.cancel()  # the last waiter leaves: the budget stops its pump
        await asyncio.gather(waiter, return_exceptions=True)
        for _ in range(3):
            await asyncio.sleep(0)

    await asyncio.wait_for(t.run(scenario()), GUARD)
    assert budget._pump is None and budget.waiting == 0


# --------------------------------------------------------------------------- (c) deadline


async def test_a_deadline_is_not_told_early_while_every_slot_is_busy() -> None:
    """The one slot frees 30 ms before the waiter's deadline: it is granted, not told at
    once that a 50 ms re-check would come too late."""
    t = FakeTime()
    budget = RequestBudget(max_in_flight=1, clock=t.clock, sleep=t.sleep)
    budget.observe({})  # no window: only max_in_flight bounds the requests
    granted: list[float] = []

    async def holder() -> None:
        async with budget.slot():
            await t.sleep(0.01)

    async def waiter(deadline: float) -> None:
        async with budget.slot(deadline=deadline):
            granted.append(t.now)

    async def scenario() -> None:
        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        await asyncio.gather(first, waiter(t.now + 0.04))

    await asyncio.wait_for(t.run(scenario()), GUARD)
    assert granted == [pytest.approx(1000.01)]


async def test_a_deadline_is_told_at_its_time_not_before_while_every_slot_is_busy() -> None:
    t = FakeTime()
    budget = RequestBudget(max_in_flight=1, clock=t.clock, sleep=t.sleep)
    budget.observe({})
    told: list[float] = []

    async def holder() -> None:
        async with budget.slot():
            await t.sleep(5.0)

    async def waiter(deadline: float) -> None:
        with pytest.raises(BudgetTimeout):
            async with budget.slot(deadline=deadline):
                pass
        told.append(t.now)

    async def scenario() -> None:
        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        await asyncio.gather(first, waiter(t.now + 0.04), waiter(t.now + 0.13))

    await asyncio.wait_for(t.run(scenario()), GUARD)
    # at each deadline: never before it, and not a re-check period after it either
    assert told == [pytest.approx(1000.04), pytest.approx(1000.13)]
    assert budget.waiting == 0 and budget.in_flight == 0


def test_only_a_wait_for_a_response_is_no_forecast_of_the_grant() -> None:
    window = RateLimit(limit=600, remaining=100, reset_seconds=10, observed_at=0)
    spent = RateLimit(limit=600, remaining=0, reset_seconds=10, observed_at=0)
    # every place out: the next one frees when a response comes back
    assert awaits_response(window, now=0, in_flight=4, max_in_flight=4)
    # no window known, the probe is out: its response reports one
    assert awaits_response(None, now=0, in_flight=1)
    assert awaits_response(window, now=11, in_flight=1)  # (the window is over)
    # the window sets the time: paced, or spent until its reset
    assert not awaits_response(window, now=0, in_flight=1, max_in_flight=4)
    assert not awaits_response(spent, now=0, in_flight=1)
    # nothing out, or a server that reports no window at all
    assert not awaits_response(None, now=0, in_flight=0)
    assert not awaits_response(None, now=0, in_flight=3, unlimited=True)
    # and pacing_delay's re-check period answers exactly these waits
    assert pacing_delay(None, now=0, in_flight=1, last_grant=0, reserve=0) == (
        PROBE_RECHECK_SECONDS
    )

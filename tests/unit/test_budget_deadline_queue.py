"""Breaker finding (issue #16): a waiter's deadline is honoured while it is queued behind
older waiters, not only once it reaches the head of the budget's queue."""

from __future__ import annotations

import asyncio

import pytest

from pixop_async.budget import BudgetTimeout, RequestBudget
from tests.unit.test_polling import FakeTime

# 100 requests left over the next 10 s: one grant every 0.1 s
WINDOW = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "100", "X-RateLimit-Reset": "10"}


async def test_a_young_waiter_with_a_deadline_is_told_in_time_behind_older_waiters() -> None:
    t = FakeTime()
    budget = RequestBudget(max_in_flight=None, clock=t.clock, sleep=t.sleep)
    budget.observe(WINDOW)
    told: list[float] = []

    async def young() -> None:
        with pytest.raises(BudgetTimeout):
            await budget._acquire(t.now + 1.0, stamp=2000.0)  # younger than every old one
        told.append(t.now)

    async def scenario() -> None:
        async with budget.slot():  # the first grant: the rest are paced 0.1 s apart
            pass
        olds = [asyncio.create_task(_stamped(budget, float(i))) for i in range(50)]
        for _ in range(3):
            await asyncio.sleep(0)
        await asyncio.gather(young(), *olds)

    await t.run(scenario())
    # its turn (after 50 older waiters, ~5 s) would come past its deadline (1 s): it must
    # learn so by the deadline, not when it reaches the head of the queue 4 s later
    assert told and told[0] - 1000.0 <= 1.0 + 0.2, told
    assert budget.waiting == 0 and budget.in_flight == 0


async def _stamped(budget: RequestBudget, stamp: float) -> None:
    await budget._acquire(None, stamp=stamp)
    budget._release()

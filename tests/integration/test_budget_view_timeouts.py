"""Breaker b17b: ``with_options(timeout=)`` views over a saturated budget time out at their
own timeout (not early, not held by the budget's long window wait), and leave the budget
with no waiter, place or pump behind."""

from __future__ import annotations

import asyncio
import time

import pytest

from pixop_async.errors import APITimeoutError

from .test_client_options import PROJECT, Recorder, recorder  # noqa: F401  (fixture)

# nothing left in a window that resets in a minute: the next grant is 61 s away
EXHAUSTED = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}


async def test_views_over_a_saturated_budget_time_out_at_their_own_timeout(
    recorder: tuple[Recorder, object],  # noqa: F811
) -> None:
    rec, px = recorder
    budget = px.budget  # type: ignore[attr-defined]
    budget.observe(EXHAUSTED)
    ends: dict[float, float] = {}

    async def call(limit: float) -> None:
        view = px.with_options(timeout=limit)  # type: ignore[attr-defined]
        start = time.monotonic()
        with pytest.raises(APITimeoutError, match=rf"within {limit:g} s"):
            await view.projects.delete(PROJECT)
        ends[limit] = time.monotonic() - start

    await asyncio.wait_for(asyncio.gather(*(call(x) for x in (0.2, 0.4, 0.6))), 30)
    assert rec.seen == []  # nothing went out past the window
    for limit, took in ends.items():
        assert took >= limit, ends  # never before its timeout (the 61 s forecast is no reason)
        assert took < limit + 5.0, ends  # and not held for the window (generous: shared CPUs)
    await asyncio.sleep(0)
    assert budget.waiting == 0 and budget.in_flight == 0 and budget._pump is None

"""Breaker b17b findings on the split request budget: deadlines that are not numbers,
cancellation storms, the restarted pump at loop shutdown and across loops and threads.
All on virtual time except where a real event loop's shutdown is the subject."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import threading
import time

import pytest

from pixop_async._budget_pump import MIN_PAUSE
from pixop_async.budget import BudgetTimeout, RequestBudget, deadline
from tests.unit.test_polling import FakeTime

GUARD = 20.0  # real seconds: a hang fails the test instead of stalling the suite


# --------------------------------------------------------------------------- NaN deadlines


async def test_a_nan_deadline_is_refused_before_it_queues() -> None:
    t = FakeTime()
    budget = RequestBudget(max_in_flight=1, clock=t.clock, sleep=t.sleep)
    budget.observe({})
    with pytest.raises(ValueError, match="deadline"):
        async with budget.slot(deadline=math.nan):
            pass
    with pytest.raises(ValueError, match="deadline"):
        budget.queue_place(deadline=math.nan, stamp=0.0)
    with pytest.raises(ValueError, match="deadline"), deadline(math.nan):
        pass
    assert budget.in_flight == 0 and budget.waiting == 0


async def test_a_nan_deadline_cannot_hold_up_the_deadlines_queued_behind_it() -> None:
    """Before the fix a NaN deadline sat at the top of the deadline heap (NaN compares false
    both ways) and the 1 s and 2 s deadlines behind it were told only when the slot freed
    at 5 s."""
    t = FakeTime()
    budget = RequestBudget(max_in_flight=1, clock=t.clock, sleep=t.sleep)
    budget.observe({})  # no window: only max_in_flight bounds the requests
    told: dict[str, object] = {}

    async def holder() -> None:
        async with budget.slot():
            await t.sleep(5)

    async def waiter(name: str, when: float) -> None:
        try:
            async with budget.slot(deadline=when):
                told[name] = "granted"
        except BudgetTimeout:
            told[name] = t.now - 1000.0
        except ValueError:
            told[name] = "refused"

    async def scenario() -> None:
        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        await asyncio.gather(
            first, waiter("nan", math.nan), waiter("1s", t.now + 1), waiter("2s", t.now + 2)
        )

    await asyncio.wait_for(t.run(scenario()), GUARD)
    # told at their deadlines (never before; after by at most the pump's shortest pause,
    # the re-checks every 50 ms add up to a hair under the deadline)
    assert told["nan"] == "refused"
    assert 1.0 <= told["1s"] <= 1.0 + MIN_PAUSE + 1e-9, told  # type: ignore[operator]
    assert 2.0 <= told["2s"] <= 2.0 + MIN_PAUSE + 1e-9, told  # type: ignore[operator]
    assert budget.waiting == 0 and budget.in_flight == 0


async def test_an_infinite_deadline_waits_like_no_deadline() -> None:
    t = FakeTime()
    budget = RequestBudget(max_in_flight=1, clock=t.clock, sleep=t.sleep)
    budget.observe({})
    granted: list[float] = []

    async def holder() -> None:
        async with budget.slot():
            await t.sleep(300)

    async def waiter() -> None:
        async with budget.slot(deadline=math.inf):
            granted.append(t.now)

    async def scenario() -> None:
        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        await asyncio.gather(first, waiter())

    await asyncio.wait_for(t.run(scenario()), GUARD)
    assert granted == [1300.0]


# --------------------------------------------------------------------------- os.fork


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_inherit_the_parents_places_and_waiters() -> None:
    """A child forked (from a thread) while the parent's loop had every place of the
    budget out and more requests queued inherited those counts: nothing in the child
    ever gives them back, so its first request waited forever."""
    budget = RequestBudget(max_in_flight=2)
    budget.observe({})  # no window: only max_in_flight bounds the requests
    outcome: dict[str, int] = {}

    def fork_and_wait(ready: threading.Event, release: threading.Event) -> None:
        ready.wait(GUARD)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            code = 1
            try:

                async def in_child() -> int:
                    async with budget.slot():
                        inside = budget.in_flight
                    return 0 if inside == 1 and budget.waiting == 0 else 2

                code = asyncio.run(asyncio.wait_for(in_child(), 5))
            except BaseException:
                code = 3
            finally:
                os._exit(code)
        try:
            for _ in range(600):  # up to 30 s; a hung child is killed and the test fails
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    outcome["exit"] = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        finally:
            release.set()

    async def parent() -> None:
        ready, release = threading.Event(), threading.Event()
        forker = threading.Thread(target=fork_and_wait, args=(ready, release))
        forker.start()

        async def hold() -> None:
            async with budget.slot():
                await asyncio.to_thread(release.wait, 60)

        holders = [asyncio.create_task(hold()) for _ in range(4)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert budget.in_flight == 2 and budget.waiting == 2
        ready.set()
        await asyncio.wait_for(asyncio.gather(*holders), 60)
        await asyncio.to_thread(forker.join)

    asyncio.run(parent())
    assert outcome == {"exit": 0}
    assert budget.in_flight == 0 and budget.waiting == 0  # the parent's own counts settle

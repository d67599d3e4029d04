"""Breaker b17b findings on the split request budget: deadlines that are not numbers,
cancellation storms, the restarted pump at loop shutdown and across loops and threads.
All on virtual time except where a real event loop's shutdown is the subject."""

from __future__ import annotations

import asyncio
import gc
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from pixop_async._budget_pump import MIN_PAUSE
from pixop_async.budget import BudgetTimeout, RequestBudget, deadline
from pixop_async.polling import PollIntervals, wait
from tests.unit.test_polling import FakeTime, Job, done

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


async def test_a_wait_woken_a_hair_after_its_deadline_still_takes_its_last_look() -> None:
    """A wait's last pause is cut at its deadline so it polls once more there; a real
    loop wakes a hair after it. That poll must not be refused by an idle budget for being
    past the deadline (a breaker's first fix for the case below did that: a job done just
    before the timeout was then always reported as timed out)."""
    t = FakeTime()

    async def late_sleep(seconds: float) -> None:
        await t.sleep(seconds + 0.002)  # every timer fires 2 ms late

    budget = RequestBudget(clock=t.clock, sleep=late_sleep)
    budget.observe({})
    start = t.now

    async def fetch() -> Job:
        return Job("DONE" if t.now - start >= 0.22 else "RUNNING", 0)

    async def scenario() -> Job:
        return await wait(
            fetch,
            is_terminal=done,
            timeout=0.25,
            budget=budget,
            intervals=PollIntervals(minimum=0.1, maximum=0.1, jitter=0),
            clock=t.clock,
            sleep=late_sleep,
        )

    final = await asyncio.wait_for(t.run(scenario()), GUARD)
    assert final.status == "DONE"


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "queue"])
async def test_a_deadline_already_past_bounds_only_a_wait(busy: bool) -> None:
    """A deadline bounds the wait for a place: a request whose deadline has passed goes
    when it may go at once, and is told when it would have to wait."""
    t = FakeTime()

    async def ask(when: float) -> str:
        budget = RequestBudget(clock=t.clock, sleep=t.sleep)
        budget.observe(
            {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "100", "X-RateLimit-Reset": "10"}
        )
        if busy:
            async with budget.slot():  # the next grant is paced 0.1 s later
                pass
        try:
            async with budget.slot(deadline=when):
                answer = "granted"
        except BudgetTimeout:
            answer = "told"
        assert budget.in_flight == 0 and budget.waiting == 0
        return answer

    async def scenario() -> list[str]:
        return [await ask(t.now - 5), await ask(-math.inf)]

    expected = ["told", "told"] if busy else ["granted", "granted"]
    assert await asyncio.wait_for(t.run(scenario()), GUARD) == expected


async def test_deadlines_across_a_window_reset() -> None:
    """Nothing left until the window resets 10 s from now (granted 1 s after, the reset's
    rounding): a deadline before that is told at once (the window forecasts the grant:
    fail fast, by design), one after it is granted at the reset, and one exactly at the
    forecast grant is granted (a grant not after its deadline)."""
    t = FakeTime()
    budget = RequestBudget(max_in_flight=None, clock=t.clock, sleep=t.sleep)
    budget.observe(
        {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "10"}
    )
    seen: dict[str, tuple[str, float]] = {}

    async def ask(name: str, when: float) -> None:
        try:
            async with budget.slot(deadline=when):
                seen[name] = ("granted", t.now - 1000.0)
                budget.observe({})  # its response: the server stopped reporting a window
        except BudgetTimeout:
            seen[name] = ("told", t.now - 1000.0)

    async def scenario() -> None:
        await asyncio.gather(
            ask("5 s", t.now + 5), ask("11 s", t.now + 11), ask("12 s", t.now + 12)
        )

    await asyncio.wait_for(t.run(scenario()), GUARD)
    assert seen == {"5 s": ("told", 0.0), "11 s": ("granted", 11.0), "12 s": ("granted", 11.0)}
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


# --------------------------------------------------------------------------- storms

LIMIT, SPAN = 50, 10.0  # the fake server's window: 50 requests per 10 s


class _WindowServer:
    """Counts the requests of each fixed window on the fake clock and answers the
    ``X-RateLimit-*`` headers a server would."""

    def __init__(self, t: FakeTime) -> None:
        self.t, self.start, self.used, self.most = t, t.now, 0, 0

    def hit(self) -> dict[str, str]:
        while self.t.now >= self.start + SPAN:
            self.start, self.used = self.start + SPAN, 0
        self.used += 1
        self.most = max(self.most, self.used)
        reset = math.ceil(self.start + SPAN - self.t.now)
        left = max(0, LIMIT - self.used)
        return {
            "X-RateLimit-Limit": str(LIMIT),
            "X-RateLimit-Remaining": str(left),
            "X-RateLimit-Reset": str(reset),
        }


@pytest.mark.parametrize("windowed", [True, False], ids=["window", "no-window"])
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_storm_of_deadlines_and_cancels_settles_to_nothing(
    seed: int, windowed: bool
) -> None:
    """1,000 requests, random start times, deadlines (some none, some already past) and
    cancels: counts never go negative, no grant lands after its deadline, a deadline that
    waits for a response is told at its time (not early), the window is never overrun, and
    afterwards no entry, place, pump or task is left."""
    rnd = random.Random(seed)
    t = FakeTime()
    budget = RequestBudget(max_in_flight=8, clock=t.clock, sleep=t.sleep)
    server = _WindowServer(t)
    tally = {"granted": 0, "told": 0, "negative": 0, "late grant": 0}

    def check() -> None:
        if budget.waiting < 0 or budget.in_flight < 0 or budget.in_flight > 8:
            tally["negative"] += 1

    async def one() -> None:
        offset, hold = rnd.uniform(-1, 40), rnd.uniform(0, 0.5)
        await t.sleep(rnd.uniform(0, 20))
        when = None if rnd.random() < 0.3 else t.now + offset
        try:
            async with budget.slot(deadline=when):
                tally["granted"] += 1
                if when is not None and offset > 0 and t.now > when:
                    tally["late grant"] += 1  # (one past its deadline when it asked may go)
                check()
                await t.sleep(hold)
                budget.observe(server.hit() if windowed else {})
        except BudgetTimeout:
            tally["told"] += 1
            if not windowed and when is not None and offset > 0:
                # every place busy is a wait for a response: told at its deadline
                assert when <= t.now <= when + MIN_PAUSE + 1e-9, (when, t.now)
        check()

    async def cancel_later(task: asyncio.Task[None]) -> None:
        await t.sleep(rnd.uniform(0, 60))
        task.cancel()

    async def scenario() -> None:
        tasks = [asyncio.create_task(one()) for _ in range(1000)]
        cancellers = [asyncio.create_task(cancel_later(x)) for x in tasks if rnd.random() < 0.4]
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for canceller in cancellers:
            canceller.cancel()
        await asyncio.gather(*cancellers, return_exceptions=True)
        cancelled = sum(isinstance(x, asyncio.CancelledError) for x in outcomes)
        assert tally["granted"] + tally["told"] + cancelled >= 1000 - 1  # (one grant cancelled)
        errors = [x for x in outcomes if isinstance(x, BaseException)]
        assert all(isinstance(x, asyncio.CancelledError) for x in errors), errors
        for _ in range(3):
            await asyncio.sleep(0)

    await asyncio.wait_for(t.run(scenario()), 120)
    assert tally["negative"] == 0 and tally["late grant"] == 0, tally
    assert tally["granted"] > 100 and tally["told"] > 50, tally  # the storm did both
    assert server.most <= LIMIT, server.most  # never more out in a window than it allows
    assert budget.waiting == 0 and budget.in_flight == 0
    assert budget._heap == [] and budget._queue.deadlines == [] and budget._pump is None
    assert asyncio.all_tasks() == {asyncio.current_task()}


# --------------------------------------------------------------------------- loop shutdown

_SHUTDOWN_SCRIPT = r"""
import asyncio, threading
from pixop_async.budget import RequestBudget

SPENT = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}

def ends_with_waiters(budget, cancel_pump):
    async def one():
        async with budget.slot():
            await asyncio.sleep(0)

    async def main():
        budget.observe(SPENT)
        tasks = [asyncio.create_task(one()) for _ in range(5)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert budget.waiting == 5 and budget._pump is not None
        for _ in range(200 if cancel_pump else 0):  # a tight loop of outside cancels
            budget._pump.cancel()
            await asyncio.sleep(0)
            assert budget._pump is not None and budget.waiting == 5
        return tasks  # asyncio.run ends with the waiters queued (and the pump cancelled)

    asyncio.run(main())
    assert budget.waiting == 0 and budget.in_flight == 0 and budget._pump is None

def runs(budget):
    for i in range(3):
        ends_with_waiters(budget, cancel_pump=bool(i % 2))

shared = RequestBudget()
runs(shared)
threads = [threading.Thread(target=runs, args=(RequestBudget(),)) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(60)
assert not any(thread.is_alive() for thread in threads)
print("clean")
"""


def test_loops_ending_with_queued_waiters_leave_nothing_and_log_nothing() -> None:
    """asyncio.run ending while requests wait (after a tight loop of outside cancels of
    the pump, which the budget restarts each time), three runs on one budget, then three
    in each of four threads: no "Task was destroyed but it is pending", no exception
    logged, no hang, and each budget idle afterwards."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONASYNCIODEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _SHUTDOWN_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"
    assert "destroyed" not in done.stderr and "exception" not in done.stderr.lower(), done.stderr
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_loop_closed_with_requests_queued_does_not_break_the_next_loop() -> None:
    """A loop closed without cancelling its tasks (``run_until_complete`` then ``close``,
    as a test runner with a loop per test may do) left its queued waiters and the place
    one of them was granted at the close in the budget: the next loop's first request
    failed with "Event loop is closed" (granting a dead loop's future) and the budget
    counted a place out for good."""
    budget = RequestBudget()
    spent = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}

    async def one() -> None:
        async with budget.slot():
            await asyncio.sleep(0)

    async def first() -> None:
        async with budget.slot():
            pass
        budget.observe(spent)
        for _ in range(3):
            asyncio.get_running_loop().create_task(one())
        for _ in range(5):
            await asyncio.sleep(0)
        assert budget.waiting == 3

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(first())
    finally:
        loop.close()  # its three waiting tasks and the pump are never run again

    async def second() -> tuple[int, int]:
        budget.observe(
            {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "100", "X-RateLimit-Reset": "10"}
        )
        async with budget.slot():
            gc.collect()  # the first loop's waiters closed: their ends change nothing here
            inside = budget.in_flight, budget.waiting
        return inside

    assert asyncio.run(asyncio.wait_for(second(), GUARD)) == (1, 0)
    assert budget.in_flight == 0 and budget.waiting == 0 and budget._pump is None

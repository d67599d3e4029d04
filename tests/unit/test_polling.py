"""Pure interval/pacing decisions and the poll loops, on a fake clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import Any

import attrs
import pytest

from pixop_async.errors import OperationFailedError, PollTimeoutError
from pixop_async.polling import (
    PROBE_RECHECK_SECONDS,
    RESET_MARGIN_SECONDS,
    PollBudget,
    PollFailure,
    PollIntervals,
    next_interval,
    pacing_delay,
    reserve_for,
    wait,
    watch,
)
from pixop_async.ratelimit import RateLimit


class FakeTime:
    """Virtual time: sleeps resolve in wake-time order once every task is blocked."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._waiters, (self.now + seconds, self._seq, fut))
        await fut

    async def run(self, coro: Any) -> Any:
        task = asyncio.ensure_future(coro)
        while not task.done():
            for _ in range(10):
                await asyncio.sleep(0)
            if task.done() or not self._waiters:
                continue
            when, _, fut = heapq.heappop(self._waiters)
            if fut.done():  # a sleeper that was cancelled (a poll scheduler's pump restarting)
                continue
            self.now = max(self.now, when)
            fut.set_result(None)
        return task.result()


@attrs.frozen
class Job:
    status: str
    progress: float


def scripted(states: list[Job]):
    calls = {"n": 0}

    async def fetch() -> Job:
        i = min(calls["n"], len(states) - 1)
        calls["n"] += 1
        return states[i]

    return fetch, calls


def done(job: Job) -> bool:
    return job.status in ("DONE", "FAILED")


def failed(job: Job) -> PollFailure | None:
    return PollFailure("it broke", error_code="BROKEN") if job.status == "FAILED" else None


# --------------------------------------------------------------------------- next_interval


def test_interval_resets_to_minimum_on_movement() -> None:
    iv = PollIntervals(minimum=1, maximum=10, growth=2)
    assert next_interval(8, True, iv) == 1


def test_interval_grows_while_idle_and_is_capped() -> None:
    iv = PollIntervals(minimum=1, maximum=10, growth=2)
    seq = [1.0]
    for _ in range(6):
        seq.append(next_interval(seq[-1], False, iv))
    assert seq == [1, 2, 4, 8, 10, 10, 10]


def test_interval_never_below_minimum() -> None:
    iv = PollIntervals(minimum=2, maximum=10, growth=1.0)
    assert next_interval(0.1, False, iv) == 2


def test_intervals_validate() -> None:
    with pytest.raises(ValueError):
        PollIntervals(minimum=5, maximum=1)
    with pytest.raises(ValueError):
        PollIntervals(minimum=0)
    with pytest.raises(ValueError):
        PollIntervals(growth=0.5)


# --------------------------------------------------------------------------- pacing_delay


def window(remaining: int, reset: float, *, limit: int = 100, at: float = 0.0) -> RateLimit:
    return RateLimit(limit=limit, remaining=remaining, reset_seconds=reset, observed_at=at)


def test_reserve_is_a_fraction_with_a_floor() -> None:
    assert reserve_for(None) == 1
    assert reserve_for(10) == 1
    assert reserve_for(100) == 5
    assert reserve_for(101) == 6


def test_unknown_window_allows_one_probe_at_a_time() -> None:
    assert pacing_delay(None, now=0, in_flight=0, last_grant=None, reserve=1) == 0
    assert pacing_delay(None, now=0, in_flight=1, last_grant=None, reserve=1) == (
        PROBE_RECHECK_SECONDS
    )


def test_expired_window_counts_as_unknown() -> None:
    rate = window(0, 10, at=0)
    assert pacing_delay(rate, now=10.5, in_flight=0, last_grant=9, reserve=1) == 0
    assert pacing_delay(rate, now=10.5, in_flight=2, last_grant=9, reserve=1) > 0


def test_spreads_remaining_requests_over_the_window() -> None:
    rate = window(remaining=11, reset=50, at=0)
    # 11 remaining - 1 reserve = 10 usable over 50 s → one every 5 s.
    assert pacing_delay(rate, now=0, in_flight=0, last_grant=None, reserve=1) == 0
    # one second later: 49 s left / 10 usable = 4.9 s gap after the grant at t=0
    assert pacing_delay(rate, now=1, in_flight=0, last_grant=0, reserve=1) == pytest.approx(3.9)
    assert pacing_delay(rate, now=10, in_flight=0, last_grant=0, reserve=1) == 0


def test_in_flight_requests_shrink_the_usable_budget() -> None:
    rate = window(remaining=5, reset=30, at=0)
    free = pacing_delay(rate, now=0, in_flight=0, last_grant=0, reserve=1)
    busy = pacing_delay(rate, now=0, in_flight=3, last_grant=0, reserve=1)
    assert busy > free


def test_exhausted_window_waits_for_reset_with_margin() -> None:
    rate = window(remaining=3, reset=20, at=0)
    delay = pacing_delay(rate, now=5, in_flight=2, last_grant=4, reserve=1)
    assert delay == pytest.approx(15 + RESET_MARGIN_SECONDS)


# --------------------------------------------------------------------------- loops


async def test_wait_returns_final_state_and_adapts_interval() -> None:
    t = FakeTime()
    states = [
        Job("RUNNING", 0),
        Job("RUNNING", 0),
        Job("RUNNING", 0),
        Job("RUNNING", 50),
        Job("DONE", 100),
    ]
    fetch, calls = scripted(states)
    iv = PollIntervals(minimum=1, maximum=3, growth=2, jitter=0)
    final = await t.run(
        wait(
            fetch,
            is_terminal=done,
            failure_of=failed,
            progress_of=lambda j: j.progress,
            intervals=iv,
            clock=t.clock,
            sleep=t.sleep,
        )
    )
    assert final == Job("DONE", 100)
    assert calls["n"] == 5
    # first poll moved (min), then idle growth 2, 3 (cap), then movement → min again
    assert t.sleeps == [1, 2, 3, 1]


async def test_wait_raises_operation_failed_with_details() -> None:
    t = FakeTime()
    fetch, _ = scripted([Job("RUNNING", 10), Job("FAILED", 10)])
    with pytest.raises(OperationFailedError) as info:
        await t.run(wait(fetch, is_terminal=done, failure_of=failed, clock=t.clock, sleep=t.sleep))
    assert info.value.error_code == "BROKEN"
    assert info.value.state == Job("FAILED", 10)
    assert "it broke" in str(info.value)


async def test_wait_times_out_with_last_state() -> None:
    t = FakeTime()
    fetch, calls = scripted([Job("RUNNING", 1), Job("RUNNING", 2), Job("RUNNING", 3)])
    with pytest.raises(PollTimeoutError) as info:
        await t.run(
            wait(
                fetch,
                is_terminal=done,
                timeout=2.5,
                intervals=PollIntervals(minimum=1, maximum=1, jitter=0),
                clock=t.clock,
                sleep=t.sleep,
            )
        )
    assert info.value.last_state == Job("RUNNING", 3)
    assert t.now - 1000.0 == pytest.approx(2.5)
    assert calls["n"] == 4  # t=0, 1, 2, 2.5 (a last look at the deadline)


async def test_watch_yields_only_changes_and_ends_on_terminal() -> None:
    t = FakeTime()
    fetch, _ = scripted([Job("QUEUED", 0), Job("QUEUED", 0), Job("RUNNING", 40), Job("FAILED", 40)])

    async def collect() -> list[Job]:
        return [
            s
            async for s in watch(
                fetch,
                is_terminal=done,
                progress_of=lambda j: j.progress,
                clock=t.clock,
                sleep=t.sleep,
            )
        ]

    seen = await t.run(collect())
    assert seen == [Job("QUEUED", 0), Job("RUNNING", 40), Job("FAILED", 40)]


async def test_without_progress_any_change_counts_as_movement() -> None:
    t = FakeTime()
    fetch, _ = scripted([Job("A", 0), Job("A", 0), Job("B", 0), Job("DONE", 0)])
    iv = PollIntervals(minimum=1, maximum=8, growth=2, jitter=0)
    await t.run(wait(fetch, is_terminal=done, intervals=iv, clock=t.clock, sleep=t.sleep))
    assert t.sleeps == [1, 2, 1]


async def test_budget_paces_concurrent_pollers_within_the_window() -> None:
    t = FakeTime()
    # A shared window of 11 requests resetting in 60 s: at most 10 poll requests may go.
    rate = {"value": RateLimit(limit=20, remaining=11, reset_seconds=60, observed_at=t.now)}
    sent: list[float] = []

    async def fetch() -> Job:
        sent.append(t.now)
        current = rate["value"]
        assert current.remaining is not None
        rate["value"] = RateLimit(
            limit=20,
            remaining=current.remaining - 1,
            reset_seconds=max(0.0, 60 - (t.now - 1000.0)),
            observed_at=t.now,
        )
        return Job("RUNNING", 0)

    budget = PollBudget(lambda: rate["value"], clock=t.clock, sleep=t.sleep)

    async def poller() -> None:
        with pytest.raises(PollTimeoutError):
            await wait(
                fetch,
                is_terminal=done,
                timeout=55,
                budget=budget,
                intervals=PollIntervals(minimum=0.1, maximum=0.1),
                clock=t.clock,
                sleep=t.sleep,
            )

    await t.run(asyncio.gather(*(poller() for _ in range(5))))
    assert 8 <= len(sent) <= 10  # the budget is used, never overspent
    assert rate["value"].remaining is not None and rate["value"].remaining >= 1
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert all(g >= 4.9 for g in gaps)  # ~55 s / 10 usable requests → spread, not bursts


async def test_budget_lets_one_probe_out_when_window_unknown() -> None:
    t = FakeTime()
    budget = PollBudget(lambda: None, clock=t.clock, sleep=t.sleep)
    async with budget.slot():
        assert budget.in_flight == 1
        assert budget.delay() == PROBE_RECHECK_SECONDS
    assert budget.in_flight == 0
    assert budget.delay() == 0
    assert budget.granted == 1

"""The shared poll scheduler (issue #16): parked waits are entries of one heap, woken by one
pump task, and cost a handful of GC-tracked objects each."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import pickle
import time
import weakref
from typing import Any

import attrs
import pytest

from pixop_async._poll_scheduler import pack_state, scheduler_for
from pixop_async.budget import RequestBudget
from pixop_async.errors import PollTimeoutError
from pixop_async.polling import PollIntervals, wait, watch
from tests.unit.test_polling import FakeTime, Job, done, scripted

SLOW = PollIntervals(minimum=30, maximum=60, jitter=0)


async def _never_done() -> Job:
    return Job("RUNNING", 0)


def _other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def test_many_parked_waits_share_one_pump_and_leave_nothing_when_cancelled() -> None:
    waits = [
        asyncio.create_task(wait(_never_done, is_terminal=done, intervals=SLOW)) for _ in range(200)
    ]
    await asyncio.sleep(0.05)  # every wait has polled once and parked
    scheduler = scheduler_for(time.monotonic, asyncio.sleep)
    assert scheduler.parked == 200
    assert len(_other_tasks()) == 200 + 1  # the waits and one pump, not a timer each
    for task in waits:
        task.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    await asyncio.sleep(0)
    assert scheduler.parked == 0
    assert _other_tasks() == set()  # the pump is gone at once, not at its next wake-up


async def test_a_parked_wait_costs_few_gc_tracked_objects() -> None:
    count = 500
    warm = asyncio.create_task(wait(_never_done, is_terminal=done, intervals=SLOW))
    await asyncio.sleep(0.01)
    gc.collect()
    before = len(gc.get_objects())
    waits = [
        asyncio.create_task(wait(_never_done, is_terminal=done, intervals=SLOW))
        for _ in range(count)
    ]
    await asyncio.sleep(0.05)
    gc.collect()
    per_wait = (len(gc.get_objects()) - before) / count
    for task in [warm, *waits]:
        task.cancel()
    await asyncio.gather(warm, *waits, return_exceptions=True)
    # the task, its context, asyncio's weak reference to it, the ``wait`` coroutine, the
    # poll loop's generator, one future, the task's wake-up callback on it and the run
    # (16 before the shared scheduler, 11 before the generator-based loop); the fraction
    # over 8 is the test's own list of tasks
    assert per_wait < 8.1, per_wait


async def test_an_idle_resource_watcher_costs_few_gc_tracked_objects() -> None:
    """``px.imports.wait_ingested`` as a service runs 10,000 of them: 34 objects each
    before the shared scheduler and the one Poller, then 20 (9 of them the last state, as
    the emulator answers it here, and the budget's weak reference to the task); 8 now: the
    last state is kept packed and the run keeps the task's budget stamp."""
    from pixop_async import Pixop
    from pixop_async.models.converter import structure
    from pixop_async.models.videos import VideoInStatus

    body = {  # what the emulator answers for an import in progress
        "videoId": "5f0c3e0e-0000-4000-8000-000000000001",
        "upload": {
            "file": {
                "name": "source.mp4",
                "size": 1048576,
                "type": "video/mp4",
                "containerName": "MPEG-4 Part 14",
                "lastModified": "2026-01-02T03:04:05Z",
            },
            "uploadState": {
                "updatedAt": "2026-01-02T03:04:05Z",
                "uploadStatus": "IN_PROGRESS",
                "progressPercentage": 10,
                "error": None,
            },
        },
        "ingestion": None,
    }
    async with Pixop(api_key="k", base_url="http://127.0.0.1:9") as px:

        async def status(video_id: Any) -> VideoInStatus:
            async with px.budget.slot():
                return structure(body, VideoInStatus)

        px.imports.status = status  # type: ignore[method-assign]
        ids = [f"5f0c3e0e-0000-4000-8000-{i:012d}" for i in range(401)]
        warm = asyncio.create_task(px.imports.wait_ingested(ids.pop()))
        await asyncio.sleep(0.05)
        gc.collect()
        before = len(gc.get_objects())
        waits = [asyncio.create_task(px.imports.wait_ingested(vid)) for vid in ids]
        await asyncio.sleep(0.1)
        gc.collect()
        per_wait = (len(gc.get_objects()) - before) / len(ids)
        for task in [warm, *waits]:
            task.cancel()
        await asyncio.gather(warm, *waits, return_exceptions=True)
    assert per_wait < 8.1, per_wait


async def test_an_earlier_wait_is_not_held_behind_a_later_one() -> None:
    t = FakeTime()
    polled: dict[str, list[float]] = {"slow": [], "fast": []}

    def fetcher(name: str, finish_after: int) -> Any:
        async def fetch() -> Job:
            polled[name].append(t.now - 1000.0)
            return Job("DONE" if len(polled[name]) > finish_after else "RUNNING", 0)

        return fetch

    async def both() -> None:
        slow = asyncio.ensure_future(
            wait(
                fetcher("slow", 1),
                is_terminal=done,
                intervals=PollIntervals(minimum=10, maximum=10, jitter=0),
                clock=t.clock,
                sleep=t.sleep,
            )
        )
        for _ in range(5):
            await asyncio.sleep(0)  # the slow wait has parked until t=10
        await wait(
            fetcher("fast", 2),
            is_terminal=done,
            intervals=PollIntervals(minimum=1, maximum=1, jitter=0),
            clock=t.clock,
            sleep=t.sleep,
        )
        await slow

    await t.run(both())
    assert polled["fast"] == [0.0, 1.0, 2.0]
    assert polled["slow"] == [0.0, 10.0]


async def test_watchers_with_different_intervals_poll_on_their_own_schedule() -> None:
    t = FakeTime()
    seen: dict[float, list[float]] = {}

    async def follow(interval: float) -> None:
        calls = {"n": 0}

        async def fetch() -> Job:
            calls["n"] += 1
            seen.setdefault(interval, []).append(t.now - 1000.0)
            return Job("DONE" if calls["n"] == 4 else "RUNNING", calls["n"])

        iv = PollIntervals(minimum=interval, maximum=interval, jitter=0)
        states = [
            s
            async for s in watch(
                fetch, is_terminal=done, intervals=iv, clock=t.clock, sleep=t.sleep
            )
        ]
        assert [s.progress for s in states] == [1, 2, 3, 4]

    await t.run(asyncio.gather(follow(1.5), follow(2), follow(5)))
    assert seen == {
        1.5: [0.0, 1.5, 3.0, 4.5],
        2: [0.0, 2.0, 4.0, 6.0],
        5: [0.0, 5.0, 10.0, 15.0],
    }


async def test_a_failing_poll_reaches_the_waiter_and_unparks_it() -> None:
    calls = {"n": 0}

    async def fetch() -> Job:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("server went away")
        return Job("RUNNING", 0)

    with pytest.raises(RuntimeError, match="server went away"):
        await wait(fetch, is_terminal=done, intervals=PollIntervals(minimum=0.01, maximum=0.01))
    assert scheduler_for(time.monotonic, asyncio.sleep).parked == 0


def test_a_finished_event_loop_is_not_kept_alive_by_its_scheduler() -> None:
    async def main() -> weakref.ref[asyncio.AbstractEventLoop]:
        fetch = scripted([Job("RUNNING", 0), Job("DONE", 1)])[0]
        await wait(fetch, is_terminal=done, intervals=PollIntervals(0.01, 0.01, jitter=0))
        asyncio.get_running_loop().create_task(wait(_never_done, is_terminal=done, intervals=SLOW))
        await asyncio.sleep(0.01)  # parked; asyncio.run cancels it on the way out
        return weakref.ref(asyncio.get_running_loop())

    for _ in range(2):
        loop = asyncio.run(main())
        gc.collect()
        assert loop() is None


@attrs.frozen
class _WithCallback:
    status: str
    hook: Any  # a lambda: cannot be pickled


class _ByIdentity:
    status = "RUNNING"  # equality by identity: a decoded copy would never equal it


def test_a_model_state_is_kept_packed_and_odd_states_as_they_are() -> None:
    blob = pack_state(Job("RUNNING", 3))
    assert isinstance(blob, bytes) and not gc.is_tracked(blob)
    assert pickle.loads(blob) == Job("RUNNING", 3)
    assert pack_state("RUNNING") is None  # an atom: nothing to save
    assert pack_state(_WithCallback("RUNNING", lambda: None)) is None
    assert pack_state(_ByIdentity()) is None


async def test_a_timeout_reports_an_equal_copy_of_a_packed_state_and_an_odd_one_itself() -> None:
    t = FakeTime()
    odd = _WithCallback("RUNNING", lambda: None)
    for state, same in ((Job("RUNNING", 7), False), (odd, True)):

        async def fetch(state: Any = state) -> Any:
            return state

        with pytest.raises(PollTimeoutError) as info:
            await t.run(
                wait(
                    fetch,
                    is_terminal=done,
                    timeout=2.5,
                    intervals=PollIntervals(1, 1, jitter=0),
                    clock=t.clock,
                    sleep=t.sleep,
                )
            )
        assert info.value.last_state == state
        assert (info.value.last_state is state) is same


async def test_watch_yields_changes_only_whether_states_are_packed_or_not() -> None:
    t = FakeTime()
    hook = lambda: None  # noqa: E731 - one shared unpicklable field
    script = ["RUNNING", "RUNNING", "MOVING", "MOVING", "DONE"]
    for make in (lambda s: Job(s, 0), lambda s: _WithCallback(s, hook)):
        fetch, _ = scripted([make(s) for s in script])
        states = await t.run(
            _collect(
                watch(
                    fetch,
                    is_terminal=done,
                    intervals=PollIntervals(1, 1, jitter=0),
                    clock=t.clock,
                    sleep=t.sleep,
                )
            )
        )
        assert [s.status for s in states] == ["RUNNING", "MOVING", "DONE"]


async def _collect(states: Any) -> list[Any]:
    return [s async for s in states]


async def test_a_parked_wait_holds_no_budget_entry_and_its_task_keeps_its_first_stamp() -> None:
    """The budget's order (oldest task first) is unchanged: the run queues its polls by the
    stamp of its first one and the task takes that stamp when the wait ends; while parked
    the budget keeps no weak reference to the task."""
    t = FakeTime()
    budget = RequestBudget(clock=t.clock, sleep=t.sleep)
    entries_while_parked: list[int] = []
    calls = {"n": 0}

    async def fetch() -> Job:
        calls["n"] += 1
        if calls["n"] > 1:
            entries_while_parked.append(len(budget._task_stamps))
        return Job("DONE" if calls["n"] == 3 else "RUNNING", calls["n"])

    async def one_pipeline() -> float:
        await t.sleep(5)  # the task's first request is the wait's first poll, at t=5
        await wait(
            fetch,
            is_terminal=done,
            budget=budget,
            intervals=PollIntervals(1, 1, jitter=0),
            clock=t.clock,
            sleep=t.sleep,
        )
        assert t.now - 1000.0 == 7.0
        stamp, own = budget.stamp_of_caller()
        assert own
        return stamp - 1000.0

    assert await t.run(one_pipeline()) == 5.0
    assert entries_while_parked == [0, 0]


_marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="caller")


async def test_a_poll_runs_in_a_copy_of_the_waiting_tasks_context() -> None:
    """As if each poll ran in a task of its own: what it sets does not stay behind in the
    waiting task's context (which parked watchers would each hold a private copy of)."""
    seen: list[str] = []

    async def fetch() -> Job:
        seen.append(_marker.get())
        _marker.set("poll")
        return Job("DONE" if len(seen) == 2 else "RUNNING", 0)

    _marker.set("waiter")
    await wait(fetch, is_terminal=done, intervals=PollIntervals(0.01, 0.01, jitter=0))
    assert seen == ["waiter", "waiter"]
    assert _marker.get() == "waiter"


def _exhausted(budget: RequestBudget) -> None:
    """The window says nothing is left for a minute: every request queues."""
    budget.observe(
        {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}
    )


async def test_a_poll_queued_in_the_budget_costs_one_heap_entry_more_than_a_parked_one() -> None:
    budget = RequestBudget()
    fetch = scripted([Job("RUNNING", 0)])[0]
    count = 400
    warm = asyncio.create_task(wait(fetch, is_terminal=done, budget=budget, intervals=SLOW))
    await asyncio.sleep(0.01)
    _exhausted(budget)
    gc.collect()
    before = len(gc.get_objects())
    waits = [
        asyncio.create_task(wait(fetch, is_terminal=done, budget=budget, intervals=SLOW))
        for _ in range(count)
    ]
    await asyncio.sleep(0.05)
    gc.collect()
    per_wait = (len(gc.get_objects()) - before) / count
    assert budget.waiting == count
    for task in [warm, *waits]:
        task.cancel()
    await asyncio.gather(warm, *waits, return_exceptions=True)
    assert budget.waiting == 0 and budget.in_flight == 0
    # a parked wait's 8 and the budget's heap entry (26 when the poll queued as a chain
    # of coroutines and context managers inside its context copy)
    assert per_wait < 9.1, per_wait


async def test_a_wait_whose_turn_comes_after_its_deadline_times_out_with_its_last_state() -> None:
    t = FakeTime()
    budget = RequestBudget(clock=t.clock, sleep=t.sleep)
    calls = {"n": 0}

    async def fetch() -> Job:
        calls["n"] += 1
        _exhausted(budget)  # the first poll's response: nothing left for 60 s
        return Job("RUNNING", calls["n"])

    with pytest.raises(PollTimeoutError) as info:
        await t.run(
            wait(
                fetch,
                is_terminal=done,
                timeout=10,
                budget=budget,
                intervals=PollIntervals(1, 1, jitter=0),
                clock=t.clock,
                sleep=t.sleep,
            )
        )
    assert info.value.last_state == Job("RUNNING", 1)
    assert calls["n"] == 1
    assert t.now - 1000.0 < 10  # told at once, not at the deadline
    assert budget.waiting == 0 and budget.in_flight == 0


async def test_a_wait_cancelled_while_granted_gives_its_place_back() -> None:
    budget = RequestBudget(max_in_flight=1)
    fetch = scripted([Job("RUNNING", 0)])[0]
    place = asyncio.Event()

    async def holder() -> None:
        async with budget.slot():
            place.set()
            await asyncio.sleep(3600)

    held = asyncio.create_task(holder())
    await place.wait()
    waiting = asyncio.create_task(wait(fetch, is_terminal=done, budget=budget, intervals=SLOW))
    await asyncio.sleep(0.01)
    assert budget.waiting == 1
    held.cancel()  # the place passes to the queued poll ...
    await asyncio.sleep(0)
    waiting.cancel()  # ... whose task is cancelled before it runs
    await asyncio.gather(held, waiting, return_exceptions=True)
    assert budget.waiting == 0 and budget.in_flight == 0

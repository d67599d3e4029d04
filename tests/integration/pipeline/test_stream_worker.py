"""StreamWorker against a real redis-server: ack after success, retries, dead letters,
takeover of idle messages, heartbeats for slow handlers, bounded concurrency, shutdown."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pixop_async.pipeline import StreamMessage, StreamWorker, WorkerSettings

FAST = {"block": 0.05, "backoff_base": 0.01, "backoff_cap": 0.05}


@contextlib.asynccontextmanager
async def running(worker: StreamWorker) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def pending(redis: Any, stream: str, group: str) -> int:
    info = await redis.xpending(stream, group)
    return int(info["pending"])


async def test_acks_after_success_retries_failures_and_dead_letters(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    calls: collections.Counter[str] = collections.Counter()
    deliveries: dict[str, list[int]] = collections.defaultdict(list)
    dead: list[tuple[str, str]] = []

    async def handler(message: StreamMessage) -> None:
        name = message.fields["name"]
        calls[name] += 1
        deliveries[name].append(message.deliveries)
        if name == "flaky" and calls[name] < 3:
            raise RuntimeError("not yet")
        if name == "broken":
            raise ValueError("always broken")

    async def on_dead(message: StreamMessage, reason: str) -> None:
        dead.append((message.fields["name"], reason))

    for name in ("ok", "flaky", "broken"):
        await redis.xadd(stream, {"name": name})
    settings = WorkerSettings(max_deliveries=3, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", handler, settings=settings, on_dead=on_dead)
    async with running(worker):
        await until(lambda: _true(worker.stats["handled"] == 2 and worker.stats["dead"] == 1))
    assert calls == {"ok": 1, "flaky": 3, "broken": 3}
    assert deliveries["flaky"] == [1, 2, 3]  # each retry is a counted delivery
    assert await pending(redis, stream, "g") == 0  # everything acknowledged
    letters = await redis.xrange(f"{stream}:dead")
    assert len(letters) == 1
    fields = letters[0][1]
    assert fields["name"] == "broken" and fields["dead.deliveries"] == "3"
    assert "ValueError: always broken" in fields["dead.error"]
    assert dead == [("broken", "ValueError: always broken")]


async def _true(value: bool) -> bool:
    return value


async def test_a_dead_consumers_message_is_taken_over_after_the_idle_timeout(
    redis: Any, ns: str
) -> None:
    stream = f"{ns}:s"
    worker_probe = StreamWorker(redis, stream, "g", _never)
    await worker_probe.ensure_group()
    await redis.xadd(stream, {"n": "1"})
    # A consumer that read the message and died without acknowledging it.
    got = await redis.xreadgroup("g", "dead-one", {stream: ">"}, count=1)
    assert len(got[0][1]) == 1
    seen: list[StreamMessage] = []

    async def handler(message: StreamMessage) -> None:
        seen.append(message)

    settings = WorkerSettings(idle_timeout=0.3, claim_interval=0.05, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", handler, consumer="alive", settings=settings)
    async with running(worker):
        await until(lambda: _true(len(seen) == 1))
        await until(lambda: _pending_is(redis, stream, 0))
    assert seen[0].deliveries == 2 and seen[0].fields == {"n": "1"}
    assert worker.stats["claimed"] == 1


async def _pending_is(redis: Any, stream: str, value: int) -> bool:
    return await pending(redis, stream, "g") == value


async def _never(message: StreamMessage) -> None:
    raise AssertionError("not called")


async def test_a_slow_handler_keeps_its_message_through_heartbeats(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    started: collections.Counter[str] = collections.Counter()
    release = asyncio.Event()

    async def slow(message: StreamMessage) -> None:
        started[message.id] += 1
        await release.wait()

    # the idle timeout leaves room for a loaded machine's scheduling hiccups
    settings = WorkerSettings(idle_timeout=1.5, claim_interval=0.05, **FAST)  # type: ignore[arg-type]
    first = StreamWorker(redis, stream, "g", slow, consumer="first", settings=settings)
    await first.ensure_group()
    entry = await redis.xadd(stream, {"n": "1"})
    async with running(first):
        await until(lambda: _true(started[entry] == 1))
        second = StreamWorker(redis, stream, "g", slow, consumer="second", settings=settings)
        async with running(second):
            # several idle timeouts pass while the handler runs: nobody takes it over
            for _ in range(3):
                await asyncio.sleep(settings.idle_timeout)
                rows = await redis.xpending_range(stream, "g", min="-", max="+", count=10)
                assert [r["consumer"] for r in rows] == ["first"]
            release.set()
            await until(lambda: _pending_is(redis, stream, 0))
    assert started == {entry: 1}
    assert second.stats["claimed"] == 0 and first.stats["lost"] == 0


async def test_concurrency_is_bounded(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    active = 0
    peak = 0
    done = 0

    async def handler(message: StreamMessage) -> None:
        nonlocal active, peak, done
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        done += 1

    for i in range(30):
        await redis.xadd(stream, {"i": str(i)})
    settings = WorkerSettings(concurrency=3, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", handler, settings=settings)
    async with running(worker):
        await until(lambda: _true(done == 30))
    assert peak == 3


async def test_stop_releases_unfinished_messages_for_other_workers_at_once(
    redis: Any, ns: str
) -> None:
    stream = f"{ns}:s"
    began = asyncio.Event()
    finished: list[str] = []

    async def stuck(message: StreamMessage) -> None:
        began.set()
        await asyncio.Event().wait()

    async def quick(message: StreamMessage) -> None:
        finished.append(message.id)

    # A long idle timeout: only the release makes the message claimable this soon.
    settings = WorkerSettings(idle_timeout=60, claim_interval=0.05, shutdown_grace=0.1, **FAST)  # type: ignore[arg-type]
    leaving = StreamWorker(redis, stream, "g", stuck, consumer="leaving", settings=settings)
    await leaving.ensure_group()
    entry = await redis.xadd(stream, {"n": "1"})
    task = asyncio.create_task(leaving.run())
    await asyncio.wait_for(began.wait(), 10)
    leaving.stop()
    await asyncio.wait_for(task, 10)
    assert leaving.stats["released"] == 1
    staying = StreamWorker(redis, stream, "g", quick, consumer="staying", settings=settings)
    async with running(staying):
        await until(lambda: _true(finished == [entry]))
    assert await pending(redis, stream, "g") == 0


async def test_stop_lets_in_flight_work_finish_within_the_grace(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    began = asyncio.Event()
    finished: list[str] = []

    async def short(message: StreamMessage) -> None:
        began.set()
        await asyncio.sleep(0.2)
        finished.append(message.id)

    settings = WorkerSettings(shutdown_grace=10, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", short, settings=settings)
    await worker.ensure_group()
    entry = await redis.xadd(stream, {"n": "1"})
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(began.wait(), 10)
    worker.stop()
    await asyncio.wait_for(task, 10)
    assert finished == [entry]
    assert await pending(redis, stream, "g") == 0 and worker.stats["released"] == 0


async def test_unreadable_entries_go_to_dead_letters(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    worker = StreamWorker(redis, stream, "g", _never, settings=WorkerSettings(**FAST))  # type: ignore[arg-type]
    await worker.ensure_group()
    # a handler that reads fields as text would choke on nothing here; a non-mapping
    # entry cannot be written through XADD, so feed one through the internal entry point
    async with running(worker):
        worker._start("1-1", ["not", "a", "mapping"], 1)
        await until(lambda: _true(worker.stats["dead"] == 1))
    letters = await redis.xrange(f"{stream}:dead")
    assert "unreadable entry" in letters[0][1]["dead.error"]


async def test_a_worker_notices_when_its_message_was_taken_over(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    release = asyncio.Event()
    began = asyncio.Event()

    async def slow(message: StreamMessage) -> None:
        began.set()
        await release.wait()

    settings = WorkerSettings(idle_timeout=0.3, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", slow, consumer="slowpoke", settings=settings)
    await worker.ensure_group()
    entry = await redis.xadd(stream, {"n": "1"})
    async with running(worker):
        await asyncio.wait_for(began.wait(), 10)
        # another worker presumed this one dead and took the message
        await redis.xclaim(stream, "g", "thief", 0, [entry])
        await until(lambda: _true(worker.stats["lost"] >= 1))
        rows = await redis.xpending_range(stream, "g", min="-", max="+", count=10)
        assert [r["consumer"] for r in rows] == ["thief"]  # the heartbeat did not steal it back
        release.set()
    assert worker.stats["handled"] == 1

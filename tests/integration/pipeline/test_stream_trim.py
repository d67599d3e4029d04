"""Safe trimming of a stream against a real redis-server: only entries every consumer group
has been delivered and has acknowledged are removed; pending and undelivered ones survive, a
crashed consumer's message is still taken over after trimming. And permanent handler errors
go to the dead-letter stream at once."""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable
from typing import Any

from pixop_async.errors import InvalidRequestError, NotFoundError, ServerError
from pixop_async.pipeline import (
    PermanentError,
    StreamMessage,
    StreamWorker,
    WorkerSettings,
    trim_acknowledged,
)
from pixop_async.pipeline.trim import TRIM_SCRIPT

from .test_stream_worker import FAST, running, until


async def exact_trim(redis: Any, stream: str) -> Any:
    return await trim_acknowledged(redis.register_script(TRIM_SCRIPT), stream, approximate=False)


async def ids_of(redis: Any, stream: str) -> list[str]:
    return [str(entry_id) for entry_id, _fields in await redis.xrange(stream)]


async def fill(redis: Any, stream: str, count: int, groups: tuple[str, ...]) -> list[str]:
    for group in groups:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    return [str(await redis.xadd(stream, {"n": str(n)})) for n in range(count)]


async def read_and_ack(redis: Any, stream: str, group: str, count: int) -> list[str]:
    reply = await redis.xreadgroup(group, "c", {stream: ">"}, count=count)
    ids = [str(entry_id) for _s, entries in reply for entry_id, _f in entries]
    if ids:
        await redis.xack(stream, group, *ids)
    return ids


async def test_entries_acknowledged_by_every_group_are_trimmed(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    ids = await fill(redis, stream, 10, ("a", "b"))
    assert await read_and_ack(redis, stream, "a", 10) == ids
    assert await read_and_ack(redis, stream, "b", 10) == ids
    result = await exact_trim(redis, stream)
    assert result.removed == 10 and await redis.xlen(stream) == 0
    # the groups carry on with what is added later
    later = await redis.xadd(stream, {"n": "10"})
    assert await read_and_ack(redis, stream, "a", 10) == [str(later)]


async def test_an_entry_pending_in_one_group_survives(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    ids = await fill(redis, stream, 6, ("a", "b"))
    assert await read_and_ack(redis, stream, "b", 6) == ids
    reply = await redis.xreadgroup("a", "crashed", {stream: ">"}, count=6)
    assert len(reply[0][1]) == 6
    await redis.xack(stream, "a", ids[0], ids[1], ids[3], ids[4], ids[5])  # ids[2] stays pending
    result = await exact_trim(redis, stream)
    assert result.floor == ids[2]
    assert await ids_of(redis, stream) == ids[2:]
    assert (await redis.xpending(stream, "a"))["pending"] == 1


async def test_an_entry_not_yet_delivered_to_a_second_group_survives(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    ids = await fill(redis, stream, 6, ("a", "b"))
    assert await read_and_ack(redis, stream, "a", 6) == ids
    assert await read_and_ack(redis, stream, "b", 2) == ids[:2]
    await exact_trim(redis, stream)
    assert await ids_of(redis, stream) == ids[2:]
    assert await read_and_ack(redis, stream, "b", 10) == ids[2:]  # nothing lost for b


async def test_no_group_no_trim_and_ids_compare_as_numbers(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    await redis.xadd(stream, {"n": "0"}, id="9-5")
    result = await exact_trim(redis, stream)
    assert result.floor is None and await redis.xlen(stream) == 1  # nobody said what it needs
    assert (await exact_trim(redis, f"{ns}:absent")).floor is None
    # 10-0 > 9-5 and 100-0 > 99-99 although they sort lower as text
    for entry_id in ("10-0", "99-99", "100-0"):
        await redis.xadd(stream, {"n": entry_id}, id=entry_id)
    await redis.xgroup_create(stream, "a", id="0")
    await redis.xreadgroup("a", "c", {stream: ">"}, count=3)  # 9-5, 10-0, 99-99 pending
    await redis.xack(stream, "a", "9-5")
    result = await exact_trim(redis, stream)
    assert result.floor == "10-0"
    assert await ids_of(redis, stream) == ["10-0", "99-99", "100-0"]
    await redis.xack(stream, "a", "10-0", "99-99")
    result = await exact_trim(redis, stream)
    assert result.floor == "99-100"  # just after the last delivered: 100-0 is undelivered
    assert await ids_of(redis, stream) == ["100-0"]


async def test_workers_trim_what_both_groups_finished(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    seen: dict[str, list[str]] = collections.defaultdict(list)

    def handler(group: str) -> Callable[[StreamMessage], Awaitable[None]]:
        async def handle(message: StreamMessage) -> None:
            seen[group].append(message.fields["n"])

        return handle

    # every 7th acknowledgement, and the last few (20 = 2 * 7 + 6) within 0.2 s
    settings = WorkerSettings(  # type: ignore[arg-type]
        trim_every=7, trim_interval=0.2, trim_approximate=False, **FAST
    )
    workers = [
        StreamWorker(redis, stream, group, handler(group), settings=settings)
        for group in ("a", "b")
    ]
    for worker in workers:
        await worker.ensure_group()
    for n in range(20):
        await redis.xadd(stream, {"n": str(n)})
    async with running(workers[0]), running(workers[1]):
        await until(lambda: _true(all(len(seen[g]) == 20 for g in ("a", "b"))))
        await until(lambda: _xlen_is(redis, stream, 0))
    assert sorted(seen["a"], key=int) == [str(n) for n in range(20)]
    assert sorted(seen["b"], key=int) == [str(n) for n in range(20)]
    assert sum(w.stats["trims"] for w in workers) >= 1
    assert sum(w.stats["trimmed_entries"] for w in workers) == 20


async def test_trimming_is_off_when_asked(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    handled: list[str] = []

    async def handle(message: StreamMessage) -> None:
        handled.append(message.id)

    settings = WorkerSettings(trim=False, trim_every=1, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "a", handle, settings=settings)
    await worker.ensure_group()
    for n in range(5):
        await redis.xadd(stream, {"n": str(n)})
    async with running(worker):
        await until(lambda: _true(len(handled) == 5))
    assert await redis.xlen(stream) == 5 and worker.stats["trims"] == 0


async def test_a_crashed_consumers_message_is_taken_over_after_trimming(
    redis: Any, ns: str
) -> None:
    stream = f"{ns}:s"
    await redis.xgroup_create(stream, "a", id="0", mkstream=True)
    first = str(await redis.xadd(stream, {"n": "crashed-on"}))
    # a consumer took the first entry and died without acknowledging it
    await redis.xreadgroup("a", "dead-worker", {stream: ">"}, count=1)
    for n in range(10):
        await redis.xadd(stream, {"n": str(n)})
    handled: list[tuple[str, str]] = []

    async def handle(message: StreamMessage) -> None:
        handled.append((message.id, message.fields["n"]))

    settings = WorkerSettings(  # type: ignore[arg-type]
        trim_every=1, trim_approximate=False, idle_timeout=0.6, claim_interval=0.1, **FAST
    )
    worker = StreamWorker(redis, stream, "a", handle, settings=settings)
    async with running(worker):
        await until(lambda: _true(len(handled) >= 10))
        await until(lambda: _true(worker.stats["trims"] >= 1))
        # trimmed while the dead consumer's entry was pending: the entry is still there
        assert first in await ids_of(redis, stream)
        await until(lambda: _true((first, "crashed-on") in handled))
        await until(lambda: _xlen_is(redis, stream, 0))
    assert worker.stats["claimed"] == 1 and worker.stats["trimmed"] == 0
    assert (await redis.xpending(stream, "a"))["pending"] == 0


async def test_permanent_errors_are_dead_lettered_at_once(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    calls: collections.Counter[str] = collections.Counter()

    async def handle(message: StreamMessage) -> None:
        name = message.fields["name"]
        calls[name] += 1
        if name == "invalid":
            raise InvalidRequestError("video_id", "must be a UUID")
        if name == "missing":
            raise NotFoundError(404, "Video not found", error_code="NOT_FOUND")
        if name == "told":
            raise PermanentError("the handler knows better")
        if name == "flaky":
            raise ServerError(503, "try later")

    for name in ("invalid", "missing", "told", "flaky"):
        await redis.xadd(stream, {"name": name})
    settings = WorkerSettings(max_deliveries=4, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", handle, settings=settings)
    async with running(worker):
        await until(lambda: _true(worker.stats["dead"] == 4))
    assert calls == {"invalid": 1, "missing": 1, "told": 1, "flaky": 4}
    letters = {f["name"]: f for _id, f in await redis.xrange(f"{stream}:dead")}
    assert letters["invalid"]["dead.deliveries"] == "1"
    assert "InvalidRequestError: video_id: must be a UUID" in letters["invalid"]["dead.error"]
    assert letters["missing"]["dead.deliveries"] == "1"
    assert letters["told"]["dead.deliveries"] == "1"
    assert letters["flaky"]["dead.deliveries"] == "4"  # a 503 is worth retrying
    assert worker.stats["permanent"] == 3


async def _true(value: bool) -> bool:
    return value


async def _xlen_is(redis: Any, stream: str, length: int) -> bool:
    return int(await redis.xlen(stream)) == length

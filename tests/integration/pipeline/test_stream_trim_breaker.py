"""Breaking the trim script (b17c): randomized groups/crashes/acks against a real
redis-server, odd ids, groups created late or deleted, concurrent trimmers. The invariant
checked after every trim: no entry pending in a group, nor after a group's last-delivered
id, has disappeared; at the end every group has acknowledged every entry it should see."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from pixop_async.pipeline import trim_acknowledged
from pixop_async.pipeline.trim import TRIM_SCRIPT


def key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


async def ids_of(redis: Any, stream: str) -> set[str]:
    return {str(i) for i, _f in await redis.xrange(stream)}


async def needed(redis: Any, stream: str) -> dict[str, set[str]]:
    """Per group: the ids it still needs (pending, or after its last-delivered id)."""
    out: dict[str, set[str]] = {}
    present = [str(i) for i, _f in await redis.xrange(stream)]
    for info in await redis.xinfo_groups(stream):
        name = info["name"]
        last = key(str(info["last-delivered-id"]))
        pending = {
            str(row["message_id"])
            for row in await redis.xpending_range(stream, name, "-", "+", 1_000_000)
        }
        out[name] = pending | {i for i in present if key(i) > last}
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
async def test_randomized_groups_crashes_and_acks_lose_nothing(
    redis: Any, ns: str, seed: int
) -> None:
    rng = random.Random(seed)
    stream = f"{ns}:s"
    script = redis.register_script(TRIM_SCRIPT)
    groups = ("g0", "g1", "g2")
    acked: dict[str, set[str]] = {g: set() for g in groups}
    added: list[str] = []
    # explicit ids now and then: same ms, large sequences, jumps
    ms = 1_000
    for group in groups:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    for _step in range(400):
        action = rng.random()
        if action < 0.35:
            kind = rng.random()
            if kind < 0.3:
                ms += rng.choice((0, 1, 10, 1000))
                seq = rng.choice((0, 9, 10, 99, 100, 2**53 + 1, 99999999999999, 10**15))
                last = added[-1] if added else "0-0"
                if (ms, seq) <= key(last):
                    ms, seq = key(last)[0] + 1, seq
                entry_id = str(await redis.xadd(stream, {"n": "x"}, id=f"{ms}-{seq}"))
            else:
                entry_id = str(await redis.xadd(stream, {"n": "x"}, id=f"{ms}-*"))
            added.append(entry_id)
        elif action < 0.65:
            # a consumer reads; it may crash (no ack) or ack some of what it read
            group = rng.choice(groups)
            consumer = f"c{rng.randrange(3)}"
            reply = await redis.xreadgroup(group, consumer, {stream: ">"}, count=rng.randint(1, 8))
            got = [str(i) for _s, entries in reply for i, _f in entries]
            if rng.random() < 0.7:
                ack = [i for i in got if rng.random() < 0.8]
                if ack:
                    await redis.xack(stream, group, *ack)
                    acked[group].update(ack)
        elif action < 0.8:
            # a live consumer takes over what crashed ones left (XAUTOCLAIM, idle 0)
            group = rng.choice(groups)
            _next, claimed, deleted = await redis.xautoclaim(
                stream, group, "rescuer", 0, "0-0", count=rng.randint(1, 20)
            )
            assert deleted == [], f"trimmed while pending: {deleted}"
            ids = [str(i) for i, _f in claimed]
            ack = [i for i in ids if rng.random() < 0.7]
            if ack:
                await redis.xack(stream, group, *ack)
                acked[group].update(ack)
        else:
            before = await needed(redis, stream)
            await trim_acknowledged(script, stream, approximate=rng.random() < 0.5)
            present = await ids_of(redis, stream)
            for group, ids in before.items():
                assert ids <= present, f"{group} lost {sorted(ids - present, key=key)}"
    # drain: every group reads and acks everything left, pending ones through XAUTOCLAIM
    for group in groups:
        while True:
            _next, claimed, deleted = await redis.xautoclaim(
                stream, group, "end", 0, "0-0", count=100
            )
            assert deleted == []
            ids = [str(i) for i, _f in claimed]
            reply = await redis.xreadgroup(group, "end", {stream: ">"}, count=100)
            ids += [str(i) for _s, entries in reply for i, _f in entries]
            if not ids:
                break
            await redis.xack(stream, group, *ids)
            acked[group].update(ids)
        await trim_acknowledged(script, stream, approximate=False)
    for group in groups:
        assert acked[group] == set(added), group
    await trim_acknowledged(script, stream, approximate=False)
    assert await redis.xlen(stream) == 0


async def test_sequence_just_below_a_power_of_ten(redis: Any, ns: str) -> None:
    # 99999999999999 + 1 printed by Lua's %.14g is "1e+14": not a stream id
    stream = f"{ns}:s"
    await redis.xadd(stream, {"n": "a"}, id="5-99999999999999")
    await redis.xadd(stream, {"n": "b"}, id="5-100000000000000")
    await redis.xgroup_create(stream, "g", id="0")
    await redis.xreadgroup("g", "c", {stream: ">"}, count=1)
    await redis.xack(stream, "g", "5-99999999999999")
    script = redis.register_script(TRIM_SCRIPT)
    result = await trim_acknowledged(script, stream, approximate=False)
    assert result.floor == "5-100000000000000" and result.removed == 1
    assert await ids_of(redis, stream) == {"5-100000000000000"}


@pytest.mark.parametrize(
    ("delivered", "floor"),
    [
        ("5-18446744073709551615", "6-0"),  # the largest sequence: the next ms
        ("5-9007199254740993", "5-9007199254740994"),  # beyond a double's precision
        ("5-999999999999999999", "5-1000000000000000000"),
    ],
)
async def test_the_id_after_any_sequence(redis: Any, ns: str, delivered: str, floor: str) -> None:
    stream = f"{ns}:s"
    await redis.xadd(stream, {"n": "a"}, id=delivered)
    await redis.xadd(stream, {"n": "b"}, id="7-0")
    await redis.xgroup_create(stream, "g", id="0")
    await redis.xreadgroup("g", "c", {stream: ">"}, count=1)
    await redis.xack(stream, "g", delivered)
    script = redis.register_script(TRIM_SCRIPT)
    result = await trim_acknowledged(script, stream, approximate=False)
    assert result.floor == floor and result.removed == 1
    assert await ids_of(redis, stream) == {"7-0"}


async def test_groups_created_late_with_0_and_dollar(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    script = redis.register_script(TRIM_SCRIPT)
    early = [str(await redis.xadd(stream, {"n": str(n)})) for n in range(5)]
    await redis.xgroup_create(stream, "late", id="$")  # does not want the first five
    result = await trim_acknowledged(script, stream, approximate=False)
    assert result.removed == 5 and await redis.xlen(stream) == 0
    more = [str(await redis.xadd(stream, {"n": str(n)})) for n in range(5)]
    await redis.xgroup_create(stream, "zero", id="0")  # wants everything still there
    await redis.xreadgroup("late", "c", {stream: ">"})
    await redis.xack(stream, "late", *more)
    assert (await trim_acknowledged(script, stream, approximate=False)).removed == 0
    reply = await redis.xreadgroup("zero", "c", {stream: ">"})
    assert [str(i) for _s, e in reply for i, _f in e] == more
    assert early  # gone, but nobody wanted them


async def test_deleted_group_and_recreated_stream(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    script = redis.register_script(TRIM_SCRIPT)
    await redis.xgroup_create(stream, "keep", id="0", mkstream=True)
    await redis.xgroup_create(stream, "gone", id="0")
    ids = [str(await redis.xadd(stream, {"n": str(n)})) for n in range(6)]
    await redis.xreadgroup("keep", "c", {stream: ">"})
    await redis.xack(stream, "keep", *ids)
    assert (await trim_acknowledged(script, stream, approximate=False)).removed == 0
    await redis.xgroup_destroy(stream, "gone")
    assert (await trim_acknowledged(script, stream, approximate=False)).removed == 6
    # the stream deleted and recreated (ids restart): no group, nothing trimmed
    await redis.delete(stream)
    await redis.xadd(stream, {"n": "new"}, id="1-1")
    assert (await trim_acknowledged(script, stream, approximate=False)).floor is None
    await redis.xgroup_create(stream, "keep", id="0")
    assert (await trim_acknowledged(script, stream, approximate=False)).removed == 0
    assert await redis.xlen(stream) == 1


async def test_concurrent_trimmers_of_different_groups(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    await redis.xgroup_create(stream, "a", id="0", mkstream=True)
    await redis.xgroup_create(stream, "b", id="0")
    ids = [str(await redis.xadd(stream, {"n": str(n)})) for n in range(300)]
    scripts = [redis.register_script(TRIM_SCRIPT) for _ in range(2)]

    async def consume(group: str, script: Any) -> None:
        for start in range(0, 300, 7):
            reply = await redis.xreadgroup(group, "c", {stream: ">"}, count=7)
            got = [str(i) for _s, e in reply for i, _f in e]
            assert got == ids[start : start + 7]  # nothing undelivered vanished
            await redis.xack(stream, group, *got)
            await trim_acknowledged(script, stream, approximate=start % 2 == 0)

    await asyncio.gather(consume("a", scripts[0]), consume("b", scripts[1]))
    await trim_acknowledged(scripts[0], stream, approximate=False)
    assert await redis.xlen(stream) == 0


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_randomized_workers_with_crashes_every_group_handles_everything(
    redis: Any, ns: str, seed: int
) -> None:
    """Real workers, trimming after every ack, three groups, handlers failing at random
    and consumers that read and die: every entry is handled by every group, and no
    takeover ever finds its entry trimmed."""
    from pixop_async.pipeline import StreamMessage, StreamWorker, WorkerSettings

    rng = random.Random(seed)
    stream = f"{ns}:s"
    groups = ("g0", "g1", "g2")
    handled: dict[str, set[str]] = {g: set() for g in groups}

    def handler(group: str) -> Any:
        async def handle(message: StreamMessage) -> None:
            if rng.random() < 0.2:
                raise RuntimeError("flaky")
            handled[group].add(message.fields["n"])

        return handle

    settings = WorkerSettings(
        trim_every=1,
        trim_interval=0.05,
        trim_approximate=bool(seed % 2),
        idle_timeout=0.3,
        claim_interval=0.05,
        max_deliveries=1000,
        block=0.05,
        backoff_base=0.001,
        backoff_cap=0.01,
    )
    workers = [
        StreamWorker(redis, stream, g, handler(g), settings=settings, consumer=f"w-{g}")
        for g in groups
    ]
    for worker in workers:
        await worker.ensure_group()
    total = 300
    dead_took = 0  # entries the dead consumers took (the workers may have been first)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        for n in range(total):
            await redis.xadd(stream, {"n": str(n)})
            if rng.random() < 0.1:
                # a consumer that reads a few and dies without acknowledging
                group = rng.choice(groups)
                reply = await redis.xreadgroup(
                    group, f"dead-{n}", {stream: ">"}, count=rng.randint(1, 5)
                )
                dead_took += sum(len(entries) for _s, entries in reply)
        deadline = asyncio.get_running_loop().time() + 60
        while not all(len(handled[g]) == total for g in groups):
            assert asyncio.get_running_loop().time() < deadline, {
                g: total - len(handled[g]) for g in groups
            }
            await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
    for worker in workers:
        assert worker.stats["trimmed"] == 0 and worker.stats["dead"] == 0, worker.stats
    # what the dead consumers took was taken over (each at least once)
    assert sum(w.stats["claimed"] for w in workers) >= dead_took
    assert sum(w.stats["trims"] for w in workers) > 0
    await trim_acknowledged(redis.register_script(TRIM_SCRIPT), stream, approximate=False)
    assert await redis.xlen(stream) == 0


async def test_permanent_or_not(redis: Any, ns: str) -> None:
    """409/429/408/5xx are retried to max_deliveries; 400/404 dead at once with the reason;
    ``raise ... from PermanentError`` counts as the docs say; a custom ``permanent=`` rules,
    and one that fails itself falls back to retrying."""
    from pixop_async.errors import (
        BadRequestError,
        ConflictError,
        NotFoundError,
        RateLimitError,
        ServerError,
        status_error_class,
    )
    from pixop_async.pipeline import PermanentError, StreamMessage, StreamWorker, WorkerSettings

    calls: dict[str, int] = {}

    async def handle(message: StreamMessage) -> None:
        name = message.fields["name"]
        calls[name] = calls.get(name, 0) + 1
        errors: dict[str, Exception] = {
            "409": ConflictError(409, "busy"),
            "429": RateLimitError(429, "slow down"),
            "408": status_error_class(408)(408, "timeout"),
            "500": ServerError(500, "oops"),
            "400": BadRequestError(400, "bad field x"),
            "404": NotFoundError(404, "no such video"),
            "custom": KeyError("missing"),
        }
        if name == "chained":
            try:
                raise PermanentError("the input is wrong")
            except PermanentError as cause:
                raise RuntimeError("wrapped") from cause
        raise errors[name]

    names = ("409", "429", "408", "500", "400", "404", "chained", "custom")
    stream = f"{ns}:s"
    for name in names:
        await redis.xadd(stream, {"name": name})
    settings = WorkerSettings(max_deliveries=3, block=0.05, backoff_base=0.001, backoff_cap=0.01)

    def permanent(exc: BaseException) -> bool:
        if isinstance(exc, KeyError):
            return True
        from pixop_async.pipeline import is_permanent

        return is_permanent(exc)

    worker = StreamWorker(redis, stream, "g", handle, settings=settings, permanent=permanent)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(1500):
            if worker.stats["dead"] == len(names):
                break
            await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
    assert {n: calls[n] for n in ("409", "429", "408", "500")} == dict.fromkeys(
        ("409", "429", "408", "500"), 3
    )
    assert {n: calls[n] for n in ("400", "404", "chained", "custom")} == dict.fromkeys(
        ("400", "404", "chained", "custom"), 1
    )
    letters = {f["name"]: f for _id, f in await redis.xrange(f"{stream}:dead")}
    assert "bad field x" in letters["400"]["dead.error"]
    assert "no such video" in letters["404"]["dead.error"]
    assert letters["404"]["dead.deliveries"] == "1"


async def test_a_failing_permanent_check_means_retry(redis: Any, ns: str) -> None:
    from pixop_async.errors import NotFoundError
    from pixop_async.pipeline import StreamMessage, StreamWorker, WorkerSettings

    calls = 0

    async def handle(message: StreamMessage) -> None:
        nonlocal calls
        calls += 1
        raise NotFoundError(404, "gone")

    def broken(exc: BaseException) -> bool:
        raise RuntimeError("the check itself fails")

    stream = f"{ns}:s"
    await redis.xadd(stream, {"n": "1"})
    settings = WorkerSettings(max_deliveries=2, block=0.05, backoff_base=0.001, backoff_cap=0.01)
    worker = StreamWorker(redis, stream, "g", handle, settings=settings, permanent=broken)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(1500):
            if worker.stats["dead"] == 1:
                break
            await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
    assert calls == 2 and worker.stats["permanent"] == 0


async def test_a_publisher_maxlen_and_the_workers_trim_together(redis: Any, ns: str) -> None:
    """MAXLEN on the publisher drops entries a crashed consumer still had pending: the
    worker counts them as ``trimmed`` when it takes them over, handles everything still
    there, and its own trimming (with a pending id below the stream's first entry) keeps
    working without errors."""
    from pixop_async.pipeline import StreamMessage, StreamPublisher, StreamWorker, WorkerSettings

    stream = f"{ns}:s"
    await redis.xgroup_create(stream, "g", id="0", mkstream=True)
    publisher = StreamPublisher(redis, stream, maxlen=10)
    for n in range(250):
        await publisher.publish({"n": str(n)})
    # a consumer takes everything and dies; more entries push the old ones out
    await redis.xreadgroup("g", "dead", {stream: ">"}, count=1000)
    for n in range(250, 500):
        await publisher.publish({"n": str(n)})
    present = {str(i) for i, _f in await redis.xrange(stream)}
    assert len(present) < 500  # MAXLEN did drop some
    handled: set[str] = set()

    async def handle(message: StreamMessage) -> None:
        handled.add(message.id)

    settings = WorkerSettings(
        trim_every=5,
        trim_interval=0.05,
        idle_timeout=0.3,
        claim_interval=0.05,
        block=0.05,
        backoff_base=0.001,
        backoff_cap=0.01,
    )
    worker = StreamWorker(redis, stream, "g", handle, settings=settings)
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(2000):
            pending = (await redis.xpending(stream, "g"))["pending"]
            if present <= handled and worker.stats["trims"] >= 1 and pending == 0:
                break
            await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
    assert present <= handled
    assert worker.stats["trimmed"] >= 1 and worker.stats["trim_errors"] == 0
    assert (await redis.xpending(stream, "g"))["pending"] == 0

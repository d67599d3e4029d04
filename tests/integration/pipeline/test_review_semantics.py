"""Delivery semantics found wanting in review: releases that used up deliveries, entries
trimmed while pending, and a receiver answering 503 for an event it had handed over."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from pixop_async.pipeline import StreamMessage, StreamWorker, WorkerSettings
from pixop_async.webhooks import (
    MemoryEventStore,
    ReceivedEvent,
    RedisEventStore,
    WebhookReceiver,
    sign,
)

from .test_shared_receivers import KEY, KEY_ID, PUBLIC, event_body, http, post  # noqa: F401
from .test_stream_worker import FAST, pending, running, until


async def _true(value: bool) -> bool:
    return value


async def test_a_graceful_stop_does_not_use_up_a_delivery(redis: Any, ns: str) -> None:
    """Before: each release counted as a delivery when taken over, so three rolling
    restarts during one slow item dead-lettered it ("too many deliveries") although its
    handler never failed."""
    stream = f"{ns}:s"
    seen: list[int] = []
    began = asyncio.Event()

    async def stuck(message: StreamMessage) -> None:
        seen.append(message.deliveries)
        began.set()
        await asyncio.Event().wait()

    settings = WorkerSettings(
        idle_timeout=60, claim_interval=0.05, shutdown_grace=0.05, max_deliveries=2, **FAST
    )  # type: ignore[arg-type]
    entry = None
    for n in range(4):  # four restarts while the item is in flight
        worker = StreamWorker(redis, stream, "g", stuck, consumer=f"w{n}", settings=settings)
        await worker.ensure_group()
        if entry is None:
            entry = await redis.xadd(stream, {"n": "1"})
        began.clear()
        async with running(worker) as task:
            await asyncio.wait_for(began.wait(), 10)
            worker.stop()
            await asyncio.wait_for(task, 10)
        assert worker.stats["released"] == 1 and worker.stats["dead"] == 0
    assert seen == [1, 1, 1, 1]
    done: list[int] = []

    async def quick(message: StreamMessage) -> None:
        done.append(message.deliveries)

    last = StreamWorker(redis, stream, "g", quick, consumer="last", settings=settings)
    async with running(last):
        await until(lambda: _true(done == [1]))
    assert await redis.xlen(f"{stream}:dead") == 0
    assert await pending(redis, stream, "g") == 0


async def test_pending_entries_deleted_from_the_stream_are_reported(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    await redis.xgroup_create(stream, "g", id="0", mkstream=True)
    entry = await redis.xadd(stream, {"n": "1"})
    await redis.xreadgroup("g", "died", {stream: ">"}, count=1)  # then the worker died
    await redis.xdel(stream, entry)  # and MAXLEN trimming removed the entry

    async def never(message: StreamMessage) -> None:
        raise AssertionError("a deleted entry has nothing to handle")

    settings = WorkerSettings(idle_timeout=0.1, claim_interval=0.05, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", never, settings=settings)
    async with running(worker):
        await until(lambda: _true(worker.stats["trimmed"] == 1))
    assert await pending(redis, stream, "g") == 0


class _ConfirmFails(RedisEventStore):
    async def confirm(self, event_id: str) -> None:
        raise ConnectionError("Redis went away after the XADD")


async def test_an_event_handed_over_is_202_even_if_marking_it_done_fails(
    redis: Any,
    ns: str,
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    """Before: 503, so Pixop delivered it again and, once the lease lapsed, it was
    published twice."""
    published: list[ReceivedEvent] = []

    async def publish(event: ReceivedEvent) -> None:
        published.append(event)

    store = _ConfirmFails(redis, prefix=f"{ns}:ev:", lease=60)
    receiver = WebhookReceiver({KEY_ID: PUBLIC}, store=store, publish=publish)
    body = event_body()
    async with receiver.serve() as url:
        assert await post(http, url, body, sign(body, KEY, KEY_ID)) == 202
        assert await post(http, url, body, sign(body, KEY, KEY_ID)) == 503  # lease held
    assert [str(e.id) for e in published] == [json.loads(body)["id"]]


async def test_a_store_forgetting_ids_within_the_tolerance_is_refused(redis: Any) -> None:
    """Before: ``RedisEventStore(ttl=1)`` was accepted, and the same signed delivery replayed
    two seconds later (well inside the 300 s tolerance) was acted on a second time."""
    with pytest.raises(ValueError, match="twice the signature tolerance"):
        WebhookReceiver({KEY_ID: PUBLIC}, store=RedisEventStore(redis, ttl=1), queue=True)
    with pytest.raises(ValueError, match="ttl"):
        WebhookReceiver({KEY_ID: PUBLIC}, store=MemoryEventStore(ttl=599), tolerance=300)
    # a short ttl is fine with a short tolerance: older replays fail the signature check
    WebhookReceiver({KEY_ID: PUBLIC}, store=RedisEventStore(redis, ttl=1), tolerance=0.5)
    WebhookReceiver({KEY_ID: PUBLIC}, publish=_nowhere)  # the default memory store: 3 days


async def _nowhere(event: ReceivedEvent) -> None:
    return None


async def test_a_group_destroyed_under_a_running_worker_is_recreated(redis: Any, ns: str) -> None:
    stream = f"{ns}:s"
    seen: list[str] = []

    async def handler(message: StreamMessage) -> None:
        seen.append(message.fields["n"])

    worker = StreamWorker(redis, stream, "g", handler, settings=WorkerSettings(**FAST))  # type: ignore[arg-type]
    async with running(worker):
        await redis.xadd(stream, {"n": "1"})
        await until(lambda: _true(seen == ["1"]))
        await redis.xgroup_destroy(stream, "g")
        await redis.delete(stream)
        await until(lambda: redis.exists(stream))  # recreated by the worker (MKSTREAM)
        await redis.xadd(stream, {"n": "2"})
        await until(lambda: _true(seen == ["1", "2"]))

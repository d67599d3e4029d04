"""Shared webhook receiver state: EventStore semantics (memory and Redis), two receiver
processes behind one Redis store acting once per delivery, and hand-over failures."""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from pixop_async.pipeline import StreamMessage, StreamWorker, WorkerSettings, event_from_message
from pixop_async.pipeline.streams import event_fields
from pixop_async.webhooks import (
    Claim,
    MemoryEventStore,
    ReceivedEvent,
    RedisEventStore,
    WebhookEventError,
    WebhookReceiver,
    encode_public_key,
    generate_key,
    parse_event,
    sign,
)

from .conftest import env_with_path

KEY = generate_key()
KEY_ID = str(uuid.uuid4())
PUBLIC = encode_public_key(KEY)


def event_body(event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or str(uuid.uuid4()),
            "webhookId": str(uuid.uuid4()),
            "eventType": "video_processing.done",
            "occurredAt": "2026-11-22T10:00:00Z",
            "test": False,
            "attemptCount": 1,
            "data": {"type": "VIDEO", "videoId": str(uuid.uuid4())},
        }
    ).encode()


@pytest.fixture(params=["memory", "redis"])
def store_factory(request: pytest.FixtureRequest, ns: str) -> Callable[..., Any]:
    if request.param == "memory":
        return lambda **kw: MemoryEventStore(**kw)
    redis = request.getfixturevalue("redis")
    return lambda **kw: RedisEventStore(redis, prefix=f"{ns}:ev:", **kw)


async def test_store_claims_once_leases_and_releases(store_factory: Callable[..., Any]) -> None:
    store = store_factory(lease=1.5)
    assert await store.claim("a") is Claim.NEW
    assert await store.claim("a") is Claim.IN_PROGRESS  # another replica is on it
    await store.release("a")
    assert await store.claim("a") is Claim.NEW  # a failed hand-over can be retried
    await store.confirm("a")
    assert await store.claim("a") is Claim.DUPLICATE
    await store.release("a")  # releasing a confirmed id changes nothing
    assert await store.claim("a") is Claim.DUPLICATE
    assert await store.claim("b") is Claim.NEW
    await asyncio.sleep(2.0)  # the holder of b died: its lease runs out
    assert await store.claim("b") is Claim.NEW


async def test_store_refuses_bad_times() -> None:
    with pytest.raises(ValueError, match="ttl and lease"):
        MemoryEventStore(lease=0)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def start_receiver(redis_url: str, stream: str, prefix: str) -> tuple[Any, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.pipeline.receiver_proc",
        redis_url,
        stream,
        prefix,
        KEY_ID,
        PUBLIC,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env_with_path(),
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    return process, line.decode().strip()


async def post(http: aiohttp.ClientSession, url: str, body: bytes, headers: Any) -> int:
    async with http.post(url, data=body, headers=headers) as response:
        return response.status


async def test_two_receiver_processes_act_once_per_delivery(
    redis: Any, redis_url: str, ns: str, http: aiohttp.ClientSession
) -> None:
    stream = f"{ns}:webhooks"
    receivers = [await start_receiver(redis_url, stream, f"{ns}:ev:") for _ in range(2)]
    actions: collections.Counter[str] = collections.Counter()
    try:
        deliveries = [event_body() for _ in range(20)]
        signed = [sign(body, KEY, KEY_ID) for body in deliveries]
        # Pixop's same delivery reaches both replicas at once (e.g. a retry racing the first)
        statuses = await asyncio.gather(
            *(
                post(http, url, body, headers)
                for body, headers in zip(deliveries, signed, strict=True)
                for _process, url in receivers
            )
        )
        for i in range(20):
            pair = statuses[2 * i : 2 * i + 2]
            assert sorted(pair)[0] in (200, 202) and pair.count(202) == 1, pair
            assert set(pair) <= {200, 202, 503}
        # later repeats of every delivery, to either replica: all duplicates
        again = await asyncio.gather(
            *(
                post(http, receivers[i % 2][1], body, headers)
                for i, (body, headers) in enumerate(zip(deliveries, signed, strict=True))
            )
        )
        assert again == [200] * 20

        async def act(message: StreamMessage) -> None:
            actions[str(event_from_message(message).id)] += 1

        settings = WorkerSettings(block=0.05)
        worker = StreamWorker(redis, stream, "actors", act, settings=settings)
        task = asyncio.create_task(worker.run())
        for _ in range(500):
            if sum(actions.values()) >= 20:
                break
            await asyncio.sleep(0.02)
        worker.stop()
        await asyncio.wait_for(task, 10)
    finally:
        for process, _url in receivers:
            assert process.stdin is not None
            process.stdin.close()
            await asyncio.wait_for(process.wait(), 30)
    expected = {json.loads(body)["id"] for body in deliveries}
    assert set(actions) == expected
    assert set(actions.values()) == {1}
    assert await redis.xlen(stream) == 20


async def test_a_failed_hand_over_answers_503_and_the_retry_is_accepted(
    redis: Any, ns: str, http: aiohttp.ClientSession
) -> None:
    published: list[ReceivedEvent] = []
    fail = [True]

    async def publish(event: ReceivedEvent) -> None:
        if fail[0]:
            fail[0] = False
            raise ConnectionError("stream unreachable")
        published.append(event)

    receiver = WebhookReceiver(
        {KEY_ID: PUBLIC}, store=RedisEventStore(redis, prefix=f"{ns}:ev:"), publish=publish
    )
    body = event_body()
    async with receiver.serve() as url:
        assert await post(http, url, body, sign(body, KEY, KEY_ID)) == 503
        assert await post(http, url, body, sign(body, KEY, KEY_ID)) == 202
        assert await post(http, url, body, sign(body, KEY, KEY_ID)) == 200
        forged = sign(body, generate_key(), KEY_ID)
        assert await post(http, url, body, forged) == 401
    assert [str(e.id) for e in published] == [json.loads(body)["id"]]
    assert receiver.stats["handover_failed"] == 1 and receiver.stats["duplicates"] == 1


async def test_an_unreachable_store_defers_the_delivery(http: aiohttp.ClientSession) -> None:
    from pixop_async.pipeline import connect

    dead = connect("redis://127.0.0.1:1/0")  # nothing listens there
    receiver = WebhookReceiver({KEY_ID: PUBLIC}, store=RedisEventStore(dead), queue=True)
    body = event_body()
    async with receiver.serve() as url:
        assert await post(http, url, body, sign(body, KEY, KEY_ID)) == 503
    await dead.aclose()


def test_stream_entries_are_checked_before_they_become_events() -> None:
    body = event_body()
    event = parse_event(body, sign(body, KEY, KEY_ID))
    fields = event_fields(event)
    back = event_from_message(StreamMessage("s", "1-1", fields))
    assert back.id == event.id and back.event_type == event.event_type
    assert back.key_id == KEY_ID and back.signed_at == event.signed_at
    for bad in (
        {**fields, "kind": "other"},
        {**fields, "body": "{nope"},
        {**fields, "event_id": str(uuid.uuid4())},
        {**fields, "body": json.dumps({"id": fields["event_id"]})},
    ):
        with pytest.raises(WebhookEventError):
            event_from_message(StreamMessage("s", "1-1", bad))

"""WebhookReceiver on a real aiohttp server on 127.0.0.1, fed signed deliveries."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from pixop_async import Pixop
from pixop_async.errors import PollTimeoutError
from pixop_async.webhooks import (
    PublicKeyCache,
    ReceivedEvent,
    WebhookEventType,
    WebhookReceiver,
    encode_public_key,
    generate_key,
    sign,
    wait_for_event,
)

KEY = generate_key()
KEY_ID = str(uuid.uuid4())
KEYS = {KEY_ID: encode_public_key(KEY)}


def event_body(
    event_type: str = "video_in.done",
    *,
    event_id: str | None = None,
    video_id: str | None = None,
    test: bool = False,
    attempt: int = 1,
) -> bytes:
    return json.dumps(
        {
            "id": event_id or str(uuid.uuid4()),
            "webhookId": str(uuid.uuid4()),
            "eventType": event_type,
            "occurredAt": "2026-11-22T10:00:00Z",
            "test": test,
            "attemptCount": attempt,
            "data": {"type": "VIDEO", "videoId": video_id or str(uuid.uuid4())},
        }
    ).encode()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    key_id: str = KEY_ID,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    signed = sign(body, KEY, key_id, timestamp=timestamp)
    async with http.post(url, data=body, headers=headers or signed) as response:
        return response.status, await response.json()


async def test_accepts_fast_and_runs_the_callback_afterwards(
    http: aiohttp.ClientSession,
) -> None:
    release = asyncio.Event()
    seen: list[ReceivedEvent] = []

    async def slow_callback(event: ReceivedEvent) -> None:
        await release.wait()  # work that outlasts the HTTP exchange
        seen.append(event)

    receiver = WebhookReceiver(KEYS, callback=slow_callback)
    async with receiver.serve() as url:
        video_id = str(uuid.uuid4())
        started = time.monotonic()
        status, answer = await post(http, url, event_body("video_in.done", video_id=video_id))
        elapsed = time.monotonic() - started
        assert (status, answer) == (202, {"status": "accepted"})
        assert elapsed < 1.0
        assert seen == []  # the callback has not finished: the answer did not wait for it
        release.set()
        await receiver.drain()
    assert len(seen) == 1
    assert seen[0].event_type is WebhookEventType.VIDEO_IN_DONE
    assert seen[0].video_id == uuid.UUID(video_id)


async def test_bad_signatures_get_401_and_are_not_delivered(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(KEYS)
    async with receiver.serve() as url:
        body = event_body()
        headers = sign(body, KEY, KEY_ID)
        tampered = body.replace(b"video_in.done", b"video_in.fail")
        async with http.post(url, data=tampered, headers=headers) as response:
            assert response.status == 401
        other = generate_key()
        forged = sign(body, other, KEY_ID)
        async with http.post(url, data=body, headers=forged) as response:
            assert response.status == 401
        status, _ = await post(http, url, body, key_id=str(uuid.uuid4()))
        assert status == 401
        async with http.post(url, data=body) as response:  # unsigned
            assert response.status == 401
        lower = {k.lower(): v for k, v in headers.items()}
        async with http.post(url, data=body, headers=lower) as response:
            assert response.status == 202
    assert receiver.stats["rejected"] == 4
    assert receiver.stats["accepted"] == 1


async def test_malformed_bodies_get_400(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(KEYS)
    async with receiver.serve() as url:
        for body in (b"not json", b"[]", json.dumps({"id": "x"}).encode()):
            status, answer = await post(http, url, body)
            assert status == 400, body
            assert answer == {"status": "malformed event"}
        async with http.get(url) as response:
            assert response.status == 405
    assert receiver.stats["malformed"] == 3
    assert receiver.stats["accepted"] == 0


async def test_too_large_body_gets_413(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(KEYS, max_body=1024)
    async with receiver.serve() as url:
        status, _ = await post(http, url, b"x" * 5000)
        assert status == 413


async def test_duplicates_are_dropped_and_replays_refused(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(KEYS, dedupe_capacity=2, queue=True)
    async with receiver.serve() as url:
        event_id = str(uuid.uuid4())
        first = event_body(event_id=event_id)
        assert (await post(http, url, first))[0] == 202
        # Pixop's retry of the same event: new timestamp and attempt count, same id
        retry = event_body(event_id=event_id, attempt=2)
        assert await post(http, url, retry) == (200, {"status": "duplicate"})
        # an exact replay of a captured delivery inside the window is a duplicate too
        assert (await post(http, url, first))[0] == 200
        # a replay with an old timestamp is refused before anything else
        stale = event_body()
        assert (await post(http, url, stale, timestamp=int(time.time()) - 600))[0] == 401
        # dedupe memory is bounded: after two newer ids the first is forgotten
        for _ in range(2):
            assert (await post(http, url, event_body()))[0] == 202
        assert (await post(http, url, first))[0] == 202
        events = []
        await receiver.close()
        async for event in receiver.events():
            events.append(event)
    assert [str(e.id) for e in events].count(event_id) == 2
    assert len(events) == 4
    assert receiver.stats["duplicates"] == 2
    assert receiver.stats["rejected"] == 1


async def test_iterator_delivery_in_order(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(KEYS)
    types = ["video_in.started", "video_in.done", "video_processing.done"]
    async with receiver.serve() as url:
        received: list[ReceivedEvent] = []

        async def consume() -> None:
            async for event in receiver.events():
                received.append(event)
                if len(received) == len(types):
                    return

        consumer = asyncio.create_task(consume())
        for event_type in types:
            assert (await post(http, url, event_body(event_type)))[0] == 202
        await asyncio.wait_for(consumer, 5)
    assert [e.event_type.value for e in received] == types


async def test_full_queue_answers_503_so_pixop_retries(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(KEYS, queue_size=2, queue=True)  # an explicit queue is strict
    async with receiver.serve() as url:
        bodies = [event_body() for _ in range(3)]
        assert (await post(http, url, bodies[0]))[0] == 202
        assert (await post(http, url, bodies[1]))[0] == 202
        assert (await post(http, url, bodies[2]))[0] == 503
        iterator = receiver.events().__aiter__()
        first = await iterator.__anext__()
        assert first.id == uuid.UUID(json.loads(bodies[0])["id"])
        # the refused event was not remembered, so Pixop's retry is accepted
        assert (await post(http, url, bodies[2]))[0] == 202


async def test_callback_backlog_is_bounded(http: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def blocked(event: ReceivedEvent) -> None:
        await release.wait()

    receiver = WebhookReceiver(KEYS, callback=blocked, queue_size=1, max_concurrency=1)
    async with receiver.serve() as url:
        assert (await post(http, url, event_body()))[0] == 202
        assert (await post(http, url, event_body()))[0] == 503
        release.set()
        await receiver.drain()
        assert (await post(http, url, event_body()))[0] == 202
        await receiver.drain()


async def test_handler_mounts_in_the_users_own_app(http: aiohttp.ClientSession) -> None:
    got: list[ReceivedEvent] = []

    def on_event(event: ReceivedEvent) -> None:  # plain callables work too
        got.append(event)

    receiver = WebhookReceiver(KEYS, callback=on_event)
    app = web.Application()
    app.router.add_post("/hooks/pixop", receiver.handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        status, _ = await post(http, f"http://127.0.0.1:{port}/hooks/pixop", event_body())
        assert status == 202
        await receiver.drain()
    finally:
        await runner.cleanup()
        await receiver.close()
    assert len(got) == 1


async def test_keys_come_from_the_api_through_the_client(http: aiohttp.ClientSession) -> None:
    """PublicKeyCache(px) fetches GET /v1/webhooks/public-keys and refetches on rotation."""
    rotated_key, rotated_id = generate_key(), str(uuid.uuid4())
    published = [{"id": KEY_ID, "publicKey": KEYS[KEY_ID], "algorithm": "EC"}]
    requests: list[str] = []

    async def public_keys(request: web.Request) -> web.Response:
        requests.append(request.headers.get("X-API-Key", ""))
        listing = [
            {**item, "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}
            for item in published
        ]
        return web.json_response(listing)

    api = web.Application()
    api.router.add_get("/api/v1/webhooks/public-keys", public_keys)
    runner = web.AppRunner(api)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with Pixop("key-123456", base_url=f"http://127.0.0.1:{port}/api") as px:
            cache = PublicKeyCache(px, min_refetch_interval=0.0)
            receiver = WebhookReceiver(cache)
            async with receiver.serve() as url:
                assert (await post(http, url, event_body()))[0] == 202
                published.append(
                    {
                        "id": rotated_id,
                        "publicKey": encode_public_key(rotated_key),
                        "algorithm": "EC",
                    }
                )
                body = event_body()
                headers = sign(body, rotated_key, rotated_id)
                async with http.post(url, data=body, headers=headers) as response:
                    assert response.status == 202
            assert set(cache.snapshot()) == {KEY_ID, rotated_id}
    finally:
        await runner.cleanup()
    assert requests == ["key-123456", "key-123456"]


async def test_keys_unavailable_answers_503(http: aiohttp.ClientSession) -> None:
    async def broken() -> list[Any]:
        raise ConnectionError("key endpoint down")

    receiver = WebhookReceiver(PublicKeyCache(fetch=broken))
    async with receiver.serve() as url:
        status, answer = await post(http, url, event_body())
    assert (status, answer) == (503, {"status": "keys unavailable"})


# -- wait_for_event ----------------------------------------------------------------------------


async def test_wait_for_event_ends_on_the_webhook(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(KEYS, queue=False)
    video_id = str(uuid.uuid4())
    polls = 0

    async def poll() -> str | None:
        nonlocal polls
        polls += 1
        return None

    async with receiver.serve() as url:
        waiter = asyncio.create_task(
            wait_for_event(
                receiver,
                video_id,
                ["video_processing.done", "video_processing.failed"],
                fallback=poll,
                timeout=10,
                poll_interval=30,
            )
        )
        await asyncio.sleep(0.05)
        # other videos, other types and test events do not end the wait
        await post(http, url, event_body("video_processing.done"))
        await post(http, url, event_body("video_processing.started", video_id=video_id))
        await post(http, url, event_body("video_processing.done", video_id=video_id, test=True))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await post(http, url, event_body("video_processing.failed", video_id=video_id))
        result = await asyncio.wait_for(waiter, 5)
    assert result.source == "webhook"
    assert result.event is not None
    assert result.event.event_type is WebhookEventType.VIDEO_PROCESSING_FAILED
    # no poll at all: the safety net (30 s) was not due, the webhook made polling unnecessary
    # (it used to poll once at the start of every wait; issue 16 removed that request)
    assert polls == 0


async def test_wait_for_event_falls_back_to_polling() -> None:
    receiver = WebhookReceiver(KEYS, queue=False)  # no deliveries will come
    calls = 0

    async def poll() -> str | None:
        nonlocal calls
        calls += 1
        return "DONE" if calls == 3 else None

    result = await wait_for_event(
        receiver, uuid.uuid4(), "video_in.done", fallback=poll, timeout=5, poll_interval=0.05
    )
    assert (result.source, result.polled, calls) == ("poll", "DONE", 3)


async def test_wait_for_event_times_out_with_last_state() -> None:
    async def poll() -> str | None:
        return None

    started = time.monotonic()
    with pytest.raises(PollTimeoutError) as info:
        await wait_for_event(
            None, uuid.uuid4(), "video_in.done", fallback=poll, timeout=0.2, poll_interval=0.05
        )
    assert time.monotonic() - started < 2
    assert info.value.last_state is None


async def test_wait_for_event_validates_arguments() -> None:
    from pixop_async.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="video_id"):
        await wait_for_event(None, "nope", "video_in.done", fallback=None)
    with pytest.raises(InvalidRequestError, match="fallback"):
        await wait_for_event(None, uuid.uuid4(), "video_in.done")


# -- end to end with the emulator's signed deliveries -------------------------------------------


@pytest.fixture
def pixop_emulator_config() -> Any:
    from pixop_async.emulator import EmulatorConfig

    return EmulatorConfig(allow_http_sources=True)  # webhooks may target 127.0.0.1


async def test_emulator_deliveries_verify_through_the_key_cache(
    pixop_emulator: Any, pixop_client: Pixop
) -> None:
    """Real deliveries from the emulator, keys fetched with the client, across a rotation."""
    from pixop_async.emulator.webhook_delivery import hub

    cache = PublicKeyCache(pixop_client, min_refetch_interval=0.0)
    receiver = WebhookReceiver(cache, tolerance=300, queue=True)
    async with receiver.serve() as url:
        webhook = await pixop_client.webhooks.create(
            "receiver test",
            url,
            rate_limit_per_second=10,
            event_types=["video_in.done", "video_processing.done"],
            allow_loopback_http=True,
        )
        video_id = uuid.uuid4()
        waiter = asyncio.create_task(
            wait_for_event(
                receiver, video_id, "video_processing.done", timeout=10, include_test_events=True
            )
        )
        await asyncio.sleep(0)
        await pixop_client.webhooks.test(
            webhook.id, video_id=video_id, event_type="video_processing.done"
        )
        result = await waiter
        assert result.event is not None and result.event.test is True
        assert result.event.webhook_id == webhook.id
        first_key = result.event.key_id
        hub(pixop_emulator.state).rotate_key()  # the next delivery uses a key not yet fetched
        await pixop_client.webhooks.test(webhook.id, event_type="video_in.done")
        iterator = receiver.events().__aiter__()
        await asyncio.wait_for(iterator.__anext__(), 10)  # the first test event
        rotated = await asyncio.wait_for(iterator.__anext__(), 10)
    assert rotated.event_type is WebhookEventType.VIDEO_IN_DONE
    assert rotated.key_id != first_key
    assert {first_key, rotated.key_id} <= set(cache.snapshot())  # both held during rotation
    assert cache.fetch_count == 2
    assert receiver.stats["rejected"] == 0

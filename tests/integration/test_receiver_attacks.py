"""The receiver against a key listing that hangs and senders that hang up (review of
issues 10/16): one delivery giving up must not take the shared key fetch, and with it every
other delivery, down; a hanging fetch must not hold deliveries (and connections) forever."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from pixop_async.webhooks import PublicKeyCache, WebhookReceiver, sign, wait_for_event
from pixop_async.webhooks.events import parse_event

from .test_receiver_hardening import SlowKeys
from .test_webhook_receiver import KEY, KEY_ID, KEYS, event_body, post


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def test_a_sender_hanging_up_during_the_first_key_fetch_does_not_fail_the_others(
    http: aiohttp.ClientSession,
) -> None:
    keys = SlowKeys(delay=0.6)
    receiver = WebhookReceiver(PublicKeyCache(fetch=keys))
    async with receiver.serve() as url:
        first = asyncio.ensure_future(post(http, url, event_body()))
        for _ in range(500):  # until the first delivery's handler has started the fetch
            if keys.calls:
                break
            await asyncio.sleep(0.01)
        assert keys.calls == 1
        others = [asyncio.ensure_future(post(http, url, event_body())) for _ in range(9)]
        await asyncio.sleep(0.2)
        first.cancel()  # its sender hangs up: aiohttp cancels that handler
        answers = await asyncio.gather(*others)
        assert [status for status, _ in answers] == [202] * 9
        assert keys.calls == 1  # the fetch went on for everyone, and was not repeated
    await asyncio.gather(first, return_exceptions=True)


async def test_a_key_fetch_that_hangs_ends_deliveries_with_503_not_a_hang(
    http: aiohttp.ClientSession,
) -> None:
    keys = SlowKeys(delay=3600)
    cache = PublicKeyCache(fetch=keys, fetch_timeout=0.5)
    receiver = WebhookReceiver(cache, key_timeout=0.2)
    async with receiver.serve() as url:
        answers = await asyncio.wait_for(
            asyncio.gather(*(post(http, url, event_body()) for _ in range(5))), 10
        )
        assert [status for status, _ in answers] == [503] * 5
        assert keys.calls == 1
        await asyncio.sleep(0.5)  # the hung fetch times out and counts as a failure
        keys.delay = 0
        await asyncio.sleep(1.1)  # its back-off
        assert (await post(http, url, event_body()))[0] == 202
    assert keys.calls == 2
    assert receiver.stats["keys_unavailable"] == 5


def test_timeouts_are_checked() -> None:
    with pytest.raises(ValueError, match="key_timeout"):
        WebhookReceiver({}, key_timeout=0)
    with pytest.raises(ValueError, match="fetch_timeout"):
        PublicKeyCache(keys={}, fetch_timeout=-1)


async def _forged_head_dripping_body(host: str, port: int, path: str) -> asyncio.StreamWriter:
    """A client that sends a well-formed signed head (it passes every check that needs no
    key) and then only the first bytes of its body: it is inside a request until the body
    deadline."""
    body = event_body()
    headers = sign(body, KEY, KEY_ID)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    _, writer = await asyncio.open_connection(host, port)
    writer.write(head.encode() + body[:5])
    await writer.drain()
    return writer


async def test_a_full_cap_of_connections_mid_request_does_not_lock_deliveries_out(
    http: aiohttp.ClientSession,
) -> None:
    receiver = WebhookReceiver(KEYS, body_timeout=60)
    async with receiver.serve(max_connections=20) as url:
        parsed = aiohttp.client.URL(url)
        assert parsed.host is not None and parsed.port is not None
        writers = [
            await _forged_head_dripping_body(parsed.host, parsed.port, parsed.path)
            for _ in range(40)
        ]
        assert receiver.server is not None
        try:
            for _ in range(500):  # until the handlers of the last 20 are waiting for bodies
                if receiver.server.open_connections == 20 and all(
                    timer is None for timer in receiver.server._open.values()
                ):
                    break
                await asyncio.sleep(0.01)
            assert all(timer is None for timer in receiver.server._open.values())
            answers = [await post(http, url, event_body()) for _ in range(3)]
            assert [status for status, _ in answers] == [202] * 3  # before: refused, for good
            assert receiver.server.stats["evicted_busy"] >= 3
            assert receiver.server.open_connections <= 20
        finally:
            for writer in writers:
                writer.close()


async def test_a_delivery_calls_only_its_own_videos_waiters() -> None:
    """Every wait_for_event listened to every delivery: with 10,000 waits, 2,000 deliveries
    held the event loop for 5 s (2.5 ms each, quadratic in the jobs in flight)."""
    receiver = WebhookReceiver(KEYS)
    videos = [uuid.uuid4() for _ in range(200)]
    waits = [
        asyncio.ensure_future(wait_for_event(receiver, video, ["video_in.done"]))
        for video in videos
    ]
    await asyncio.sleep(0)
    assert receiver._listeners == [] and len(receiver._video_listeners) == 200
    calls: list[uuid.UUID] = []
    receiver.add_listener(lambda event: calls.append(videos[0]), video_id=videos[0])
    receiver.add_listener(lambda event: calls.append(videos[1]), video_id=videos[1])
    receiver._dispatch(parse_event(event_body(video_id=str(videos[1])), {}))
    assert calls == [videos[1]]  # the other video's listener was not called
    assert (await waits[1]).event is not None
    for wait in waits:
        wait.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    assert set(receiver._video_listeners) == {videos[0], videos[1]}  # only the two above

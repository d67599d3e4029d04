"""The webhook receiver under junk, key-fetch storms, slow clients and pollers-only use
(issues 10 and 16), on a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from pixop_async.webhooks import PublicKeyCache, WebhookReceiver, sign, wait_for_event
from pixop_async.webhooks.keys import KeyRecord

from .test_webhook_receiver import KEY, KEY_ID, KEYS, event_body, post


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)  # no idle keep-alive to evict
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


class SlowKeys:
    """A key listing that takes ``delay`` seconds and can be told to fail."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.calls = 0

    async def __call__(self) -> list[KeyRecord]:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("key listing unavailable")
        return [KeyRecord(KEY_ID, KEYS[KEY_ID])]


def junk_headers() -> list[dict[str, str]]:
    body = event_body()
    good = sign(body, KEY, KEY_ID)
    now = str(int(time.time()))
    return [
        {"Content-Type": "application/json"},  # unsigned
        {k: v for k, v in good.items() if k != "X-Pixop-Signature"},
        {**good, "X-Pixop-Timestamp": "yesterday"},
        {**good, "X-Pixop-Timestamp": str(int(time.time()) - 3600)},  # stale
        {**good, "X-Pixop-Signature": "!!!not base64!!!"},
        {**good, "X-Pixop-Signature": base64.b64encode(b"not DER").decode()},
        {**good, "X-Pixop-Algorithm": "none"},
        {**good, "X-Pixop-Public-Key-Id": "k" * 500, "X-Pixop-Timestamp": now},
    ]


async def test_junk_is_refused_before_any_key_fetch(http: aiohttp.ClientSession) -> None:
    keys = SlowKeys()
    receiver = WebhookReceiver(PublicKeyCache(fetch=keys))
    async with receiver.serve() as url:
        for _ in range(40):  # 320 junk requests
            for headers in junk_headers():
                status, _ = await post(http, url, event_body(), headers=headers)
                assert status == 401
        assert keys.calls == 0  # no request of junk made the cache fetch
        assert (await post(http, url, event_body()))[0] == 202
    assert keys.calls == 1
    assert receiver.stats["rejected"] == 320


async def test_deliveries_during_a_slow_first_fetch_share_it(
    http: aiohttp.ClientSession,
) -> None:
    keys = SlowKeys(delay=0.5)
    receiver = WebhookReceiver(PublicKeyCache(fetch=keys))
    async with receiver.serve() as url:
        answers = await asyncio.gather(*(post(http, url, event_body()) for _ in range(60)))
    assert [status for status, _ in answers] == [202] * 60
    assert keys.calls == 1  # single-flight: 60 deliveries, one fetch


async def test_failed_fetches_are_rate_limited_before_the_first_success(
    http: aiohttp.ClientSession,
) -> None:
    keys = SlowKeys(fail=True)
    receiver = WebhookReceiver(PublicKeyCache(fetch=keys))
    async with receiver.serve() as url:
        for _ in range(30):
            assert (await post(http, url, event_body()))[0] == 503
        assert keys.calls == 1  # the back-off (1 s, 2 s, ...) holds every later delivery
        keys.fail = False
        await asyncio.sleep(1.1)
        assert (await post(http, url, event_body()))[0] == 202
    assert keys.calls == 2


async def test_pollers_only_receiver_never_refuses_for_a_queue(
    http: aiohttp.ClientSession,
) -> None:
    """Nobody iterates ``events()``: deliveries beyond ``queue_size`` are still accepted
    (issue 16: 9,509 deliveries got 503 from a queue nobody read)."""
    receiver = WebhookReceiver(KEYS, queue_size=5)
    async with receiver.serve() as url:
        statuses = [(await post(http, url, event_body()))[0] for _ in range(25)]
    assert statuses == [202] * 25
    assert receiver.stats["queue_full"] == 0


async def test_a_wait_begun_after_its_event_ends_at_once_without_polling(
    http: aiohttp.ClientSession,
) -> None:
    receiver = WebhookReceiver(KEYS)
    polls = 0

    async def poll() -> str | None:
        nonlocal polls
        polls += 1
        return None

    video_id = str(uuid.uuid4())
    async with receiver.serve() as url:
        assert (await post(http, url, event_body("video_in.done", video_id=video_id)))[0] == 202
        result = await asyncio.wait_for(
            wait_for_event(receiver, video_id, "video_in.done", fallback=poll, timeout=30), 5
        )
    assert result.source == "webhook"
    assert polls == 0


# -- slow clients ---------------------------------------------------------------------------


async def _slow_connection(host: str, port: int, path: str) -> asyncio.StreamWriter:
    """A slowloris client: connects and sends part of a request head, then nothing."""
    _, writer = await asyncio.open_connection(host, port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n".encode())
    await writer.drain()
    return writer


async def test_a_thousand_slow_connections_do_not_lock_deliveries_out(
    http: aiohttp.ClientSession,
) -> None:
    receiver = WebhookReceiver(KEYS)
    async with receiver.serve(max_connections=100, header_timeout=30) as url:
        parsed = aiohttp.client.URL(url)
        assert parsed.host is not None and parsed.port is not None
        writers = await asyncio.gather(
            *(_slow_connection(parsed.host, parsed.port, parsed.path) for _ in range(1000))
        )
        assert receiver.server is not None
        assert receiver.server.open_connections <= 100
        started = time.monotonic()
        answers = [await post(http, url, event_body()) for _ in range(5)]
        assert [status for status, _ in answers] == [202] * 5
        assert time.monotonic() - started < 5  # long before the 30 s head deadline
        assert receiver.server.stats["evicted"] > 0  # slow ones made room for deliveries
        assert receiver.server.open_connections <= 100
        for writer in writers:
            writer.close()


async def test_headers_dripped_slowly_are_cut_at_the_head_deadline() -> None:
    receiver = WebhookReceiver(KEYS)
    async with receiver.serve(header_timeout=0.5) as url:
        parsed = aiohttp.client.URL(url)
        assert parsed.host is not None and parsed.port is not None
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        head = f"POST {parsed.path} HTTP/1.1\r\nHost: x\r\nX-Long: {'a' * 200}"
        started = time.monotonic()
        closed = False
        for byte in head.encode():  # one byte every 20 ms: never a pause long enough to
            try:  # trip a read timeout, yet the head would take 4+ s
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                closed = True
                break
            if reader.at_eof():
                closed = True
                break
            await asyncio.sleep(0.02)
        if not closed:
            closed = await asyncio.wait_for(reader.read(), 2) == b""
        assert closed
        assert time.monotonic() - started < 3
        assert receiver.server is not None
        assert receiver.server.stats["head_timeouts"] == 1
        writer.close()


async def test_a_body_that_never_arrives_gets_408() -> None:
    receiver = WebhookReceiver(KEYS, body_timeout=0.3)
    body = event_body()
    headers = sign(body, KEY, KEY_ID)
    async with receiver.serve() as url:
        parsed = aiohttp.client.URL(url)
        assert parsed.host is not None and parsed.port is not None
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        head = [f"POST {parsed.path} HTTP/1.1", "Host: x", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body[:10])
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        assert status_line.split()[1] == b"408"
        writer.close()
    assert receiver.stats["slow_body"] == 1
    assert receiver.stats["accepted"] == 0

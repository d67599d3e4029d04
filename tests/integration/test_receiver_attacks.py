"""The receiver against a key listing that hangs and senders that hang up (review of
issues 10/16): one delivery giving up must not take the shared key fetch, and with it every
other delivery, down; a hanging fetch must not hold deliveries (and connections) forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from pixop_async.webhooks import PublicKeyCache, WebhookReceiver

from .test_receiver_hardening import SlowKeys
from .test_webhook_receiver import event_body, post


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

"""``WebhookReceiver.serve()`` yields a URL ``webhooks.create`` accepts: the loopback URL of
a wildcard bind, or the ``public_url`` of a proxy/tunnel; refused URLs say what to do."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig
from pixop_async.errors import InvalidRequestError
from pixop_async.webhooks import PublicKeyCache, WebhookEventType, WebhookReceiver


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(allow_http_sources=True)  # webhooks may target 127.0.0.1


async def test_a_wildcard_bind_yields_a_url_the_emulator_delivers_to(pixop_client: Pixop) -> None:
    receiver = WebhookReceiver(PublicKeyCache(pixop_client), queue=True)
    async with receiver.serve(host="0.0.0.0") as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith(receiver.path)
        assert receiver.local_url == url
        webhook = await pixop_client.webhooks.create(
            "wildcard", url, [WebhookEventType.VIDEO_IN_DONE], allow_loopback_http=True
        )
        video_id = uuid.uuid4()
        await pixop_client.webhooks.test(webhook.id, video_id=video_id, event_type="video_in.done")
        event = await asyncio.wait_for(receiver.events().__aiter__().__anext__(), 10)
    assert event.video_id == video_id and event.webhook_id == webhook.id


async def test_public_url_is_yielded_and_the_local_one_kept(pixop_client: Pixop) -> None:
    receiver = WebhookReceiver(PublicKeyCache(pixop_client))
    public = "https://hooks.example.com/pixop"
    async with receiver.serve(host="0.0.0.0", public_url=public) as url:
        assert url == public
        assert receiver.local_url is not None and receiver.local_url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as http, http.post(receiver.local_url, data=b"{}") as r:
            assert r.status in (400, 401)  # served here, refused as unsigned
        created = await pixop_client.webhooks.create(
            "public", url, [WebhookEventType.VIDEO_IN_DONE]
        )
        assert created.url == public


@pytest.mark.parametrize(
    ("public_url", "rule"),
    [
        ("http://hooks.example.com/pixop", "must use the https scheme"),
        ("https://127.0.0.1/pixop", "must not point to a"),
        ("https://hooks.example.com:8443/pixop", "must use port 443"),
    ],
)
async def test_a_public_url_pixop_would_refuse_fails_before_binding(
    public_url: str, rule: str
) -> None:
    receiver = WebhookReceiver({})
    with pytest.raises(InvalidRequestError, match=f"public_url: {rule}"):
        async with receiver.serve(public_url=public_url):
            pass
    assert receiver.server is None and receiver.local_url is None


async def test_refused_receiver_urls_say_what_to_do(pixop_client: Pixop) -> None:
    events = [WebhookEventType.VIDEO_IN_DONE]
    with pytest.raises(InvalidRequestError, match="bind addresses nothing can send to"):
        await pixop_client.webhooks.create("w", "http://0.0.0.0:8091/webhooks/pixop", events)
    with pytest.raises(InvalidRequestError, match=r"allow_loopback_http=True") as local:
        await pixop_client.webhooks.create("w", "http://127.0.0.1:8091/webhooks/pixop", events)
    assert local.value.field == "url" and "must use the https scheme" in str(local.value)
    with pytest.raises(InvalidRequestError) as plain:
        await pixop_client.webhooks.create("w", "http://hooks.example.com/x", events)
    assert str(plain.value) == "url: must use the https scheme"  # no hint for other URLs

"""Webhook administration against the emulator: CRUD, limits, test events, events, keys."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.webhook_delivery import hub
from pixop_async.errors import BadRequestError, ConflictError, InvalidRequestError, NotFoundError
from pixop_async.models.webhooks import WebhookEventType

from .processing_fixtures import Receiver

#: Only CRUD uses this public-looking URL: nothing is ever delivered to it.
URL = "https://hooks.example.com/pixop"
TYPES = [WebhookEventType.VIDEO_PROCESSING_DONE, WebhookEventType.VIDEO_OUT_DONE]


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(allow_http_sources=True)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as endpoint:
        yield endpoint


async def test_crud_roundtrip(pixop_client: Pixop) -> None:
    created = await pixop_client.webhooks.create(
        "main",
        URL,
        TYPES,
        rate_limit_per_second=5,
        description="ops",
    )
    assert created.active and created.url == URL and created.event_types == TYPES
    # the retry window is read-only on creation: the server's default applies
    assert (created.rate_limit_per_second, created.max_total_retry_delay_minutes) == (5, 180)
    assert await pixop_client.webhooks.get(created.id) == created

    updated = await pixop_client.webhooks.update(
        created.id,
        name="renamed",
        event_types=["video.deleted"],
        rate_limit_per_second=1000,
        max_total_retry_delay_minutes=0,
    )
    assert updated.name == "renamed" and updated.event_types == [WebhookEventType.VIDEO_DELETED]
    assert updated.description == "ops" and updated.url == URL
    assert (updated.rate_limit_per_second, updated.max_total_retry_delay_minutes) == (1000, 0)

    assert not (await pixop_client.webhooks.deactivate(created.id)).active
    assert not (await pixop_client.webhooks.deactivate(created.id)).active  # idempotent
    assert (await pixop_client.webhooks.activate(created.id)).active

    listed = [w async for w in pixop_client.webhooks.list()]
    assert [w.id for w in listed] == [created.id]
    await pixop_client.webhooks.delete(created.id)
    with pytest.raises(NotFoundError):
        await pixop_client.webhooks.get(created.id)


async def test_at_most_ten_active_webhooks(pixop_client: Pixop) -> None:
    for i in range(10):
        await pixop_client.webhooks.create(f"w{i}", URL, TYPES)
    with pytest.raises(ConflictError) as info:
        await pixop_client.webhooks.create("eleventh", URL, TYPES)
    assert info.value.error_code == "MAXIMUM_AMOUNT_OF_ACTIVE_WEBHOOKS_REACHED"
    spare = await pixop_client.webhooks.create("spare", URL, TYPES, active=False)
    with pytest.raises(ConflictError):
        await pixop_client.webhooks.activate(spare.id)
    first = (await pixop_client.webhooks.list()).items[0]
    await pixop_client.webhooks.deactivate(first.id)
    assert (await pixop_client.webhooks.activate(spare.id)).active


async def test_test_events_refused_when_inactive_or_unsubscribed(
    pixop_client: Pixop, receiver: Receiver
) -> None:
    webhook = await pixop_client.webhooks.create(
        "t", receiver.url, TYPES, active=False, allow_loopback_http=True
    )
    with pytest.raises(ConflictError) as info:
        await pixop_client.webhooks.test(webhook.id)
    assert info.value.error_code == "WEBHOOK_NOT_ACTIVE"
    await pixop_client.webhooks.activate(webhook.id)
    with pytest.raises(ConflictError):
        await pixop_client.webhooks.test(webhook.id, event_type=WebhookEventType.VIDEO_IN_DONE)
    video_id = uuid.uuid4()
    event = await pixop_client.webhooks.test(
        webhook.id, video_id=video_id, event_type="video_out.done"
    )
    assert event.payload.test and event.payload.event_type == WebhookEventType.VIDEO_OUT_DONE
    assert event.payload.data is not None and event.payload.data.video_id == video_id
    assert event.payload.webhook_id == webhook.id
    random_pick = await pixop_client.webhooks.test(webhook.id)
    assert random_pick.payload.event_type in TYPES
    delivered = await receiver.wait_for(2)
    assert {d.json()["id"] for d in delivered} == {str(event.id), str(random_pick.id)}


async def test_test_event_quota(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, receiver: Receiver
) -> None:
    webhook = await pixop_client.webhooks.create("q", receiver.url, TYPES, allow_loopback_http=True)
    team = str(webhook.team_id)
    now = pixop_emulator.state.clock.time()
    hub(pixop_emulator.state).test_events_sent[team] = [now] * 1000
    with pytest.raises(ConflictError) as info:
        await pixop_client.webhooks.test(webhook.id)
    assert info.value.error_code == "TOO_MANY_WEBHOOK_TEST_EVENTS"
    pixop_emulator.state.clock.advance(24 * 3600 + 1)
    await pixop_client.webhooks.test(webhook.id)


async def test_event_listing_filters(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, receiver: Receiver
) -> None:
    receiver.script = [(500, {})] * 50  # nothing succeeds: only the hand-marked event does
    webhook = await pixop_client.webhooks.create("e", receiver.url, TYPES, allow_loopback_http=True)
    webhook = await pixop_client.webhooks.update(webhook.id, max_total_retry_delay_minutes=0)
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    tested = await pixop_client.webhooks.test(webhook.id)
    # A non-test event, recorded as delivered, straight through the hub.
    record = hub(pixop_emulator.state).webhooks[str(webhook.id)]
    real = hub(pixop_emulator.state).enqueue(
        record, "video_out.done", str(uuid.uuid4()), test=False
    )
    await receiver.wait_for(2)
    await asyncio.sleep(0.05)  # let both deliveries record their (failed) answers
    real["successful"] = True

    async def ids(**filters: object) -> set[uuid.UUID]:
        return {e.id async for e in pixop_client.webhooks.events.list(**filters)}  # type: ignore[arg-type]

    assert await ids() >= {tested.id, uuid.UUID(real["id"])}
    assert await ids(test_mode="ONLY") == {tested.id}
    assert uuid.UUID(real["id"]) in await ids(test_mode="EXCLUDE")
    assert tested.id not in await ids(test_mode="EXCLUDE")
    assert await ids(successful_mode="ONLY") == {uuid.UUID(real["id"])}
    assert await ids(occurred_at_from=before) >= {tested.id}
    assert await ids(occurred_at_until=before) == set()
    assert (await pixop_client.webhooks.events.get(tested.id)).id == tested.id
    with pytest.raises(NotFoundError):
        await pixop_client.webhooks.events.get(uuid.uuid4())
    # Test events are deleted after 24 hours.
    pixop_emulator.state.clock.advance(24 * 3600 + 60)
    assert tested.id not in await ids()
    with pytest.raises(BadRequestError):
        await pixop_client._request(
            "GET", "/v1/webhooks/events", params={"occurredAtFrom": "yesterday"}
        )


async def test_public_keys(pixop_client: Pixop, pixop_emulator: EmulatorServer) -> None:
    keys = await pixop_client.webhooks.public_keys.list()
    assert len(keys) == 1 and keys[0].algorithm == "EC" and keys[0].expires_at is None
    hub(pixop_emulator.state).rotate_key()
    rotated = await pixop_client.webhooks.public_keys.list()
    assert len(rotated) == 2
    old = next(k for k in rotated if k.id == keys[0].id)
    assert old.expires_at is not None
    assert await pixop_client.webhooks.public_keys.get(old.id) == old
    pixop_emulator.state.clock.advance(25 * 3600)
    assert [k.id for k in await pixop_client.webhooks.public_keys.list()] != [keys[0].id]
    with pytest.raises(NotFoundError):
        await pixop_client.webhooks.public_keys.get(old.id)


async def test_server_rules_for_urls_and_fields() -> None:
    body = {
        "name": "x",
        "url": "http://127.0.0.1:9/hook",
        "rateLimitPerSecond": 1,
        "eventTypes": ["video.deleted"],
        "active": True,
    }
    changes: list[dict[str, object]] = [
        {},  # http to loopback is refused unless the emulator allows local targets
        {"url": "https://10.0.0.1/hook"},
        {"url": "https://hooks.example.com:8443/hook"},
        {"url": URL, "rateLimitPerSecond": 0},
        {"url": URL, "eventTypes": []},
        {"url": URL, "eventTypes": ["video.exploded"]},
        {"url": URL, "active": None},
    ]
    async with (
        EmulatorServer(EmulatorConfig()) as server,
        Pixop(server.api_key, base_url=server.base_url) as px,
    ):
        for change in changes:
            with pytest.raises(BadRequestError):
                await px._request("POST", "/v1/webhooks", json={**body, **change})


async def test_client_validation(pixop_client: Pixop) -> None:
    bad_calls = [
        ("url", dict(url="http://hooks.example.com/x")),
        ("url", dict(url="https://192.168.1.5/x")),
        ("rate_limit_per_second", dict(rate_limit_per_second=1001)),
        ("event_types", dict(event_types=[])),
        ("event_types[1]", dict(event_types=["video.deleted", "nope"])),
        ("event_types", dict(event_types="video.deleted")),
        ("name", dict(name="")),
    ]
    for field, change in bad_calls:
        kwargs: dict[str, object] = {"name": "n", "url": URL, "event_types": TYPES, **change}
        with pytest.raises(InvalidRequestError) as info:
            await pixop_client.webhooks.create(**kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(InvalidRequestError) as info:  # only http://127.0.0.1 is let through
        await pixop_client.webhooks.create(
            "n", "http://10.0.0.1/x", TYPES, allow_loopback_http=True
        )
    assert info.value.field == "url"
    with pytest.raises(InvalidRequestError):
        await pixop_client.webhooks.update(uuid.uuid4())
    with pytest.raises(InvalidRequestError) as info:
        pixop_client.webhooks.events.list(successful_mode="SOMETIMES")
    assert info.value.field == "successful_mode"
    now = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(InvalidRequestError) as info:
        pixop_client.webhooks.events.list(occurred_at_from=now, occurred_at_until=now)
    assert info.value.field == "occurred_at_until"
    with pytest.raises(InvalidRequestError):
        await pixop_client.webhooks.test(uuid.uuid4(), event_type="video.exploded")


async def test_retry_window_is_read_only_on_create(pixop_client: Pixop) -> None:
    """API 2.1.0: a create ignores ``maxTotalRetryDelayMinutes`` (server default 180); a
    patch may change it."""
    body = {
        "name": "raw",
        "url": URL,
        "rateLimitPerSecond": 2,
        "maxTotalRetryDelayMinutes": 5,
        "eventTypes": ["video.deleted"],
        "active": False,
    }
    response = await pixop_client._request("POST", "/v1/webhooks", json=body)
    created = json.loads(response.body)
    assert created["maxTotalRetryDelayMinutes"] == 180
    updated = await pixop_client.webhooks.update(created["id"], max_total_retry_delay_minutes=5)
    assert updated.max_total_retry_delay_minutes == 5

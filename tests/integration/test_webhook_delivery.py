"""Real webhook deliveries from the emulator to a local endpoint, signatures checked with
``cryptography`` against the keys the API publishes."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.webhook_delivery import hub, may_retry, retry_delay
from pixop_async.models.processing_options import (
    Filters,
    Stabilizer,
    VideoProcessingConfigurationOptions,
)
from pixop_async.models.webhooks import WebhookEvent, WebhookEventType, WebhookPublicKey
from pixop_async.polling import PollIntervals

from .processing_fixtures import Delivery, Receiver, make_source

FAST = PollIntervals(minimum=0.05, maximum=0.2)
#: How far past an announced retry time a test moves a frozen emulator clock (the announced
#: time is written rounded down to whole microseconds).
CLOCK_NUDGE = 1e-5
T = WebhookEventType


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    # speed 50: retry backoff starts at 20 ms instead of 1 s
    return EmulatorConfig(allow_http_sources=True, speed=50)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as endpoint:
        yield endpoint


def verify(delivery: Delivery, keys: list[WebhookPublicKey]) -> WebhookPublicKey:
    """Check a delivery's signature as a receiver must; returns the key that signed it."""
    headers = delivery.headers
    assert headers["X-Pixop-Algorithm"] == "SHA256withECDSA"
    key = next(k for k in keys if str(k.id) == headers["X-Pixop-Public-Key-Id"])
    public = load_der_public_key(base64.b64decode(key.public_key))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    message = headers["X-Pixop-Timestamp"].encode() + b"." + delivery.body
    public.verify(
        base64.b64decode(headers["X-Pixop-Signature"]), message, ec.ECDSA(hashes.SHA256())
    )
    with pytest.raises(InvalidSignature):  # any change to the body breaks it
        public.verify(
            base64.b64decode(headers["X-Pixop-Signature"]),
            message + b" ",
            ec.ECDSA(hashes.SHA256()),
        )
    return key


async def settled(px: Pixop, event_id: uuid.UUID, timeout: float = 10) -> WebhookEvent:
    """The event once its delivery finished (successful is no longer None)."""

    async def poll() -> WebhookEvent:
        while True:
            event = await px.webhooks.events.get(event_id)
            if event.successful is not None:
                return event
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), timeout)


async def test_processing_events_are_delivered_signed_and_recorded(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, receiver: Receiver, tmp_path: Path
) -> None:
    subscribed = [
        T.VIDEO_PROCESSING_STARTED,
        T.VIDEO_PROCESSING_DONE,
        T.VIDEO_PROCESSING_INGESTION_DONE,
    ]
    webhook = await pixop_client.webhooks.create(
        "pipeline", receiver.url, subscribed, rate_limit_per_second=100, allow_loopback_http=True
    )
    await pixop_client.webhooks.create(  # inactive: must receive nothing
        "off", receiver.url, list(T), active=False, allow_loopback_http=True
    )
    source = make_source(pixop_emulator, tmp_path)
    started = await pixop_client.processing.start(
        source["id"],
        VideoProcessingConfigurationOptions(filters=Filters(stabilizer=Stabilizer.DEJIT)),
    )
    await pixop_client.processing.wait(started.video_id, timeout=10, intervals=FAST)
    deliveries = await receiver.wait_for(3)
    await asyncio.sleep(0.1)
    assert len(receiver.deliveries) == 3  # started, done, ingestion done; nothing else

    keys = await pixop_client.webhooks.public_keys.list()
    payloads = [d.json() for d in deliveries]
    assert [p["eventType"] for p in payloads] == [t.value for t in subscribed]
    for delivery, payload in zip(deliveries, payloads, strict=True):
        verify(delivery, keys)
        assert payload["webhookId"] == str(webhook.id)
        assert payload["data"] == {"type": "VIDEO", "videoId": str(started.video_id)}
        assert payload["test"] is False and payload["attemptCount"] == 1
        event = await settled(pixop_client, uuid.UUID(payload["id"]))
        assert event.successful is True
        assert [r.status_code for r in event.responses] == [200]
        assert event.responses[0].response_body == "answer 200"
        assert event.payload.event_type.value == payload["eventType"]


def freeze_clock(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the emulator's clock where it is: it moves only by ``clock.advance``, so the
    times it records are the test's own, whatever the machine's speed."""
    clock = emulator.state.clock
    frozen = clock.time() - clock.offset
    monkeypatch.setattr(clock, "time", lambda: frozen + clock.offset)


async def settled_on_frozen_clock(
    px: Pixop, emulator: EmulatorServer, event_id: uuid.UUID, timeout: float = 30
) -> WebhookEvent:
    """The event once its delivery finished, the frozen clock moved on to each retry's
    announced time (a hair past it: the announced time is rounded down to microseconds)."""

    async def poll() -> WebhookEvent:
        advanced_for: dt.datetime | None = None
        while True:
            event = await px.webhooks.events.get(event_id)
            if event.successful is not None:
                return event
            due = event.next_attempt_earliest_at
            if due is not None and due != advanced_for and event.responses:
                clock = emulator.state.clock
                clock.advance(max(0.0, due.timestamp() - clock.time()) + CLOCK_NUDGE)
                advanced_for = due
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), timeout)


async def test_failed_deliveries_are_retried_with_backoff_then_succeed(
    pixop_client: Pixop,
    pixop_emulator: EmulatorServer,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    freeze_clock(pixop_emulator, monkeypatch)
    receiver.script = [(500, {"X-Why": "broken"}), (503, {}), (502, {})]
    webhook = await pixop_client.webhooks.create(
        "retry",
        receiver.url,
        [T.VIDEO_OUT_DONE],
        rate_limit_per_second=1000,
        allow_loopback_http=True,
    )
    event = await pixop_client.webhooks.test(webhook.id)
    final = await settled_on_frozen_clock(pixop_client, pixop_emulator, event.id)
    assert final.successful is True
    assert [r.status_code for r in final.responses] == [500, 503, 502, 200]
    assert final.responses[0].response_headers is not None
    assert final.responses[0].response_headers.get("X-Why") == "broken"
    assert final.responses[3].response_headers is None  # only kept for failures
    attempts = [d.json()["attemptCount"] for d in receiver.deliveries]
    assert attempts == [1, 2, 3, 4]
    # Exponential: 20, 40, 80 ms (1, 2, 4 s scaled by speed 50) between the attempts, on
    # the emulator's clock (it stood still while each attempt ran and was moved on only
    # to the retry time the emulator announced, plus the nudge): no retry came early and
    # each backoff doubled, however slow the machine.
    sent = [r.requested_at.timestamp() for r in final.responses]
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert gaps == pytest.approx(
        [0.02 + CLOCK_NUDGE, 0.04 + CLOCK_NUDGE, 0.08 + CLOCK_NUDGE], abs=5e-6
    ), gaps


async def test_retries_stop_at_the_total_retry_delay(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, receiver: Receiver
) -> None:
    pixop_emulator.state.config.speed = 1.0  # 1 s, 2 s, 4 s... backoff
    receiver.script = [(500, {})] * 100
    no_retry = await pixop_client.webhooks.create(
        "once", receiver.url, [T.VIDEO_DELETED], allow_loopback_http=True
    )
    await pixop_client.webhooks.update(no_retry.id, max_total_retry_delay_minutes=0)
    event = await pixop_client.webhooks.test(no_retry.id)
    final = await settled(pixop_client, event.id)
    assert final.successful is False and len(final.responses) == 1
    assert final.next_attempt_earliest_at is None

    # One minute allowed: the clock jumps to each retry time while the event waits.
    patient = await pixop_client.webhooks.create(
        "patient", receiver.url, [T.VIDEO_DELETED], allow_loopback_http=True
    )
    await pixop_client.webhooks.update(patient.id, max_total_retry_delay_minutes=1)
    event = await pixop_client.webhooks.test(patient.id)
    for _ in range(200):
        current = await pixop_client.webhooks.events.get(event.id)
        if current.successful is not None:
            break
        if current.next_attempt_earliest_at is not None:
            due = current.next_attempt_earliest_at.timestamp() - pixop_emulator.state.clock.time()
            pixop_emulator.state.clock.advance(max(0.0, due))
        await asyncio.sleep(0.02)
    final = await settled(pixop_client, event.id)
    assert final.successful is False
    # 1+2+4+8+16 = 31 s of backoff fits in a minute, the next 32 s would not.
    assert len(final.responses) == 6


async def test_429_retry_after_is_honoured_and_recorded(
    pixop_client: Pixop, receiver: Receiver
) -> None:
    receiver.script = [(429, {"Retry-After": "1"})]
    webhook = await pixop_client.webhooks.create(
        "busy", receiver.url, [T.VIDEO_OUT_DONE], allow_loopback_http=True
    )
    event = await pixop_client.webhooks.test(webhook.id)
    final = await settled(pixop_client, event.id)
    assert [r.status_code for r in final.responses] == [429, 200]
    assert final.responses[0].response_retry_at is not None
    first, second = receiver.deliveries
    assert second.at - first.at >= 0.9


async def test_deliveries_are_throttled_to_the_webhook_rate(
    pixop_client: Pixop, receiver: Receiver
) -> None:
    webhook = await pixop_client.webhooks.create(
        "slow", receiver.url, [T.VIDEO_OUT_DONE], rate_limit_per_second=10, allow_loopback_http=True
    )
    events = [await pixop_client.webhooks.test(webhook.id) for _ in range(5)]
    deliveries = await receiver.wait_for(5)
    assert sorted(d.json()["id"] for d in deliveries) == sorted(str(e.id) for e in events)
    # When the emulator made each send (its clock; when each one reached the receiver also
    # depends on how busy the machine is): 1/10 s apart at least, in the order asked.
    finals = [await settled(pixop_client, e.id) for e in events]
    assert all([r.status_code for r in f.responses] == [200] for f in finals)
    sent = [f.responses[0].requested_at.timestamp() for f in finals]
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.1 - 2e-6, gaps


async def test_key_rotation_keeps_old_deliveries_verifiable(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, receiver: Receiver
) -> None:
    webhook = await pixop_client.webhooks.create(
        "rot", receiver.url, [T.VIDEO_OUT_DONE], allow_loopback_http=True
    )
    await pixop_client.webhooks.test(webhook.id)
    hub(pixop_emulator.state).rotate_key()
    await pixop_client.webhooks.test(webhook.id)
    first, second = await receiver.wait_for(2)
    keys = await pixop_client.webhooks.public_keys.list()
    assert len(keys) == 2
    assert verify(first, keys).id != verify(second, keys).id


def test_retry_schedule_is_pure() -> None:
    assert [retry_delay(n, base=1, cap=10) for n in range(1, 6)] == [1, 2, 4, 8, 10]
    assert may_retry(0, 60, 1) and not may_retry(0, 60.5, 1)
    assert not may_retry(0, 0.1, 0)

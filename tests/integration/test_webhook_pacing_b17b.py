"""Breaker b17b: the emulator's per-webhook pacing (FIFO from the previous send as made)
with several webhooks, retries, a receiver down then up, a rate change and a webhook
deleted while its sends wait their turn. Times asserted are the emulator's (requestedAt:
the paced send time), so a busy machine changes none of them."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.webhook_delivery import hub

from .processing_fixtures import Receiver
from .test_webhook_delivery import (  # noqa: F401  (fixtures)
    T,
    freeze_clock,
    pixop_emulator_config,
    receiver,
    settled,
)


async def test_a_webhook_deleted_while_its_sends_wait_their_turn_gets_none_of_them(
    pixop_client: Pixop,
    pixop_emulator: EmulatorServer,
    receiver: Receiver,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    freeze_clock(pixop_emulator, monkeypatch)  # the queued sends wait until the test moves it
    webhook = await pixop_client.webhooks.create(
        "gone",
        receiver.url,
        [T.VIDEO_OUT_DONE],
        rate_limit_per_second=1,
        allow_loopback_http=True,
    )
    events = [await pixop_client.webhooks.test(webhook.id) for _ in range(3)]
    await receiver.wait_for(1)  # the first went at once; two wait 1 s and 2 s behind it
    await pixop_client.webhooks.delete(webhook.id)
    for _ in range(3):  # each waits 1 s after the one before it (or it would have)
        pixop_emulator.state.clock.advance(1.1)
        await asyncio.sleep(0.1)
    finals = [await settled(pixop_client, e.id) for e in events]
    await asyncio.sleep(0.1)
    assert len(receiver.deliveries) == 1, [d.json()["id"] for d in receiver.deliveries]
    assert [f.successful for f in finals] == [True, False, False]
    assert [len(f.responses) for f in finals] == [1, 0, 0]


async def test_several_webhooks_each_paced_from_its_own_sends_retries_included(
    pixop_client: Pixop,
    pixop_emulator: EmulatorServer,
    receiver: Receiver,  # noqa: F811
) -> None:
    """Three webhooks at 20 sends/s, five events each; the receiver is down for the first
    six requests (retries 20 ms, 40 ms... later at speed 50). Every send to one webhook,
    retries included, is made at least 50 ms after the previous one (emulator clock), the
    first attempts in the order the events were made, and every event ends delivered."""
    receiver.script = [(503, {})] * 6
    webhooks = [
        await pixop_client.webhooks.create(
            f"w{i}",
            receiver.url,
            [T.VIDEO_OUT_DONE],
            rate_limit_per_second=20,
            allow_loopback_http=True,
        )
        for i in range(3)
    ]
    events = {w.id: [] for w in webhooks}  # type: ignore[var-annotated]
    for _ in range(5):
        for w in webhooks:
            events[w.id].append(await pixop_client.webhooks.test(w.id))
    for w in webhooks:
        finals = [await settled(pixop_client, e.id, timeout=30) for e in events[w.id]]
        assert all(f.successful for f in finals)
        sends = sorted(r.requested_at.timestamp() for f in finals for r in f.responses)
        gaps = [b - a for a, b in itertools.pairwise(sends)]
        assert min(gaps) >= 0.05 - 2e-6, (w.name, gaps)
        firsts = [f.responses[0].requested_at for f in finals]
        assert firsts == sorted(firsts), w.name
    assert len(receiver.deliveries) == 15 + 6


async def test_a_rate_lowered_while_sends_queue_paces_the_rest_at_the_new_rate(
    pixop_client: Pixop,
    pixop_emulator: EmulatorServer,
    receiver: Receiver,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    freeze_clock(pixop_emulator, monkeypatch)
    clock = pixop_emulator.state.clock
    webhook = await pixop_client.webhooks.create(
        "slower",
        receiver.url,
        [T.VIDEO_OUT_DONE],
        rate_limit_per_second=10,
        allow_loopback_http=True,
    )
    events = [await pixop_client.webhooks.test(webhook.id) for _ in range(4)]
    await receiver.wait_for(1)
    await pixop_client.webhooks.update(webhook.id, rate_limit_per_second=1)
    for count in (2, 3, 4):
        clock.advance(0.5)
        await asyncio.sleep(0.1)
        clock.advance(0.6)
        await receiver.wait_for(count)
    finals = [await settled(pixop_client, e.id) for e in events]
    sends = [f.responses[0].requested_at.timestamp() for f in finals]
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    # the second was already waiting out the old 0.1 s gap; the rest keep 1 s
    assert gaps[0] >= 0.1 - 2e-6 and min(gaps[1:]) >= 1.0 - 2e-6, gaps
    assert hub(pixop_emulator.state).webhooks[str(webhook.id)]["rateLimitPerSecond"] == 1

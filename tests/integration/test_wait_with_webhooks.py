"""Pollers woken by webhooks: ``wait(..., receiver=...)`` ends on the event, not the interval."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.errors import PollTimeoutError
from pixop_async.models.processing import OperationStatus
from pixop_async.polling import PollIntervals
from pixop_async.webhooks import PublicKeyCache, WebhookReceiver

from .processing_fixtures import make_source
from .test_processing import OPTIONS

#: Polling alone would look again only after 30 s: longer than any timeout below.
SLOW = PollIntervals(minimum=30, maximum=60)


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=30, allow_http_sources=True)


@pytest_asyncio.fixture
async def subscribed(pixop_client: Pixop) -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(PublicKeyCache(pixop_client), queue=False)
    async with receiver.serve() as url:
        await pixop_client.webhooks.create(
            "waiter",
            url,
            [
                "video_processing.done",
                "video_processing.failed",
                "video_processing_ingestion.done",
                "video_processing_ingestion.failed",
                "video_out.done",
                "video_out.failed",
            ],
            allow_loopback_http=True,
        )
        yield receiver


async def test_processing_wait_ends_on_the_webhook(
    pixop_client: Pixop,
    pixop_emulator: EmulatorServer,
    subscribed: WebhookReceiver,
    tmp_path: Path,
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    job = await pixop_client.processing.start(source["id"], OPTIONS)
    started = time.monotonic()
    final = await pixop_client.processing.wait(
        job.video_id, timeout=60, intervals=SLOW, receiver=subscribed
    )
    # Polling alone could not have looked a second time before 30 s had passed.
    assert time.monotonic() - started < SLOW.minimum
    assert final.status == OperationStatus.DONE
    video = await pixop_client.videos.get(job.video_id)
    assert video.flags.is_processed


async def test_without_the_receiver_the_wait_sleeps_its_interval(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The control: plain polling only sees the end at its next poll (here the deadline)."""
    source = make_source(pixop_emulator, tmp_path)
    job = await pixop_client.processing.start(source["id"], OPTIONS, end_pos_ms=4000)
    started = time.monotonic()
    try:
        await pixop_client.processing.wait(job.video_id, timeout=1.5, intervals=SLOW)
    except PollTimeoutError as exc:
        assert exc.last_state is not None  # even with no time left, it reports a state
    assert time.monotonic() - started >= 1.4


async def test_a_receiver_without_events_falls_back_to_polling(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """No webhook points at this receiver: the wait still ends, by polling."""
    silent = WebhookReceiver({}, queue=False)
    source = make_source(pixop_emulator, tmp_path)
    job = await pixop_client.processing.start(source["id"], OPTIONS)
    fast = PollIntervals(minimum=0.05, maximum=0.2)
    final = await pixop_client.processing.wait(
        job.video_id, timeout=20, intervals=fast, receiver=silent
    )
    assert final.status == OperationStatus.DONE

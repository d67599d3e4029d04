"""Footguns a new user hit: ``fail_jobs_of(UUID)``, ``async for`` over public keys."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pixop_async import Pixop
from pixop_async.cli.demo_steps import UPSCALE
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator import processing_engine as pe
from pixop_async.errors import OperationFailedError
from pixop_async.models.webhooks import WebhookPublicKey
from pixop_async.polling import PollIntervals

from .processing_fixtures import make_source

FAST = PollIntervals(minimum=0.05, maximum=0.2)
OPTIONS = UPSCALE


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=60)


async def test_fail_jobs_of_takes_a_uuid(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    pe.engine(pixop_emulator.state).fail_jobs_of(uuid.UUID(source["id"]))
    started = await pixop_client.processing.start(source["id"], OPTIONS)
    with pytest.raises(OperationFailedError):
        await pixop_client.processing.wait(started.video_id, timeout=10, intervals=FAST)


def test_fail_jobs_of_refuses_what_is_not_a_video_id(tmp_path: Path) -> None:
    from pixop_async.emulator.state import EmulatorState

    state = EmulatorState(EmulatorConfig(data_dir=tmp_path))
    try:
        with pytest.raises(ValueError, match="not a video id"):
            pe.engine(state).fail_jobs_of("video-1")
        upper = "6C1C3C1E-3AD2-4B8E-9D1F-6A1F1FB0B0A1"
        pe.engine(state).fail_jobs_of(upper)
        assert pe.engine(state).failing_sources == {upper.lower()}
    finally:
        state.close()


async def test_public_keys_support_await_and_async_for(pixop_client: Pixop) -> None:
    listed = await pixop_client.webhooks.public_keys.list()
    walked = [key async for key in pixop_client.webhooks.public_keys.list()]
    assert listed and all(isinstance(k, WebhookPublicKey) for k in listed)
    assert [k.id for k in walked] == [k.id for k in listed]

"""Many concurrent watchers of one client share its rate-limit budget: no 429, ever.

The emulator allows 240 requests a minute per key. Ten jobs take ~1.5 s each; ten watchers
polling every 50 ms without pacing would need ~300 requests in that time, so the control
run (same scenario, no shared budget, fresh key) must hit 429 — which shows the paced run's
silence is the budget's doing. Retries are disabled so any 429 surfaces as an error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pixop_async import ClientConfig, Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.errors import RateLimitError
from pixop_async.models.processing import OperationStatus, VideoProcessingStatus
from pixop_async.models.processing_options import (
    Denoiser,
    Filters,
    VideoProcessingConfigurationOptions,
)
from pixop_async.polling import PollIntervals, watch
from pixop_async.retry import RetryPolicy

from .processing_fixtures import make_source

WATCHERS = 10
LIMIT = 240
EAGER = PollIntervals(minimum=0.05, maximum=0.05)
OPTIONS = VideoProcessingConfigurationOptions(filters=Filters(denoiser=Denoiser.DENOISE))
NO_RETRY = ClientConfig(retry=RetryPolicy(max_attempts=1))


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(rate_limit_per_minute=LIMIT, speed=2.0)


def fresh_client(server: EmulatorServer, name: str) -> Pixop:
    """A client on its own API key (its own rate-limit window), without retries."""
    _, secret = server.state.add_api_key(server.state.seed_user_id, name)
    return Pixop(secret, base_url=server.base_url, config=NO_RETRY)


async def start_jobs(px: Pixop, server: EmulatorServer, directory: Path) -> list[str]:
    sources = [make_source(server, directory, name=f"s{i}") for i in range(WATCHERS)]
    started = [await px.processing.start(s["id"], OPTIONS) for s in sources]
    return [str(s.video_id) for s in started]


async def test_concurrent_watchers_never_see_429(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    async with fresh_client(pixop_emulator, "paced") as px:
        video_ids = await start_jobs(px, pixop_emulator, tmp_path)

        async def follow(video_id: str) -> list[VideoProcessingStatus]:
            return [s async for s in px.processing.watch(video_id, timeout=30, intervals=EAGER)]

        histories = await asyncio.gather(*(follow(v) for v in video_ids))
        for history in histories:
            assert history[-1].status == OperationStatus.DONE
            assert history[-1].progress_percentage == 100
        budget = px.poll_budget
        assert budget.in_flight == 0
        assert budget.granted >= WATCHERS  # every poll went through the shared budget
        # creates and polls share one budget now: every call was granted by it, and with
        # retries off any 429 would have raised
        assert budget.granted >= 2 * WATCHERS


async def test_bare_watch_is_paced_by_the_client_budget(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """A hand-rolled ``watch`` without ``budget=`` still goes through the session's budget:
    every call of a client is paced, not only the SDK's own pollers."""
    async with fresh_client(pixop_emulator, "bare") as px:
        video_ids = await start_jobs(px, pixop_emulator, tmp_path)

        async def follow(video_id: str) -> None:
            async for _ in watch(
                lambda: px.processing.status(video_id),
                is_terminal=lambda s: s.is_terminal,
                timeout=30,
                intervals=EAGER,
            ):
                pass

        await asyncio.gather(*(follow(v) for v in video_ids))  # no RateLimitError
        assert px.budget.in_flight == 0


async def test_control_without_the_client_budget_hits_429(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    async with fresh_client(pixop_emulator, "unpaced") as px:
        video_ids = await start_jobs(px, pixop_emulator, tmp_path)
        px._http.budget = None  # the control: nothing paces the calls

        with pytest.raises(RateLimitError):
            await asyncio.gather(
                *(px.processing.status(video_ids[i % WATCHERS]) for i in range(LIMIT + 20))
            )

"""Imports against the emulator: real ranged fetches, checksums, restarts, S3 stand-ins."""

from __future__ import annotations

import asyncio
import itertools
import os

import google_crc32c
import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer, buckets
from pixop_async.emulator.fetcher import plan_parts
from pixop_async.emulator.lifecycle import media_of, world
from pixop_async.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    OperationFailedError,
    PollTimeoutError,
)
from pixop_async.models.locations import S3BucketWithAccessKeys
from pixop_async.models.videos import OperationStatus

from .video_helpers import FAST, Events, fast_config, serve

DATA = os.urandom(2_500_000)
CREDS = S3BucketWithAccessKeys("source-bucket", "AKIASOURCE123", "source-secret-key")


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return fast_config()


async def test_https_import_fetches_with_ranges_then_ingests_and_clips(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    events = Events(pixop_emulator)
    async with serve(DATA) as source:
        source.delay = 0.02
        started = await pixop_client.imports.from_https(
            source.url,
            "Holiday Film",
            description="first import",
            crc32c=google_crc32c.value(DATA),
            full_ingestion=True,
            max_concurrent_connections=3,
            allow_loopback_http=True,
        )
        assert started.upload_status == OperationStatus.IN_PROGRESS
        assert started.upload.file is not None
        assert started.upload.file.size == len(DATA)
        assert started.upload.file.name == "holiday-film.mp4"
        seen = [s async for s in pixop_client.imports.watch(started.video_id, intervals=FAST)]
        final = await pixop_client.imports.wait_ingested(
            started.video_id, timeout=20, intervals=FAST
        )
    assert seen[-1].upload_status == OperationStatus.DONE
    # Real parallel ranged fetching, never beyond the connection limit.
    assert 1 < source.max_in_flight <= 3
    assert sorted(source.ranges)[0][0] == 0 and len(source.ranges) >= 3
    stored = media_of(pixop_emulator.state, str(started.video_id))
    assert stored is not None and stored.path.read_bytes() == DATA
    assert final.ingestion_status == OperationStatus.DONE
    assert final.ingestion is not None
    assert final.ingestion.metadata.size == len(DATA)
    assert final.ingestion.ingestion_state.web_video_available is True
    video = await pixop_client.videos.get(started.video_id)
    assert video.description == "first import" and video.flags.is_ingested
    # The free clip follows as a derived video with its own events.
    for _ in range(100):
        clips = (await pixop_client.videos.derived(started.video_id)).items
        if clips and clips[0].flags.is_ingested:
            break
        await asyncio.sleep(0.02)
    assert len(clips) == 1 and clips[0].flags.is_clip
    assert clips[0].master_video is not None and clips[0].master_video.id == started.video_id
    assert events.of(started.video_id) == [
        "video_in.started",
        "video_in.done",
        "video_in_ingestion.started",
        "video_in_ingestion.done",
    ]
    assert events.of(clips[0].id) == [
        "clip_processing.started",
        "clip_processing.done",
        "clip_ingestion.started",
        "clip_ingestion.done",
    ]


async def test_checksum_mismatch_fails_then_restart_skipping_validation(
    pixop_client: Pixop,
) -> None:
    async with serve(DATA) as source:
        wrong = (google_crc32c.value(DATA) + 1) % 2**32
        started = await pixop_client.imports.from_https(
            source.url, "bad sum", crc32c=wrong, allow_loopback_http=True
        )
        vid = started.video_id
        with pytest.raises(OperationFailedError) as failed:
            await pixop_client.imports.wait(vid, timeout=10, intervals=FAST)
        assert failed.value.error_code == "CHECKSUM_MISMATCH"
        state = failed.value.state
        assert state.upload.upload_state.error.details["actualCrc32c"] == google_crc32c.value(DATA)
        with pytest.raises(ConflictError) as refused:
            await pixop_client.imports.restart(vid)
        assert refused.value.error_code == "VIDEO_IN_RESTART_CHECKSUM_MISMATCH"
        fetched_before = len(source.ranges)
        restarted = await pixop_client.imports.restart(vid, skip_checksum_validation=True)
        assert restarted.upload_status == OperationStatus.IN_PROGRESS
        done = await pixop_client.imports.wait(vid, timeout=10, intervals=FAST)
        assert done.upload_status == OperationStatus.DONE
        assert len(source.ranges) == fetched_before  # nothing fetched twice
        for call in (pixop_client.imports.restart, pixop_client.imports.abandon):
            with pytest.raises(ConflictError) as not_failed:
                await call(vid)
            assert not_failed.value.error_code == "VIDEO_IN_OPERATION_NOT_FAILED"


async def test_broken_source_fails_and_restart_fetches_only_missing_parts(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    async with serve(DATA) as source:
        # Parts are planned at fixed offsets; break the second one.
        source.broken_offsets.add(plan_parts(len(DATA), 2)[1][0])
        started = await pixop_client.imports.from_https(
            source.url, "flaky", max_concurrent_connections=2, allow_loopback_http=True
        )
        with pytest.raises(OperationFailedError):
            await pixop_client.imports.wait(started.video_id, timeout=10, intervals=FAST)
        job = world(pixop_emulator.state).imports[str(started.video_id)]
        missing = len(job.download.parts) - len(job.download.done)
        assert missing >= 1
        source.broken_offsets.clear()
        source.ranges.clear()
        await pixop_client.imports.restart(started.video_id)
        await pixop_client.imports.wait(started.video_id, timeout=10, intervals=FAST)
    assert len(source.ranges) == missing
    stored = media_of(pixop_emulator.state, str(started.video_id))
    assert stored is not None and stored.path.read_bytes() == DATA


async def test_abandon_failed_import_removes_video_and_frees_project(
    pixop_client: Pixop,
) -> None:
    project = await pixop_client.projects.create("Imports")
    async with serve(DATA) as source:
        started = await pixop_client.imports.from_https(
            source.url,
            "to abandon",
            project_id=project.id,
            crc32c=0,
            allow_loopback_http=True,
        )
        with pytest.raises(OperationFailedError):
            await pixop_client.imports.wait(started.video_id, timeout=10, intervals=FAST)
    await pixop_client.imports.abandon(started.video_id)
    with pytest.raises(NotFoundError):
        await pixop_client.videos.get(started.video_id)
    await pixop_client.projects.delete(project.id)


async def test_sources_the_service_refuses(pixop_client: Pixop) -> None:
    async with serve(DATA) as source:
        source.no_ranges = True
        with pytest.raises(BadRequestError) as no_ranges:
            await pixop_client.imports.from_https(source.url, "x", allow_loopback_http=True)
        assert no_ranges.value.error_code == "CONTENT_NOT_PARTIAL_ERROR"
        source.no_ranges = False
        source.claimed_size = 500 * 1024**3 + 1
        with pytest.raises(BadRequestError) as too_big:
            await pixop_client.imports.from_https(source.url, "x", allow_loopback_http=True)
        assert "500 GB" in str(too_big.value)
    videos = await pixop_client.videos.list()
    assert videos.total_elements == 0


async def test_emulator_enforces_url_rules_without_the_test_option() -> None:
    async with (
        EmulatorServer(EmulatorConfig()) as emu,
        Pixop(emu.api_key, base_url=emu.base_url) as px,
        serve(DATA) as source,
    ):
        with pytest.raises(BadRequestError) as refused:
            await px.imports.from_https(source.url, "x", allow_loopback_http=True)
        assert refused.value.error_code == "INVALID_HTTPS_URL"
        assert source.ranges == []


async def test_import_waits_time_out_with_last_state(pixop_client: Pixop) -> None:
    async with serve(DATA) as source:
        source.gate.clear()
        started = await pixop_client.imports.from_https(
            source.url, "slow", allow_loopback_http=True
        )
        with pytest.raises(PollTimeoutError) as timed_out:
            await pixop_client.imports.wait(started.video_id, timeout=0.2, intervals=FAST)
        assert timed_out.value.last_state.upload_status == OperationStatus.IN_PROGRESS
        source.gate.set()
        await pixop_client.imports.wait(started.video_id, timeout=10, intervals=FAST)


async def test_s3_imports_read_stand_in_buckets(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    state = pixop_emulator.state
    buckets.create_bucket(
        state, CREDS.bucket, access_key=CREDS.access_key, secret_access_key=CREDS.secret_access_key
    )
    buckets.put_object(state, CREDS.bucket, "in/film.mov", DATA)
    started = await pixop_client.imports.from_s3(CREDS, "in/film.mov", "From S3")
    done = await pixop_client.imports.wait_ingested(started.video_id, timeout=10, intervals=FAST)
    assert done.upload.file is not None and done.upload.file.type == "video/quicktime"
    assert done.ingestion is not None and done.ingestion.metadata.container_name == "mov"
    stored = media_of(state, str(started.video_id))
    assert stored is not None and stored.path.read_bytes() == DATA

    with pytest.raises(NotFoundError) as no_key:
        await pixop_client.imports.from_s3(CREDS, "in/missing.mov", "x")
    assert no_key.value.error_code == "KEY_NOT_FOUND"
    other = S3BucketWithAccessKeys("no-such-bucket", "AKIA", "secret")
    with pytest.raises(NotFoundError) as no_bucket:
        await pixop_client.imports.from_s3(other, "in/film.mov", "x")
    assert no_bucket.value.error_code == "BUCKET_NOT_FOUND"
    wrong = S3BucketWithAccessKeys(CREDS.bucket, CREDS.access_key, "not-the-secret")
    with pytest.raises(BadRequestError):
        await pixop_client.imports.from_s3(wrong, "in/film.mov", "x")

    location = await pixop_client.input_locations.create(
        "sources", CREDS.bucket, CREDS.access_key, CREDS.secret_access_key
    )
    via_location = await pixop_client.imports.from_s3_location(
        location.id, "in/film.mov", "Via location", file_name="renamed.mov"
    )
    done = await pixop_client.imports.wait(via_location.video_id, timeout=10, intervals=FAST)
    assert done.upload.file is not None and done.upload.file.name == "renamed.mov"


async def test_s3_object_over_500_gb_is_refused(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    path = buckets.put_object(pixop_emulator.state, "huge-bucket", "big.mp4", b"")
    with path.open("r+b") as handle:
        handle.truncate(500 * 1024**3 + 1)  # sparse: no disk used
    creds = S3BucketWithAccessKeys("huge-bucket", "AKIA123", "secret")
    with pytest.raises(BadRequestError) as refused:
        await pixop_client.imports.from_s3(creds, "big.mp4", "too big")
    assert "500 GB" in str(refused.value)


async def test_free_clip_can_be_disabled_per_team(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    team = pixop_emulator.state.default_team(pixop_emulator.state.seed_user_id)
    assert team is not None
    world(pixop_emulator.state).free_clip_disabled.add(team["id"])
    buckets.put_object(pixop_emulator.state, "plain-bucket", "a.mp4", DATA[:100_000])
    creds = S3BucketWithAccessKeys("plain-bucket", "AKIA123", "secret")
    started = await pixop_client.imports.from_s3(creds, "a.mp4", "no clip")
    await pixop_client.imports.wait_ingested(started.video_id, timeout=10, intervals=FAST)
    await asyncio.sleep(0.2)
    assert (await pixop_client.videos.derived(started.video_id)).total_elements == 0


async def test_watch_ingestion_reports_growing_progress(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    buckets.put_object(pixop_emulator.state, "watch-bucket", "w.mp4", DATA[:200_000])
    creds = S3BucketWithAccessKeys("watch-bucket", "AKIA123", "secret")
    started = await pixop_client.imports.from_s3(creds, "w.mp4", "watched", full_ingestion=True)
    states = [
        s async for s in pixop_client.imports.watch_ingestion(started.video_id, intervals=FAST)
    ]
    assert states[-1].ingestion_status == OperationStatus.DONE
    assert len(states) >= 2
    assert all(a != b for a, b in itertools.pairwise(states))  # only changes are yielded
    progress = [
        s.ingestion.ingestion_state.progress_percentage for s in states if s.ingestion is not None
    ]
    assert progress == sorted(progress) and progress[-1] == 100

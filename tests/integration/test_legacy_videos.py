"""Legacy videos service: projects, videos, HAL paging, process-video and progress pollers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from pixop_async import PixopLegacy, errors
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.legacy import legacy_store
from pixop_async.legacy import ProcessVideoRequest
from pixop_async.models.legacy import LegacyStatus
from pixop_async.polling import PollIntervals
from tests.integration.legacy_helpers import legacy_client

FAST = PollIntervals(minimum=0.02, maximum=0.1)


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=40.0)


@pytest_asyncio.fixture
async def legacy(pixop_emulator: EmulatorServer) -> AsyncIterator[PixopLegacy]:
    async with legacy_client(pixop_emulator) as client:
        yield client


async def uploaded_video(legacy: PixopLegacy, tmp_path: Path, name: str = "clip") -> uuid.UUID:
    created = await legacy.videos.create(name=name)
    source = tmp_path / f"{name}.mov"
    source.write_bytes(b"\x00\x01" * 20_000)
    await legacy.media.upload(created.video_id, source)
    await legacy.videos.wait_ingested(created.video_id, timeout=10, intervals=FAST)
    return created.video_id


async def test_project_lifecycle(legacy: PixopLegacy) -> None:
    project = await legacy.videos.create_project("Archive")
    assert project.name == "Archive"
    fetched = await legacy.videos.get_project(project.id)
    assert fetched.id == project.id and fetched.team_id == project.team_id
    renamed = await legacy.videos.update_project(project.id, name="Archive 1970s")
    assert renamed.name == "Archive 1970s"
    assert (await legacy.videos.get_project(project.id)).name == "Archive 1970s"
    video = await legacy.videos.create(name="in project", project_id=project.id)
    with pytest.raises(errors.ConflictError) as info:
        await legacy.videos.delete_project(project.id)
    assert info.value.error_code == "ProjectNotEmptyException"
    assert await legacy.videos.delete(video.video_id) == [video.video_id]
    await legacy.videos.delete_project(project.id)
    with pytest.raises(errors.NotFoundError) as gone:
        await legacy.videos.get_project(project.id)
    assert gone.value.error_code == "ProjectNotFoundException"


async def test_project_input_validated_client_side(legacy: PixopLegacy) -> None:
    for call, field in (
        (legacy.videos.create_project(""), "name"),
        (legacy.videos.get_project("nope"), "project_id"),
        (legacy.videos.update_project(uuid.uuid4(), name="x" * 256), "name"),
    ):
        with pytest.raises(errors.InvalidRequestError) as info:
            await call
        assert info.value.field == field
    with pytest.raises(errors.InvalidRequestError):
        legacy.videos.list_projects(page_size=0)
    assert legacy.jwt_auth.refresh_count == 0


async def test_hal_pagination_follows_next_links(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer
) -> None:
    names = [f"p{i:02d}" for i in range(7)]
    for name in names:
        await legacy.videos.create_project(name)
    pages = [page async for page in legacy.videos.list_projects(page_size=3).pages()]
    assert [len(p.items) for p in pages] == [3, 3, 2]  # 7 + the seeded default project
    assert pages[0].next_href is not None and pages[-1].next_href is None
    listed = [p.name async for p in legacy.videos.list_projects(page_size=3)]
    assert listed == ["Default Project", *names]
    second = await legacy.videos.list_projects(page=1, page_size=3)
    assert [p.name for p in second.items] == names[2:5]


async def test_video_create_get_list_and_filters(legacy: PixopLegacy, tmp_path: Path) -> None:
    project = await legacy.videos.create_project("Films")
    created = await legacy.videos.create(name="reel", project_id=project.id)
    assert created.project_id == project.id
    assert created.upload_media_url and created.upload_media_url.endswith(str(created.video_id))
    assert created.process_video_url and "/videos/v1/process-video/" in created.process_video_url
    other = await legacy.videos.create()  # default project, default name
    video = await legacy.videos.get(created.video_id)
    assert video.name == "reel" and video.project_id == project.id
    assert video.upload is not None and video.upload.has_finished_uploading is False
    assert video.upload.upload_state is not None
    assert video.upload.upload_state.upload_status is LegacyStatus.INITIAL
    in_project = [v.id async for v in legacy.videos.list(project_id=project.id)]
    assert in_project == [created.video_id]
    everything = {v.id async for v in legacy.videos.list(page_size=1)}
    assert everything == {created.video_id, other.video_id}
    with pytest.raises(errors.NotFoundError):
        await legacy.videos.create(project_id=uuid.uuid4())
    with pytest.raises(errors.NotFoundError) as info:
        await legacy.videos.get(uuid.uuid4())
    assert info.value.error_code == "VideoNotFoundException"


async def test_process_and_progress(legacy: PixopLegacy, tmp_path: Path) -> None:
    source_id = await uploaded_video(legacy, tmp_path)
    video = await legacy.videos.get(source_id)
    assert video.duration_ms == 60_000
    assert video.ingestion and video.ingestion.quality_assessment is not None
    request = ProcessVideoRequest(
        container="mov",
        codec="prores",
        apple_prores_profile="hq",
        width=1280,
        height=720,
        scaler="pabsr1",
        clarity_boost="medium",
        start_position_ms=1000,
        end_position_ms=11000,
    )
    started = await legacy.videos.process(source_id, request)
    assert started.source_video_id == source_id
    pid = started.processed_video_id
    states = [s async for s in legacy.videos.watch_processing(pid, timeout=10, intervals=FAST)]
    assert states[-1].status is LegacyStatus.DONE
    percents = [
        s.processing_state.processing_progress_percent for s in states if s.processing_state
    ]
    assert percents == sorted(percents) and percents[-1] == 100.0
    final = await legacy.videos.wait_processed(pid, timeout=5, intervals=FAST)
    assert final.status is LegacyStatus.DONE
    processed = await legacy.videos.get(pid)
    assert processed.parent_id == source_id
    params = processed.processing.processing_parameters if processed.processing else None
    assert params is not None and params.target_video is not None
    target = params.target_video
    assert (target.frame_width, target.frame_height) == (1280, 720)
    assert target.codec is not None and target.codec.name == "prores"
    assert target.container is not None and target.container.name == "mov"
    assert params.source_video is not None
    assert params.source_video.start_position_milliseconds == 1000
    assert processed.duration_ms == 10_000
    children = [v.id async for v in legacy.videos.list(parent_id=source_id)]
    assert children == [pid]
    # Deleting the original deletes what was processed from it.
    assert set(await legacy.videos.delete(source_id)) == {source_id, pid}
    with pytest.raises(errors.NotFoundError):
        await legacy.videos.get(pid)


async def test_process_refusals(legacy: PixopLegacy, tmp_path: Path) -> None:
    fresh = await legacy.videos.create(name="empty")
    with pytest.raises(errors.ConflictError) as not_ready:
        await legacy.videos.process(fresh.video_id, tag="hd_1080p")
    assert not_ready.value.error_code == "VideoNotReadyException"
    source_id = await uploaded_video(legacy, tmp_path)
    with pytest.raises(errors.InvalidRequestError) as clip:
        await legacy.videos.process(source_id, start_position_ms=0, end_position_ms=60_001)
    assert clip.value.field == "end_position_ms"
    with pytest.raises(errors.InvalidRequestError) as rule:
        await legacy.videos.process(source_id, codec="h264", apple_prores_profile="hq")
    assert rule.value.field == "apple_prores_profile"
    # The emulator enforces the table too, for clients that skip validation.
    url = legacy.service_url("videos", f"/v1/process-video/{source_id}")
    bad_bodies = {
        "dnxhdHrProfile": {"mediaContainerCodec": {"codec": "h264"}, "dnxhdHrProfile": "dnxhr_hq"},
        "mbps": {"bitrate": {"mbps": 5000}},
        "width": {"resolution": {"tag": "uhd_4k", "width": 100, "height": 100}},
        "endPositionMilliseconds": {"range": {"endPositionMilliseconds": 70_000}},
        "clarityBoost": {"clarityBoost": "high"},
        "yuv": {"chromaSubsampling": {"yuv": "4:2:1"}},
    }
    for field, body in bad_bodies.items():
        with pytest.raises(errors.BadRequestError) as info:
            await legacy.request("POST", url, json=body)
        assert info.value.error_code == "InvalidProcessVideoRequestException"
        assert field in info.value.message
    with pytest.raises(errors.ConflictError):
        await legacy.videos.process_progress(source_id)  # an original is not a processing run


async def test_failed_processing_raises_operation_failed(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source_id = await uploaded_video(legacy, tmp_path)
    started = await legacy.videos.process(source_id)
    legacy_store(pixop_emulator.app).failing_videos.add(str(started.processed_video_id))
    with pytest.raises(errors.OperationFailedError) as info:
        await legacy.videos.wait_processed(started.processed_video_id, timeout=10, intervals=FAST)
    assert info.value.state.status is LegacyStatus.FAILED


async def test_ingest_watch_and_timeout(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    created = await legacy.videos.create(name="watch me")
    before = await legacy.videos.ingest_progress(created.video_id)
    assert before.status is LegacyStatus.INITIAL
    with pytest.raises(errors.PollTimeoutError) as info:
        await legacy.videos.wait_ingested(created.video_id, timeout=0.1, intervals=FAST)
    assert info.value.last_state.status is LegacyStatus.INITIAL
    source = tmp_path / "w.mp4"
    source.write_bytes(b"w" * 1000)
    await legacy.media.upload_light(created.video_id, source)
    seen = [
        s.status
        async for s in legacy.videos.watch_ingestion(created.video_id, timeout=10, intervals=FAST)
    ]
    assert seen[-1] is LegacyStatus.DONE
    video = await legacy.videos.get(created.video_id)
    assert video.ingestion is not None and video.ingestion.metadata is not None
    assert video.ingestion.quality_assessment is None  # light ingestion: metadata only

"""Processing against the emulator: start, status, wait/watch, appraisals, segment rules."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from pixop_async import Pixop
from pixop_async.cli.demo_steps import UPSCALE
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator import processing_engine as pe
from pixop_async.emulator.lifecycle import media_of
from pixop_async.errors import (
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OperationFailedError,
    PollTimeoutError,
)
from pixop_async.models.processing import (
    OperationStatus,
    VideoProcessingJobAppraisalPixopCredits,
    job_appraisal_of,
)
from pixop_async.polling import PollIntervals

from .processing_fixtures import SOURCE_SECONDS, make_source

FAST = PollIntervals(minimum=0.05, maximum=0.2)
#: 2x DVRES2 to H.264 in MP4: the options the ``pixop demo`` upscale step uses.
OPTIONS = UPSCALE


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=30)


async def test_start_creates_a_derived_video_that_processes_and_ingests(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    started = await pixop_client.processing.start(
        source["id"], OPTIONS, video_name="upscaled", video_description="2x", end_pos_ms=2500
    )
    assert str(started.video_id) != source["id"]
    assert started.status in (OperationStatus.IN_PROGRESS, OperationStatus.INITIAL)

    seen = [s async for s in pixop_client.processing.watch(started.video_id, intervals=FAST)]
    assert seen[-1].status == OperationStatus.DONE
    assert seen[-1].progress_percentage == 100
    percents = [s.progress_percentage for s in seen if s.progress_percentage is not None]
    assert percents == sorted(percents)

    final = await pixop_client.processing.wait(started.video_id, timeout=10, intervals=FAST)
    assert final.status == OperationStatus.DONE
    record = pixop_emulator.state.videos[str(started.video_id)]
    assert record["name"] == "upscaled" and record["description"] == "2x"
    assert record["flags"]["isProcessed"] and record["flags"]["isIngested"]
    assert record["masterVideo"]["id"] == source["id"]
    assert record["processing"]["sourceVideo"] == {
        "videoId": source["id"],
        "startPositionMilliseconds": 0,
        "endPositionMilliseconds": 2500,
    }
    assert record["processing"]["options"] == OPTIONS.to_json()
    result_media = media_of(pixop_emulator.state, str(started.video_id))
    source_media = media_of(pixop_emulator.state, source["id"])
    assert result_media is not None and source_media is not None
    assert result_media.path.read_bytes() == source_media.path.read_bytes()
    assert result_media.file_name.endswith(".mp4")


async def test_end_position_is_clamped_to_the_source_duration(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    started = await pixop_client.processing.start(source["id"], OPTIONS, end_pos_ms=10**9)
    record = pixop_emulator.state.videos[str(started.video_id)]
    assert record["processing"]["sourceVideo"]["endPositionMilliseconds"] == SOURCE_SECONDS * 1000


async def test_segment_rules_are_checked_by_client_and_server(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.start(
            source["id"], OPTIONS, start_pos_ms=500, end_pos_ms=1200
        )
    assert info.value.field == "end_pos_ms"
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.start(source["id"], OPTIONS, end_pos_ms=999)
    assert info.value.field == "end_pos_ms"
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.start(source["id"], OPTIONS, start_pos_ms=-1)
    assert info.value.field == "start_pos_ms"
    # Only the server knows the duration (4 s): a start within the last second is refused.
    with pytest.raises(BadRequestError) as bad:
        await pixop_client.processing.start(source["id"], OPTIONS, start_pos_ms=3500)
    assert bad.value.error_code == "INVALID_START_POSITION"
    # The client lets 2000..2500 through only because its own rule needs a full second;
    # send it raw to see the server's code for it.
    with pytest.raises(BadRequestError) as bad:
        await _raw_start(pixop_client, source["id"], {"startPosMs": "2000", "endPosMs": "2500"})
    assert bad.value.error_code == "INVALID_END_POSITION"


async def _raw_start(px: Pixop, video_id: str, params: dict[str, str], body: object = None) -> None:
    await px._request(
        "POST",
        f"/v1/videos/{video_id}/processing/start",
        params=params,
        json=OPTIONS.to_json() if body is None else body,
    )


async def test_server_refuses_invalid_options_with_the_documented_codes(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    cases = [
        (
            {"container": "MP4", "encodingProfile": "PRORES_422_HQ"},
            "CONTAINER_IS_NOT_SUPPORTED_FOR_SELECTED_CODEC",
        ),
        (
            {"filters": {"scaler": "SCALE"}, "filterSettings": {"resolution": {"width": 1280}}},
            "MISSING_CUSTOM_RESOLUTION",
        ),
        ({"filters": {"scaler": "SCALE"}}, "VALIDATION_ERROR"),
        ({"encodingConfiguration": {"bitrate": 5}}, "VALIDATION_ERROR"),
        (
            {"processingSettings": {"outputColorSpaceConversion": {"mappingMode": "STRICT_USER"}}},
            "INVALID_OUTPUT_COLOR_CONVERSION",
        ),
    ]
    for body, code in cases:
        with pytest.raises(BadRequestError) as bad:
            await _raw_start(pixop_client, source["id"], {}, body)
        assert bad.value.error_code == code, body
    # 7680 wide at 4:3 is 5760 high: beyond 8K, which only the computed size reveals.
    resolution = {"width": 7680, "aspectRatioTag": "4:3"}
    too_big = {"filters": {"scaler": "SCALE"}, "filterSettings": {"resolution": resolution}}
    with pytest.raises(BadRequestError) as bad:
        await pixop_client.processing.appraise(source["id"], too_big)
    assert bad.value.error_code == "TARGET_RESOLUTION_OUT_OF_ALLOWED_RANGE"
    with pytest.raises(BadRequestError) as bad:
        await pixop_client._request("POST", f"/v1/videos/{source['id']}/processing/start")
    assert bad.value.error_code == "MISSING_REQUEST_BODY"
    # The client refuses the same options before sending anything.
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.start(source["id"], cases[0][0])
    assert info.value.field == "options.container"


async def test_processing_needs_an_ingested_source(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    pixop_emulator.state.videos[source["id"]]["flags"]["isIngested"] = False
    with pytest.raises(ConflictError) as info:
        await pixop_client.processing.start(source["id"], OPTIONS)
    assert info.value.error_code == "VIDEO_NOT_FULLY_INGESTED"
    with pytest.raises(NotFoundError):
        await pixop_client.processing.start(uuid.uuid4(), OPTIONS)


async def test_wait_raises_operation_failed_for_a_failed_job(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    pe.engine(pixop_emulator.state).fail_jobs_of(source["id"])
    started = await pixop_client.processing.start(source["id"], OPTIONS)
    with pytest.raises(OperationFailedError) as info:
        await pixop_client.processing.wait(started.video_id, timeout=10, intervals=FAST)
    assert info.value.error_code == "VIDEO_PROCESSING_FAILED"
    assert info.value.state.status == OperationStatus.FAILED


async def test_wait_times_out_with_the_last_state(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    pixop_emulator.state.config.speed = 0.01  # ~5 minutes of processing
    source = make_source(pixop_emulator, tmp_path)
    async with Pixop(pixop_emulator.api_key, base_url=pixop_emulator.base_url) as px:
        started = await px.processing.start(source["id"], OPTIONS)
        with pytest.raises(PollTimeoutError) as info:
            await px.processing.wait(started.video_id, timeout=0.3, intervals=FAST)
    assert info.value.last_state.status == OperationStatus.IN_PROGRESS


async def test_appraisal_accept_and_expiry(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    appraisal = await pixop_client.processing.appraise(source["id"], OPTIONS, end_pos_ms=3000)
    job = appraisal.job_appraisal
    assert job is not None and job.currency == "USD"
    assert job.output_duration_millis == 3000
    assert job.total_cost is not None and job.total_cost > Decimal(0)
    assert any("DVRES2" in item.product_name for item in job.job_items)
    assert str(appraisal.video.id) not in pixop_emulator.state.videos  # nothing started yet

    started = await pixop_client.processing.accept_appraisal(
        source["id"], appraisal.appraisal_id, video_name="accepted"
    )
    assert started.video_id == appraisal.video.id
    await pixop_client.processing.wait(started.video_id, timeout=10, intervals=FAST)
    with pytest.raises(NotFoundError):  # an appraisal is used once
        await pixop_client.processing.accept_appraisal(source["id"], appraisal.appraisal_id)

    second = await pixop_client.processing.appraise(source["id"], OPTIONS)
    pixop_emulator.state.clock.advance(15 * 60 + 1)
    with pytest.raises(NotFoundError):
        await pixop_client.processing.accept_appraisal(source["id"], second.appraisal_id)


async def test_appraisal_in_credits_for_aws_marketplace_teams(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path, team_index=1)
    appraisal = await pixop_client.processing.appraise(source["id"], OPTIONS)
    job = job_appraisal_of(appraisal.video)
    assert isinstance(job, VideoProcessingJobAppraisalPixopCredits)
    assert job.currency == "PIXOP_CREDITS"
    assert job.total_cost == job.cost.total_processing_cost_pixop_credits > 0
    assert all(isinstance(item.cost_pixop_credits, int) for item in job.job_items)
    assert not hasattr(job.cost, "discount_percentage")  # AWS teams get no volume discount


async def test_start_and_appraise_with_a_configuration(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = make_source(pixop_emulator, tmp_path)
    conf = await pixop_client.processing_configurations.create("mine", OPTIONS)
    appraisal = await pixop_client.processing.appraise_with_configuration(source["id"], conf.id)
    assert appraisal.video.processing is not None
    assert appraisal.video.processing.options == OPTIONS.to_json()
    started = await pixop_client.processing.start_with_configuration(
        source["id"], conf.id, video_name="from conf"
    )
    final = await pixop_client.processing.wait(started.video_id, timeout=10, intervals=FAST)
    assert final.status == OperationStatus.DONE
    with pytest.raises(NotFoundError):
        await pixop_client.processing.start_with_configuration(source["id"], uuid.uuid4())


async def test_client_validates_ids_and_names_before_sending(pixop_client: Pixop) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.status("not-a-uuid")
    assert info.value.field == "video_id"
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.start(uuid.uuid4(), OPTIONS, video_name="")
    assert info.value.field == "video_name"
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.accept_appraisal(uuid.uuid4(), "x")
    assert info.value.field == "appraisal_id"
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing.start(uuid.uuid4(), 42)  # type: ignore[arg-type]
    assert info.value.field == "options"

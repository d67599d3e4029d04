"""The emulator's pure job pricing: output geometry, frame rate and the priced appraisal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pixop_async.emulator.pricing import CREDITS_PER_USD, output_fps, output_size, price_job
from pixop_async.models.converter import structure
from pixop_async.models.processing import (
    VideoProcessingJobAppraisal,
    VideoProcessingJobAppraisalPixopCredits,
    VideoProcessingJobAppraisalUsd,
)

SCALE = {"scaler": "SCALE"}


@pytest.mark.parametrize(
    ("resolution", "expected"),
    [
        ({"tag": "FULL_HD"}, (1920, 1080)),
        ({"tag": "2X"}, (1440, 1152)),
        ({"width": 1000, "height": 500}, (1000, 500)),
        ({"width": 1024, "aspectRatioTag": "4:3"}, (1024, 768)),
        ({"height": 720, "aspectRatioTag": "16:9"}, (1280, 720)),
    ],
)
def test_output_size(resolution: dict[str, object], expected: tuple[int, int]) -> None:
    options = {"filters": SCALE, "filterSettings": {"resolution": resolution}}
    assert output_size(options, 720, 576) == expected


def test_output_size_without_scaler_and_with_fixed_resolution() -> None:
    assert output_size({}, 720, 576) == (720, 576)
    fixed = {"processingSettings": {"fixedOutputResolution": "UHD_4K"}}
    assert output_size(fixed, 720, 576) == (3840, 2160)


def test_output_fps() -> None:
    assert output_fps({}, 25) == 25
    assert output_fps({"filters": {"deinterlacer": "BWDIF"}}, 25) == 50
    assert output_fps({"filters": {"deinterlacer": "YADIF"}}, 25) == 25
    converter = {"frameRateConverter": "VFI"}
    tagged = {"filters": converter, "filterSettings": {"frameRate": {"tag": "VIDEO_NTSC"}}}
    assert output_fps(tagged, 25) == 29.97
    assert (
        output_fps({"filters": converter, "filterSettings": {"frameRate": {"fps": 48}}}, 25) == 48
    )


def test_price_job_usd_and_credits_agree() -> None:
    options = {"filters": {"scaler": "DVRES2"}, "filterSettings": {"resolution": {"tag": "2X"}}}
    args = dict(width=960, height=540, fps=25.0, duration_ms=60_000)
    usd = structure(price_job(options, billing_type="STRIPE", **args), VideoProcessingJobAppraisal)
    credits = structure(
        price_job(options, billing_type="AWS_MARKETPLACE", **args), VideoProcessingJobAppraisal
    )
    assert isinstance(usd, VideoProcessingJobAppraisalUsd)
    assert isinstance(credits, VideoProcessingJobAppraisalPixopCredits)
    assert usd.currency == "USD" and credits.currency == "PIXOP_CREDITS"
    # credits carry no volume discount: they follow the undiscounted USD price, rounded up
    normal_usd = usd.cost.total_normal_processing_cost_usd
    assert normal_usd * CREDITS_PER_USD <= credits.total_cost
    assert credits.total_cost <= normal_usd * CREDITS_PER_USD + len(credits.job_items) + 1
    assert credits.total_cost == sum(item.cost_pixop_credits for item in credits.job_items)
    assert all(isinstance(item.cost_pixop_credits, int) for item in credits.job_items)
    assert credits.cost.estimated_download_cost_pixop_credits >= 1
    assert usd.output_duration_millis == credits.output_duration_millis == 60_000
    names = [item.product_name for item in usd.job_items]
    assert names[0] == "Encoder" and names[-1] == "Storage" and "DVRES2 (scaler)" in names
    cost = usd.cost
    assert cost.total_processing_cost_usd == pytest.approx(
        cost.total_normal_processing_cost_usd - cost.total_processing_discount_usd,
        abs=Decimal("0.002"),
    )
    assert cost.estimated_download_cost_usd > cost.estimated_storage_cost_usd > 0


@pytest.mark.parametrize(
    ("width", "height", "duration_ms"),
    [(960, 540, 60_000), (640, 360, 1_000), (1920, 1080, 3_600_000), (1280, 720, 7_777)],
)
def test_usd_job_items_add_up_to_the_totals_exactly(
    width: int, height: int, duration_ms: int
) -> None:
    """Like an invoice: the lines sum to the totals to the last digit, and each line's cost
    is its normal cost less its discount (a large job gets a real volume discount)."""
    options = {
        "filters": {"scaler": "DVRES2", "denoiser": "DENOISE"},
        "filterSettings": {"resolution": {"tag": "2X"}},
    }
    usd = structure(
        price_job(
            options,
            billing_type="STRIPE",
            width=width,
            height=height,
            fps=25.0,
            duration_ms=duration_ms,
        ),
        VideoProcessingJobAppraisal,
    )
    assert isinstance(usd, VideoProcessingJobAppraisalUsd)
    items, cost = usd.job_items, usd.cost
    assert sum(i.cost_usd for i in items) == cost.total_processing_cost_usd
    assert sum(i.discount_usd for i in items) == cost.total_processing_discount_usd
    assert sum(i.normal_cost_usd for i in items) == cost.total_normal_processing_cost_usd
    assert all(i.cost_usd == i.normal_cost_usd - i.discount_usd for i in items)
    assert cost.total_processing_cost_usd == (
        cost.total_normal_processing_cost_usd - cost.total_processing_discount_usd
    )
    if duration_ms >= 3_600_000:
        assert cost.total_processing_discount_usd > 0

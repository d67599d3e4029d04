"""Processing: configurations, job status, appraisals and their cost estimates.

The options model itself lives in :mod:`.processing_options` (re-exported here). Appraisals
are polymorphic on the team's billing type since API 2.x: teams billed through Stripe see
USD amounts (``*_usd`` fields), AWS Marketplace teams see Pixop credits (``*_credits``
fields); :attr:`VideoProcessingJobAppraisal.currency` says which set is filled.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import attrs

from .account import BillingType
from .billing import AmountUnit, Category
from .converter import structure
from .enums import FilterMode
from .processing_options import VideoProcessingConfigurationOptions
from .videos import OperationStatus, Video, VideoProcessingState

__all__ = [
    "AmountUnit",
    "BuiltInMode",
    "Category",
    "OperationStatus",
    "ProcessingEstimation",
    "VideoProcessingAppraisal",
    "VideoProcessingConfiguration",
    "VideoProcessingConfigurationOptions",
    "VideoProcessingConfigurationPost",
    "VideoProcessingJobAppraisal",
    "VideoProcessingJobAppraisalCost",
    "VideoProcessingJobItem",
    "VideoProcessingState",
    "VideoProcessingStatus",
    "job_appraisal_of",
]

Money = decimal.Decimal

#: Whether configuration listings include Pixop's built-in configurations.
BuiltInMode = FilterMode


# --------------------------------------------------------------------------- configurations


@attrs.frozen
class VideoProcessingConfiguration:
    """A saved, named set of processing options (``builtin`` ones are Pixop's own)."""

    id: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: uuid.UUID
    name: str
    options: VideoProcessingConfigurationOptions
    builtin: bool
    description: str | None = None


@attrs.frozen
class VideoProcessingConfigurationPost:
    name: str
    options: VideoProcessingConfigurationOptions
    description: str | None = None


# --------------------------------------------------------------------------- status


@attrs.frozen
class VideoProcessingStatus:
    """Where the processing of a (derived) video stands."""

    video_id: uuid.UUID
    processing_state: VideoProcessingState | None = None

    @property
    def status(self) -> OperationStatus | None:
        return self.processing_state.processing_status if self.processing_state else None

    @property
    def progress_percentage(self) -> int | None:
        return self.processing_state.progress_percentage if self.processing_state else None

    @property
    def is_terminal(self) -> bool:
        return self.status in (OperationStatus.DONE, OperationStatus.FAILED)


# --------------------------------------------------------------------------- appraisals


@attrs.frozen
class ProcessingEstimation:
    """Expected output size (bytes), storage/download cost and compute time."""

    file_size: int
    total_compute_time_seconds: int
    storage_cost_usd: Money | None = None
    download_cost_usd: Money | None = None
    storage_cost_credits: Money | None = None
    download_cost_credits: Money | None = None


@attrs.frozen
class VideoProcessingJobItem:
    """One priced line of a job (an encoder, a filter, storage...)."""

    product_name: str
    category: Category
    amount: Money
    amount_unit: AmountUnit
    discount_percentage: Money
    unit_price_usd: Money | None = None
    cost_usd: Money | None = None
    discount_usd: Money | None = None
    normal_cost_usd: Money | None = None
    unit_price_credits: Money | None = None
    cost_credits: Money | None = None
    discount_credits: Money | None = None
    normal_cost_credits: Money | None = None


@attrs.frozen
class VideoProcessingJobAppraisalCost:
    discount_percentage: Money
    total_processing_cost_usd: Money | None = None
    total_processing_discount_usd: Money | None = None
    total_normal_processing_cost_usd: Money | None = None
    total_processing_cost_credits: Money | None = None
    total_processing_discount_credits: Money | None = None
    total_normal_processing_cost_credits: Money | None = None


@attrs.frozen
class VideoProcessingJobAppraisal:
    """The priced job: items, estimation, output duration and total cost.

    ``billing_type`` is the discriminator (absent in 1.x answers, which are USD).
    """

    job_items: list[VideoProcessingJobItem]
    estimation: ProcessingEstimation
    output_duration_millis: int
    cost: VideoProcessingJobAppraisalCost
    billing_type: BillingType | None = None

    @property
    def currency(self) -> str:
        """``"PIXOP_CREDITS"`` for AWS Marketplace teams, else ``"USD"``."""
        return "PIXOP_CREDITS" if self.billing_type == BillingType.AWS_MARKETPLACE else "USD"

    @property
    def total_cost(self) -> Money | None:
        """The job's total in its currency."""
        if self.currency == "PIXOP_CREDITS":
            return self.cost.total_processing_cost_credits
        return self.cost.total_processing_cost_usd


def job_appraisal_of(video: Video) -> VideoProcessingJobAppraisal | None:
    """The typed job appraisal carried by a video (``processingJobAppraisal``), if any."""
    raw: Any = video.processing_job_appraisal
    return None if raw is None else structure(raw, VideoProcessingJobAppraisal)


@attrs.frozen
class VideoProcessingAppraisal:
    """A priced offer to process a video; accept it before ``expires_at`` (15 minutes)."""

    appraisal_id: uuid.UUID
    expires_at: dt.datetime
    video: Video

    @property
    def job_appraisal(self) -> VideoProcessingJobAppraisal | None:
        return job_appraisal_of(self.video)

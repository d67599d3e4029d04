"""Processing: configurations, job status, appraisals and their cost estimates.

The options model itself lives in :mod:`.processing_options` (re-exported here). Appraisals
are polymorphic on the team's billing type since API 2.x (:mod:`.appraisal`, re-exported
here): Stripe teams see USD amounts, AWS Marketplace teams whole Pixop credits.
"""

from __future__ import annotations

import datetime as dt

import attrs

from ..ids import AppraisalId, ProcessingConfigurationId, TeamId, VideoId
from .appraisal import (
    ProcessingEstimation,
    VideoProcessingJobAppraisal,
    VideoProcessingJobAppraisalCostPixopCredits,
    VideoProcessingJobAppraisalCostUsd,
    VideoProcessingJobAppraisalPixopCredits,
    VideoProcessingJobAppraisalUsd,
    VideoProcessingJobItemPixopCredits,
    VideoProcessingJobItemUsd,
)
from .billing import AmountUnit, Category
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
    "VideoProcessingJobAppraisalCostPixopCredits",
    "VideoProcessingJobAppraisalCostUsd",
    "VideoProcessingJobAppraisalPixopCredits",
    "VideoProcessingJobAppraisalUsd",
    "VideoProcessingJobItemPixopCredits",
    "VideoProcessingJobItemUsd",
    "VideoProcessingState",
    "VideoProcessingStatus",
    "job_appraisal_of",
]

#: Whether configuration listings include Pixop's built-in configurations.
BuiltInMode = FilterMode


# --------------------------------------------------------------------------- configurations


@attrs.frozen
class VideoProcessingConfiguration:
    """A saved, named set of processing options (``builtin`` ones are Pixop's own)."""

    id: ProcessingConfigurationId
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: TeamId
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

    video_id: VideoId
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


def job_appraisal_of(video: Video) -> VideoProcessingJobAppraisal | None:
    """The typed job appraisal carried by a video (``processingJobAppraisal``), if any:
    a :class:`VideoProcessingJobAppraisalUsd` or :class:`VideoProcessingJobAppraisalPixopCredits`
    (the base class for a billing type this SDK does not know)."""
    return video.processing_job_appraisal


@attrs.frozen
class VideoProcessingAppraisal:
    """A priced offer to process a video; accept it before ``expires_at`` (15 minutes)."""

    appraisal_id: AppraisalId
    expires_at: dt.datetime
    video: Video

    @property
    def job_appraisal(self) -> VideoProcessingJobAppraisal | None:
        return job_appraisal_of(self.video)

"""Videos and the state of their import ("video in"), ingestion and export ("video out").

Read models mirror the API's ``Video`` and status shapes; request models (``VideoPatch``,
``CreateMasterVideoFrom*``, ``CopyVideoDataTo*``) are what the client sends. Processing
options and job appraisals are kept as raw JSON here (their typed models belong to the
processing area); the processing *state* is typed because pollers read it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ..ids import ClipId, ProjectId, TeamId, UserId, VideoId
from .appraisal import VideoProcessingJobAppraisal
from .enums import FilterMode, OpenEnum
from .locations import S3BucketWithAccessKeys


class OperationStatus(OpenEnum):
    """Status of an upload, ingestion, processing or output operation."""

    INITIAL = "INITIAL"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in (OperationStatus.DONE, OperationStatus.FAILED)


#: How video listings treat clips (the API's ``FilterModeEnum``).
ClipMode = FilterMode


class Scanning(OpenEnum):
    PROGRESSIVE = "PROGRESSIVE"
    INTERLACED_TOP_FIRST = "INTERLACED_TOP_FIRST"
    INTERLACED_BOTTOM_FIRST = "INTERLACED_BOTTOM_FIRST"


# -- files, upload --------------------------------------------------------------------------


@attrs.frozen
class VideoFile:
    """A stored media file: name, size in bytes, MIME type and container."""

    name: str
    size: int
    type: str
    container_name: str
    last_modified: dt.datetime


@attrs.frozen
class VideoUploadStateError:
    """Why an import failed (``code`` such as ``CHECKSUM_MISMATCH``)."""

    code: str
    message: str
    details: Any = None


@attrs.frozen
class VideoUploadState:
    updated_at: dt.datetime | None = None
    upload_status: OperationStatus | None = None
    progress_percentage: int | None = None
    error: VideoUploadStateError | None = None


@attrs.frozen
class VideoUpload:
    """The import of a master video's data into Pixop."""

    file: VideoFile | None = None
    upload_state: VideoUploadState | None = None


# -- ingestion ------------------------------------------------------------------------------


@attrs.frozen
class AspectRatio:
    ratio: float | None = None
    tag: str | None = None


@attrs.frozen
class FrameRate:
    frame_rate: float | None = None
    rational: str | None = None


@attrs.frozen
class VideoScanning:
    metadata: Scanning | None = None
    heuristics: Scanning | None = None


@attrs.frozen
class VideoMetadata:
    """Technical properties found while ingesting a video."""

    container_name: str | None = None
    long_container_name: str | None = None
    codec_name: str | None = None
    long_codec_name: str | None = None
    pixel_format_name: str | None = None
    primary_bit_depth: int | None = None
    frame_width: int | None = None
    frame_height: int | None = None
    display_aspect_ratio: AspectRatio | None = None
    scanning: VideoScanning | None = None
    average_frame_rate: FrameRate | None = None
    duration_in_millis: int | None = None
    total_frames: int | None = None
    size: int | None = None
    video_stream_size: int | None = None
    color_range_name: str | None = None
    color_space_name: str | None = None
    color_transfer_name: str | None = None
    color_primaries_name: str | None = None
    hdr_standard_name: str | None = None


@attrs.frozen
class QualityMetric:
    name: str | None = None
    sample_mean: float | None = None
    subjective_label: str | None = None
    subjective_score: float | None = None


@attrs.frozen
class VideoQualityAssessment:
    metrics: list[QualityMetric] | None = None
    overall_subjective_score: float | None = None


@attrs.frozen
class VideoIngestionState:
    updated_at: dt.datetime | None = None
    eta_seconds: int | None = None
    ingestion_status: OperationStatus | None = None
    web_video_available: bool | None = None
    thumbnails_available: bool | None = None
    full_frames_available: bool | None = None
    video_metadata_available: bool | None = None
    progress_percentage: int | None = None


@attrs.frozen
class VideoIngestion:
    """Ingestion of a video: its state, extracted metadata and quality assessment."""

    ingestion_state: VideoIngestionState
    metadata: VideoMetadata
    quality_assessment: VideoQualityAssessment


# -- processing (state only) --------------------------------------------------------------


@attrs.frozen
class VideoProcessingState:
    updated_at: dt.datetime | None = None
    eta_seconds: int | None = None
    processing_status: OperationStatus | None = None
    progress_percentage: int | None = None


@attrs.frozen
class SourceVideo:
    """The part of the source video a processed video was made from."""

    video_id: VideoId | None = None
    start_position_milliseconds: int | None = None
    end_position_milliseconds: int | None = None


@attrs.frozen
class VideoProcessing:
    """How a derived video was processed. ``options`` is the raw options JSON (see the
    processing models for the typed form)."""

    processing_state: VideoProcessingState | None = None
    source_video: SourceVideo | None = None
    options: dict[str, Any] | None = None


# -- output ---------------------------------------------------------------------------------


@attrs.frozen
class VideoOutputState:
    updated_at: dt.datetime | None = None
    status: OperationStatus | None = None
    progress_percentage: int | None = None
    error_message: str | None = None


@attrs.frozen
class VideoOutput:
    """The most recent export of a video."""

    state: VideoOutputState | None = None


# -- the video ------------------------------------------------------------------------------


@attrs.frozen
class VideoFlags:
    is_master: bool
    is_processing: bool
    is_processed: bool
    is_ingesting: bool
    is_ingested: bool
    is_clip: bool
    is_sample: bool


@attrs.frozen
class MasterVideo:
    """The original upload a derived video comes from."""

    id: VideoId
    created_at: dt.datetime
    updated_at: dt.datetime
    video_file: VideoFile


@attrs.frozen
class Video:
    """A video: a master (imported) video, its free clip, or a processed result."""

    id: VideoId
    created_at: dt.datetime
    updated_at: dt.datetime
    user_id: UserId
    name: str
    team_id: TeamId
    project_id: ProjectId
    flags: VideoFlags
    description: str | None = None
    upload: VideoUpload | None = None
    ingestion: VideoIngestion | None = None
    processing: VideoProcessing | None = None
    master_video: MasterVideo | None = None
    #: The priced job of an appraisal, typed by the team's billing type (see
    #: :mod:`pixop_async.models.appraisal`).
    processing_job_appraisal: VideoProcessingJobAppraisal | None = None
    clip_id: ClipId | None = None
    output: VideoOutput | None = None


@attrs.frozen
class VideoInStatus:
    """Progress of an import and, once it has started, of the ingestion that follows."""

    video_id: VideoId
    upload: VideoUpload
    ingestion: VideoIngestion | None = None

    @property
    def upload_status(self) -> OperationStatus | None:
        state = self.upload.upload_state
        return state.upload_status if state else None

    @property
    def ingestion_status(self) -> OperationStatus | None:
        return self.ingestion.ingestion_state.ingestion_status if self.ingestion else None


@attrs.frozen
class VideoOutStatus:
    """Progress of the most recent export."""

    video_id: VideoId
    output: VideoOutput

    @property
    def status(self) -> OperationStatus | None:
        return self.output.state.status if self.output.state else None


@attrs.frozen
class VideoDownloadUrl:
    """A time-limited URL for downloading a video's data over HTTPS (Range supported)."""

    video_id: VideoId
    presigned_url: str = attrs.field(repr=False)
    expires_at: dt.datetime
    file_size: int
    mime_type: str
    file_extension: str
    suggested_file_name: str
    crc32c_checksum: int | None = None


@attrs.frozen
class VideoComparisonLink:
    link: str
    left_video_id: VideoId
    right_video_id: VideoId


# -- requests -------------------------------------------------------------------------------


@attrs.frozen
class VideoPatch:
    name: str | None = None
    description: str | None = None


@attrs.frozen
class CreateMasterVideoFromHttps:
    name: str
    url: str
    description: str | None = None
    project_id: str | None = None
    file_name: str | None = None


@attrs.frozen
class CreateMasterVideoFromS3:
    """Import from a saved S3 input location."""

    name: str
    object_key: str
    description: str | None = None
    project_id: str | None = None
    file_name: str | None = None


@attrs.frozen
class CreateMasterVideoFromS3Bucket:
    """Import from an S3 bucket whose credentials travel with the request."""

    name: str
    object_key: str
    s3_bucket: S3BucketWithAccessKeys
    description: str | None = None
    project_id: str | None = None
    file_name: str | None = None


@attrs.frozen
class CopyVideoDataToS3BucketRequest:
    s3_bucket: S3BucketWithAccessKeys
    object_key_prefix: str


@attrs.frozen
class CopyVideoDataToS3OutputLocationIdRequest:
    object_key_prefix: str

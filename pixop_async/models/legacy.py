"""Models of the legacy ``accounts`` / ``videos`` / ``media`` services.

Timestamps arrive as ``YYYY-MM-DD hh:mm:ss`` (taken as UTC). Almost every field is optional:
the legacy services leave out what they do not know yet (metadata before ingestion, processing
parameters of an original video).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

import attrs

from ..ids import ProjectId, TeamId, UserId, VideoId
from .enums import OpenEnum
from .videos import QualityMetric as QualityMetric  # re-exported (shape shared)
from .videos import VideoQualityAssessment

T = TypeVar("T")


class LegacyStatus(OpenEnum):
    """Status of an upload, ingestion or processing operation."""

    INITIAL = "INITIAL"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    FAILED = "FAILED"


# -- accounts -----------------------------------------------------------------------------


@attrs.frozen
class LegacyToken:
    """A freshly issued JWT and the identity it carries; ``jwt_token`` is hidden from repr."""

    user_id: UserId
    team_id: TeamId
    jwt_token: str = attrs.field(repr=False)


@attrs.frozen
class LegacyUser:
    id: UserId
    name: str | None = None
    email: str | None = None
    email_confirmed: bool | None = None
    auth_signature_method: str | None = None
    auth_signature_public_key: str | None = None
    auth_signature_public_key_id: str | None = None
    banned: bool | None = None
    banned_reason: str | None = None
    banned_date: dt.datetime | None = None
    api_request_signature_secret: str | None = attrs.field(default=None, repr=False)
    api_request_signature_method: str | None = None
    date_created: dt.datetime | None = None
    time_last_updated: dt.datetime | None = None


@attrs.frozen
class LegacyTeam:
    id: TeamId
    name: str | None = None
    restricted: bool | None = None
    date_created: dt.datetime | None = None
    time_last_updated: dt.datetime | None = None


@attrs.frozen
class LegacyAccount:
    """The user and the team a token acts for."""

    user: LegacyUser
    team: LegacyTeam | None = None


@attrs.frozen
class TokenIdentity:
    """What a validated token stands for: its user, its team and the user's other teams."""

    user: LegacyUser
    team: LegacyTeam | None = None
    other_teams: list[LegacyTeam] = attrs.field(factory=list)


def normalize_user_json(data: Any) -> Any:
    """Accept the misspelt ``apiRequestSignatureSethod`` one page of the spec shows."""
    if isinstance(data, dict) and "apiRequestSignatureSethod" in data:
        data = dict(data)
        data.setdefault("apiRequestSignatureMethod", data.pop("apiRequestSignatureSethod"))
    return data


# -- projects ------------------------------------------------------------------------------


@attrs.frozen
class LegacyProject:
    id: ProjectId
    name: str | None = None
    team_id: TeamId | None = None
    date_created: dt.datetime | None = None
    time_last_updated: dt.datetime | None = None


# -- videos --------------------------------------------------------------------------------


@attrs.frozen
class LegacyVideoSummary:
    """A video as listed by ``GET /videos/v1/videos``."""

    id: VideoId
    parent_id: VideoId | None = None
    project_id: ProjectId | None = None
    name: str | None = None
    filename: str | None = None
    date_created: dt.datetime | None = None
    time_last_updated: dt.datetime | None = None


@attrs.frozen
class UploadState:
    upload_status: LegacyStatus | None = None
    updated_at: dt.datetime | None = None


@attrs.frozen
class VideoUpload:
    upload_state: UploadState | None = None
    has_finished_uploading: bool | None = None
    file_name: str | None = None
    file_size: int | None = None
    file_type: str | None = None
    file_container_name: str | None = None


@attrs.frozen
class IngestionState:
    ingestion_status: LegacyStatus | None = None
    updated_at: dt.datetime | None = None
    video_metadata_available: bool | None = None


@attrs.frozen
class ChromaSubsampling:
    yuv: str | None = None
    bits: int | None = None


@attrs.frozen
class PixelFormat:
    name: str | None = None
    chroma_subsampling: ChromaSubsampling | None = None


@attrs.frozen
class LegacyVideoMetadata:
    container_name: str | None = None
    long_container_name: str | None = None
    codec_name: str | None = None
    long_codec_name: str | None = None
    pixel_format: PixelFormat | None = None
    frame_width: int | None = None
    frame_height: int | None = None
    average_framerate: float | None = None
    duration_in_millis: int | None = None
    total_frames: int | None = None
    size: int | None = None
    video_stream_size: int | None = None


#: The quality assessment has the same shape in both APIs.
QualityAssessment = VideoQualityAssessment


@attrs.frozen
class VideoIngestion:
    ingestion_state: IngestionState | None = None
    metadata: LegacyVideoMetadata | None = None
    quality_assessment: QualityAssessment | None = None


@attrs.frozen
class ProcessingState:
    processing_status: LegacyStatus | None = None
    updated_at: dt.datetime | None = None
    processing_progress_percent: float | None = None


@attrs.frozen
class NamedConfig:
    """A named component (preset, container, codec, filter) with its free-form properties."""

    name: str | None = None
    properties: dict[str, Any] | None = None


@attrs.frozen
class SourceClip:
    start_position_milliseconds: int | None = None
    end_position_milliseconds: int | None = None


@attrs.frozen
class TargetVideo:
    preset: NamedConfig | None = None
    container: NamedConfig | None = None
    codec: NamedConfig | None = None
    pixel_format: PixelFormat | None = None
    bitrate: int | None = None
    frame_width: int | None = None
    frame_height: int | None = None
    video_filters: list[NamedConfig] | None = None


@attrs.frozen
class ProcessingParameters:
    source_video: SourceClip | None = None
    target_video: TargetVideo | None = None


@attrs.frozen
class VideoProcessing:
    processing_state: ProcessingState | None = None
    processing_parameters: ProcessingParameters | None = None


@attrs.frozen
class LegacyVideo:
    """A video item with its upload, ingestion and processing details."""

    id: VideoId
    name: str | None = None
    description: str | None = None
    project_id: ProjectId | None = None
    user_id: UserId | None = None
    team_id: TeamId | None = None
    parent_id: VideoId | None = None
    upload: VideoUpload | None = None
    ingestion: VideoIngestion | None = None
    processing: VideoProcessing | None = None
    attributes: dict[str, Any] | None = None
    date_created: dt.datetime | None = None
    time_last_updated: dt.datetime | None = None

    @property
    def duration_ms(self) -> int | None:
        """The ingested duration in milliseconds, when metadata is available."""
        meta = self.ingestion.metadata if self.ingestion else None
        return meta.duration_in_millis if meta else None


@attrs.frozen
class CreatedVideo:
    """Answer of video creation: the new id and the URLs to upload and process it."""

    video_id: VideoId
    project_id: ProjectId | None = None
    upload_media_url: str | None = None
    upload_light_media_url: str | None = None
    process_video_url: str | None = None


@attrs.frozen
class ProcessVideoResult:
    """Answer of a process-video request."""

    source_video_id: VideoId
    processed_video_id: VideoId
    project_id: ProjectId | None = None
    check_progress_url: str | None = None
    download_media_url: str | None = None


@attrs.frozen
class ProcessProgress:
    video_id: VideoId
    project_id: ProjectId | None = None
    processing_state: ProcessingState | None = None

    @property
    def status(self) -> LegacyStatus | None:
        return self.processing_state.processing_status if self.processing_state else None


@attrs.frozen
class IngestProgress:
    video_id: VideoId
    project_id: ProjectId | None = None
    ingestion_state: IngestionState | None = None

    @property
    def status(self) -> LegacyStatus | None:
        return self.ingestion_state.ingestion_status if self.ingestion_state else None


@attrs.frozen
class DeletedVideo:
    video_id: VideoId


@attrs.frozen
class DeletedVideos:
    deleted_videos: list[DeletedVideo]


# -- media ---------------------------------------------------------------------------------


@attrs.frozen
class UploadReceipt:
    """Answer of a media upload."""

    video_id: VideoId
    project_id: ProjectId | None = None
    check_ingest_progress_url: str | None = None
    process_video_url: str | None = None


@attrs.frozen
class MediaInfo:
    """What a HEAD on a download URL tells: size, ETag and the sanitised file name."""

    size: int | None = None
    etag: str | None = None
    file_name: str | None = None
    content_type: str | None = None


# -- HAL pages -----------------------------------------------------------------------------


@attrs.frozen
class HalPage(Generic[T]):
    """One page of a HAL listing; ``links`` maps a relation (``next``...) to its href."""

    items: list[T]
    page: int | None
    page_size: int | None
    links: dict[str, str]

    @property
    def next_href(self) -> str | None:
        return self.links.get("next")

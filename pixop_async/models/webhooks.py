"""Webhooks: subscriptions, delivered events with their endpoint responses, signing keys."""

from __future__ import annotations

import datetime as dt

import attrs

from ..ids import TeamId, VideoId, WebhookEventId, WebhookId, WebhookPublicKeyId
from .enums import OpenEnum


class WebhookEventType(OpenEnum):
    """The 22 event types a webhook can subscribe to."""

    VIDEO_IN_STARTED = "video_in.started"
    VIDEO_IN_DONE = "video_in.done"
    VIDEO_IN_FAILED = "video_in.failed"
    VIDEO_IN_INGESTION_STARTED = "video_in_ingestion.started"
    VIDEO_IN_INGESTION_DONE = "video_in_ingestion.done"
    VIDEO_IN_INGESTION_FAILED = "video_in_ingestion.failed"
    CLIP_PROCESSING_STARTED = "clip_processing.started"
    CLIP_PROCESSING_DONE = "clip_processing.done"
    CLIP_PROCESSING_FAILED = "clip_processing.failed"
    CLIP_INGESTION_STARTED = "clip_ingestion.started"
    CLIP_INGESTION_DONE = "clip_ingestion.done"
    CLIP_INGESTION_FAILED = "clip_ingestion.failed"
    VIDEO_PROCESSING_STARTED = "video_processing.started"
    VIDEO_PROCESSING_DONE = "video_processing.done"
    VIDEO_PROCESSING_FAILED = "video_processing.failed"
    VIDEO_PROCESSING_INGESTION_STARTED = "video_processing_ingestion.started"
    VIDEO_PROCESSING_INGESTION_DONE = "video_processing_ingestion.done"
    VIDEO_PROCESSING_INGESTION_FAILED = "video_processing_ingestion.failed"
    VIDEO_OUT_STARTED = "video_out.started"
    VIDEO_OUT_DONE = "video_out.done"
    VIDEO_OUT_FAILED = "video_out.failed"
    VIDEO_DELETED = "video.deleted"


class WebhookEventDataType(OpenEnum):
    VIDEO = "VIDEO"


class PublicKeyAlgorithm(OpenEnum):
    EC = "EC"


@attrs.frozen
class Webhook:
    """A subscription: where to send which events, how fast and for how long to retry."""

    id: WebhookId
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: TeamId
    active: bool
    name: str
    url: str
    rate_limit_per_second: int
    max_total_retry_delay_minutes: int
    event_types: list[WebhookEventType]
    description: str | None = None


@attrs.frozen
class WebhookPost:
    """The body of a create. ``maxTotalRetryDelayMinutes`` is read-only there in API 2.1.0
    (the server defaults it to 180), so it is not part of this model."""

    name: str
    url: str
    rate_limit_per_second: int
    event_types: list[WebhookEventType]
    active: bool
    description: str | None = None


@attrs.frozen
class WebhookPatch:
    """Fields to change; ``None`` leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    url: str | None = None
    rate_limit_per_second: int | None = None
    max_total_retry_delay_minutes: int | None = None
    event_types: list[WebhookEventType] | None = None


@attrs.frozen
class WebhookEventVideoData:
    """The ``data`` of a video event (``type`` is ``VIDEO``)."""

    type: WebhookEventDataType = WebhookEventDataType.VIDEO
    video_id: VideoId | None = None


@attrs.frozen
class WebhookEventPayload:
    """The JSON body of one delivery."""

    id: WebhookEventId
    webhook_id: WebhookId
    event_type: WebhookEventType
    occurred_at: dt.datetime
    test: bool
    attempt_count: int
    data: WebhookEventVideoData | None = None


@attrs.frozen
class WebhookEndpointResponse:
    """One delivery attempt as the endpoint answered it (or why it was not sent)."""

    requested_at: dt.datetime
    response_time_millis: int
    status_code: int
    response_body: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    response_retry_at: dt.datetime | None = None
    response_headers: dict[str, str] | None = None


@attrs.frozen
class WebhookEvent:
    """An event queued for a webhook, with every delivery attempt made so far."""

    id: WebhookEventId
    created_at: dt.datetime
    updated_at: dt.datetime
    team_id: TeamId
    payload: WebhookEventPayload
    responses: list[WebhookEndpointResponse]
    next_attempt_earliest_at: dt.datetime | None = None
    successful: bool | None = None


@attrs.frozen
class WebhookPublicKey:
    """A key that verifies delivery signatures (base64 X.509 SubjectPublicKeyInfo)."""

    id: WebhookPublicKeyId
    created_at: dt.datetime
    updated_at: dt.datetime
    algorithm: PublicKeyAlgorithm
    public_key: str
    expires_at: dt.datetime | None = None

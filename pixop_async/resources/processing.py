"""Processing: ``/v1/videos/{videoId}/processing/*``.

Starting a job (directly, from a saved configuration, or by accepting an appraisal) creates a
new derived video; every method returns or refers to that new video's id. Poll it with
:meth:`ProcessingResource.wait` / :meth:`ProcessingResource.watch`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from .. import polling
from .. import validation as v
from ..errors import InvalidRequestError
from ..ids import AppraisalId, ProcessingConfigurationId, VideoId
from ..models.processing import (
    OperationStatus,
    VideoProcessingAppraisal,
    VideoProcessingConfigurationOptions,
    VideoProcessingStatus,
)
from ..models.processing_rules import raise_first
from ..models.videos import Video
from . import _video_args as a
from ._base import Resource
from ._video_polls import PROCESSED_INGESTION_EVENTS, PROCESSING_EVENTS

if TYPE_CHECKING:
    from ..webhooks.receiver import WebhookReceiver

#: The shortest stretch of a source video that can be processed, in milliseconds.
MIN_SEGMENT_MS = 1000

Options = VideoProcessingConfigurationOptions | Mapping[str, Any]


def options_json(options: Any, field: str = "options") -> dict[str, Any]:
    """Validated JSON of ``options`` (a model or an API-shaped mapping)."""
    if isinstance(options, VideoProcessingConfigurationOptions):
        return options.validate(field).to_json()
    if isinstance(options, Mapping):
        data = dict(options)
        raise_first(data, root=field)
        return data
    raise InvalidRequestError(field, "must be VideoProcessingConfigurationOptions or a mapping")


def segment_params(start_pos_ms: Any, end_pos_ms: Any) -> dict[str, Any]:
    """``startPosMs``/``endPosMs``: start >= 0, end >= 1000 and at least 1 s after start."""
    start = v.optional_integer("start_pos_ms", start_pos_ms, minimum=0)
    end = v.optional_integer("end_pos_ms", end_pos_ms, minimum=MIN_SEGMENT_MS)
    if start is not None and end is not None and end < start + MIN_SEGMENT_MS:
        raise InvalidRequestError(
            "end_pos_ms", f"must be at least {MIN_SEGMENT_MS} ms after start_pos_ms"
        )
    return {"startPosMs": start, "endPosMs": end}


def naming_params(video_name: Any, video_description: Any) -> dict[str, Any]:
    return {
        "videoName": a.optional_video_name(video_name, "video_name"),
        "videoDescription": a.description(video_description, "video_description"),
    }


def _failure(state: VideoProcessingStatus) -> polling.PollFailure | None:
    if state.status != OperationStatus.FAILED:
        return None
    return polling.PollFailure(
        f"processing of video {state.video_id} failed", "VIDEO_PROCESSING_FAILED"
    )


PROCESSING = polling.PollSpec[VideoProcessingStatus](
    is_terminal=lambda s: s.is_terminal,
    failure_of=_failure,
    progress_of=lambda s: s.progress_percentage,
)


def _ingestion_status(video: Video) -> OperationStatus | None:
    if video.ingestion is None:
        return None
    return video.ingestion.ingestion_state.ingestion_status


def _result_ingestion_failure(video: Video) -> polling.PollFailure | None:
    if _ingestion_status(video) != OperationStatus.FAILED:
        return None
    return polling.PollFailure(
        f"ingestion of processed video {video.id} failed", "VIDEO_PROCESSING_INGESTION_FAILED"
    )


RESULT_INGESTION = polling.PollSpec[Video](
    is_terminal=lambda video: (
        video.flags.is_ingested or _ingestion_status(video) == OperationStatus.FAILED
    ),
    failure_of=_result_ingestion_failure,
    progress_of=lambda video: (
        video.ingestion.ingestion_state.progress_percentage if video.ingestion else None
    ),
)


PROCESSING_POLLER = polling.Poller[VideoProcessingStatus]("status", PROCESSING, PROCESSING_EVENTS)
RESULT_INGESTION_POLLER = polling.Poller[Video](
    "_result_video", RESULT_INGESTION, PROCESSED_INGESTION_EVENTS
)


class ProcessingResource(Resource):
    """Start, appraise and follow processing jobs."""

    async def start(
        self,
        video_id: VideoId | str,
        options: Options,
        *,
        video_name: str | None = None,
        video_description: str | None = None,
        start_pos_ms: int | None = None,
        end_pos_ms: int | None = None,
    ) -> VideoProcessingStatus:
        """Process ``video_id`` (or the ``start_pos_ms``..``end_pos_ms`` part of it) with
        ``options``; returns the status of the NEW video being made."""
        vid = v.uuid_str("video_id", video_id)
        payload = options_json(options)
        params = {
            **naming_params(video_name, video_description),
            **segment_params(start_pos_ms, end_pos_ms),
        }
        return await self._get_model(
            VideoProcessingStatus,
            "POST",
            f"/v1/videos/{vid}/processing/start",
            params=params,
            json=payload,
        )

    async def start_with_configuration(
        self,
        video_id: VideoId | str,
        conf_id: ProcessingConfigurationId | str,
        *,
        video_name: str | None = None,
        video_description: str | None = None,
        start_pos_ms: int | None = None,
        end_pos_ms: int | None = None,
    ) -> VideoProcessingStatus:
        """Process ``video_id`` with the saved configuration ``conf_id``."""
        vid = v.uuid_str("video_id", video_id)
        cid = v.uuid_str("conf_id", conf_id)
        params = {
            **naming_params(video_name, video_description),
            **segment_params(start_pos_ms, end_pos_ms),
        }
        return await self._get_model(
            VideoProcessingStatus,
            "POST",
            f"/v1/videos/{vid}/processing/start/{cid}",
            params=params,
        )

    async def appraise(
        self,
        video_id: VideoId | str,
        options: Options,
        *,
        start_pos_ms: int | None = None,
        end_pos_ms: int | None = None,
    ) -> VideoProcessingAppraisal:
        """Price a job without starting it; accept the appraisal within 15 minutes."""
        vid = v.uuid_str("video_id", video_id)
        payload = options_json(options)
        return await self._get_model(
            VideoProcessingAppraisal,
            "POST",
            f"/v1/videos/{vid}/processing/appraisals/create",
            params=segment_params(start_pos_ms, end_pos_ms),
            json=payload,
        )

    async def appraise_with_configuration(
        self,
        video_id: VideoId | str,
        conf_id: ProcessingConfigurationId | str,
        *,
        start_pos_ms: int | None = None,
        end_pos_ms: int | None = None,
    ) -> VideoProcessingAppraisal:
        """Price a job that would use the saved configuration ``conf_id``."""
        vid = v.uuid_str("video_id", video_id)
        cid = v.uuid_str("conf_id", conf_id)
        return await self._get_model(
            VideoProcessingAppraisal,
            "POST",
            f"/v1/videos/{vid}/processing/appraisals/create/{cid}",
            params=segment_params(start_pos_ms, end_pos_ms),
        )

    async def accept_appraisal(
        self,
        video_id: VideoId | str,
        appraisal_id: AppraisalId | str,
        *,
        video_name: str | None = None,
        video_description: str | None = None,
    ) -> VideoProcessingStatus:
        """Start the job an appraisal priced; returns the status of the new video."""
        vid = v.uuid_str("video_id", video_id)
        aid = v.uuid_str("appraisal_id", appraisal_id)
        return await self._get_model(
            VideoProcessingStatus,
            "POST",
            f"/v1/videos/{vid}/processing/appraisals/{aid}/accept",
            params=naming_params(video_name, video_description),
        )

    async def status(self, video_id: VideoId | str) -> VideoProcessingStatus:
        """The processing state of a derived video."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(
            VideoProcessingStatus, "GET", f"/v1/videos/{vid}/processing/status"
        )

    async def _result_video(self, video_id: str) -> Video:
        """The processed video's record (its ingestion state), read by the result poller."""
        return await self._get_model(Video, "GET", f"/v1/videos/{video_id}")

    async def wait(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        ingested: bool = True,
        intervals: polling.PollIntervals | None = None,
        receiver: WebhookReceiver | None = None,
    ) -> VideoProcessingStatus:
        """Poll until processing ends; with ``ingested`` (default) also until the new video
        is ingested (ready to export or download). Raises ``OperationFailedError`` on
        failure and ``PollTimeoutError`` after ``timeout`` seconds (shared by both phases).
        With a webhook ``receiver`` the wait ends as soon as the matching event arrives
        (polling continues slowly as a safety net)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        final = await PROCESSING_POLLER.wait(
            self, video_id, timeout=timeout, intervals=intervals, receiver=receiver
        )
        if ingested:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            await RESULT_INGESTION_POLLER.wait(
                self, video_id, timeout=left, intervals=intervals, receiver=receiver
            )
        return final

    def watch(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: polling.PollIntervals | None = None,
    ) -> AsyncIterator[VideoProcessingStatus]:
        """Yield each new processing state (with ``progress_percentage``) until it ends."""
        return PROCESSING_POLLER.watch(self, video_id, timeout=timeout, intervals=intervals)

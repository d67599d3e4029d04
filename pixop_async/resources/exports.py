"""Exports ("video out"): copy a video to S3, or get a pre-signed HTTPS download URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from .. import validation as v
from ..ids import LocationId, VideoId
from ..models.locations import S3BucketWithAccessKeys
from ..models.videos import (
    CopyVideoDataToS3BucketRequest,
    CopyVideoDataToS3OutputLocationIdRequest,
    VideoDownloadUrl,
    VideoOutStatus,
)
from ..polling import PollIntervals
from . import _video_args as a
from ._base import Resource, body
from ._video_polls import EXPORT_POLLER

if TYPE_CHECKING:
    from ..webhooks.receiver import WebhookReceiver

DOWNLOAD_MINUTES_MIN = 1
DOWNLOAD_MINUTES_MAX = 60


class ExportsResource(Resource):
    """Start, follow, restart and abandon exports; issue download URLs.

    Only one export runs per video at a time; the API answers 409 when another one is
    active, when the target object key already exists, or when the video is not ready.
    """

    async def to_s3(
        self, video_id: VideoId | str, s3_bucket: S3BucketWithAccessKeys, object_key_prefix: str
    ) -> VideoOutStatus:
        """Copy the video into ``s3_bucket`` as ``{object_key_prefix}/{file name}``."""
        vid = v.uuid_str("video_id", video_id)
        payload = body(
            CopyVideoDataToS3BucketRequest(
                s3_bucket=a.s3_bucket(s3_bucket),
                object_key_prefix=a.object_key_prefix(object_key_prefix),
            )
        )
        return await self._get_model(
            VideoOutStatus, "POST", f"/v1/videos/{vid}/out/s3", json=payload
        )

    async def to_s3_location(
        self, video_id: VideoId | str, output_location_id: LocationId | str, object_key_prefix: str
    ) -> VideoOutStatus:
        """Copy the video into the bucket of a saved S3 output location."""
        vid = v.uuid_str("video_id", video_id)
        lid = v.uuid_str("output_location_id", output_location_id)
        payload = body(
            CopyVideoDataToS3OutputLocationIdRequest(
                object_key_prefix=a.object_key_prefix(object_key_prefix)
            )
        )
        return await self._get_model(
            VideoOutStatus, "POST", f"/v1/videos/{vid}/out/s3/{lid}", json=payload
        )

    async def status(self, video_id: VideoId | str) -> VideoOutStatus:
        """The current state of the video's export (S3 or HTTPS download URL)."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(VideoOutStatus, "GET", f"/v1/videos/{vid}/out/status")

    async def restart(self, video_id: VideoId | str) -> VideoOutStatus:
        """Resume a FAILED export (409 unless it failed)."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(VideoOutStatus, "POST", f"/v1/videos/{vid}/out/restart")

    async def abandon(self, video_id: VideoId | str) -> None:
        """Give up a FAILED export and release its resources (409 unless it failed)."""
        vid = v.uuid_str("video_id", video_id)
        await self._call("DELETE", f"/v1/videos/{vid}/out/abandon")

    async def download_url(
        self, video_id: VideoId | str, duration_minutes: int = 15
    ) -> VideoDownloadUrl:
        """A pre-signed URL valid for ``duration_minutes`` (1-60), with the file's size,
        MIME type, suggested name and CRC32C. 409 while the video is not ready."""
        vid = v.uuid_str("video_id", video_id)
        minutes = v.integer(
            "duration_minutes",
            duration_minutes,
            minimum=DOWNLOAD_MINUTES_MIN,
            maximum=DOWNLOAD_MINUTES_MAX,
        )
        return await self._get_model(
            VideoDownloadUrl,
            "POST",
            f"/v1/videos/{vid}/out/https",
            params={"durationMinutes": minutes},
        )

    async def wait(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
        receiver: WebhookReceiver | None = None,
    ) -> VideoOutStatus:
        """Poll until the current export is DONE (returned) or FAILED
        (:class:`~pixop_async.errors.OperationFailedError`); a
        :class:`~pixop_async.errors.PollTimeoutError` after ``timeout`` seconds. A webhook
        ``receiver`` ends the wait as soon as the event comes."""
        return await EXPORT_POLLER.wait(
            self, video_id, timeout=timeout, intervals=intervals, receiver=receiver
        )

    def watch(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
    ) -> AsyncIterator[VideoOutStatus]:
        """Yield the export status each time it changes, ending at DONE or FAILED."""
        return EXPORT_POLLER.watch(self, video_id, timeout=timeout, intervals=intervals)

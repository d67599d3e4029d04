"""Imports ("video in"): create a master video from an HTTPS URL or an S3 object."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from .. import validation as v
from ..ids import LocationId, ProjectId, TeamId, VideoId
from ..import_url import check_import_url, check_resolved, is_loopback_http
from ..models.locations import S3BucketWithAccessKeys
from ..models.videos import (
    CreateMasterVideoFromHttps,
    CreateMasterVideoFromS3,
    CreateMasterVideoFromS3Bucket,
    VideoInStatus,
)
from ..polling import PollIntervals
from . import _video_args as a
from ._base import Resource, body
from ._video_polls import IMPORT_POLLER, INGESTION_POLLER

if TYPE_CHECKING:
    from typing_extensions import Unpack

    # Local-file imports (and with them the transfer engine) load when from_file(s) runs.
    from ..webhooks.receiver import WebhookReceiver
    from . import local_imports as li

CRC32C_MAX = 2**32 - 1
CONNECTIONS_MIN = 1
CONNECTIONS_MAX = 20


def _query(full_ingestion: Any, select_team_id: TeamId | str | None) -> dict[str, Any]:
    return {
        "fullIngestion": v.boolean("full_ingestion", full_ingestion),
        **a.team_param(select_team_id),
    }


def _s3_fields(
    name: Any, object_key: Any, description: Any, project_id: ProjectId | str | None, file_name: Any
) -> dict[str, Any]:
    """The validated fields both S3 import bodies share."""
    return {
        "name": a.video_name(name),
        "object_key": a.object_key(object_key),
        "description": a.description(description),
        "project_id": v.optional_uuid("project_id", project_id),
        "file_name": a.file_name(file_name),
    }


class ImportsResource(Resource):
    """Start, follow, restart and abandon imports of master videos.

    Every ``from_*`` call creates a master video record and starts copying its data;
    the returned :class:`VideoInStatus` carries the new ``video_id``. After the copy,
    Pixop ingests the video (metadata only, or everything with ``full_ingestion=True``)
    and, unless the team disabled it, derives a free 10-second clip.
    """

    async def from_https(
        self,
        url: str,
        name: str,
        *,
        description: str | None = None,
        project_id: ProjectId | str | None = None,
        file_name: str | None = None,
        crc32c: int | None = None,
        full_ingestion: bool = False,
        max_concurrent_connections: int = 10,
        select_team_id: TeamId | str | None = None,
        resolve_host: bool = False,
        allow_loopback_http: bool = False,
    ) -> VideoInStatus:
        """Import from ``url``, which must be public HTTPS on port 443 and answer range
        requests. ``crc32c`` (0..2^32-1) makes Pixop verify the data; a mismatch fails the
        import with ``CHECKSUM_MISMATCH``. ``resolve_host=True`` also resolves the host
        locally and refuses non-public addresses before sending.

        ``allow_loopback_http=True`` also lets ``http://127.0.0.1`` URLs through, for tests
        against a local emulator started with ``allow_http_sources`` (Pixop refuses them)."""
        if allow_loopback_http and is_loopback_http(url):
            pass
        elif resolve_host:
            await check_resolved(url)
        else:
            check_import_url(url)
        request = CreateMasterVideoFromHttps(
            name=a.video_name(name),
            url=url,
            description=a.description(description),
            project_id=v.optional_uuid("project_id", project_id),
            file_name=a.file_name(file_name),
        )
        params = _query(full_ingestion, select_team_id)
        params["crc32c"] = v.optional_integer("crc32c", crc32c, minimum=0, maximum=CRC32C_MAX)
        params["maxConcurrentConnections"] = v.integer(
            "max_concurrent_connections",
            max_concurrent_connections,
            minimum=CONNECTIONS_MIN,
            maximum=CONNECTIONS_MAX,
        )
        return await self._start("/v1/videos/in/https", request, params)

    async def from_s3(
        self,
        s3_bucket: S3BucketWithAccessKeys,
        object_key: str,
        name: str,
        *,
        description: str | None = None,
        project_id: ProjectId | str | None = None,
        file_name: str | None = None,
        full_ingestion: bool = False,
        select_team_id: TeamId | str | None = None,
    ) -> VideoInStatus:
        """Import ``object_key`` from a bucket whose credentials are sent along.
        404 (``BUCKET_NOT_FOUND`` / ``KEY_NOT_FOUND``) when either does not exist."""
        fields = _s3_fields(name, object_key, description, project_id, file_name)
        request = CreateMasterVideoFromS3Bucket(s3_bucket=a.s3_bucket(s3_bucket), **fields)
        return await self._start(
            "/v1/videos/in/s3", request, _query(full_ingestion, select_team_id)
        )

    async def from_s3_location(
        self,
        input_location_id: LocationId | str,
        object_key: str,
        name: str,
        *,
        description: str | None = None,
        project_id: ProjectId | str | None = None,
        file_name: str | None = None,
        full_ingestion: bool = False,
        select_team_id: TeamId | str | None = None,
    ) -> VideoInStatus:
        """Import ``object_key`` from the bucket of a saved S3 input location."""
        lid = v.uuid_str("input_location_id", input_location_id)
        request = CreateMasterVideoFromS3(
            **_s3_fields(name, object_key, description, project_id, file_name)
        )
        return await self._start(
            f"/v1/videos/in/s3/{lid}", request, _query(full_ingestion, select_team_id)
        )

    async def from_file(
        self,
        path: str | os.PathLike[str],
        name: str,
        *,
        object_key: str | None = None,
        **options: Unpack[li.LocalImportOptions],
    ) -> li.LocalImport:
        """Upload a local file to S3 (parallel parts, CRC32C, resumable) and import it.

        The destination is a saved input location (``location_id``; its credentials are
        masked by the API, so the upload uses ``s3=`` or the usual AWS sources) or a
        ``bucket`` with its keys. ``object_key`` defaults to the file's name; ``s3`` gives a
        non-AWS endpoint. With ``wait=True`` the call returns once the copy is DONE and has
        checked Pixop's CRC32C and size of the video against the upload's
        (:class:`~pixop_async.errors.ChecksumMismatchError` otherwise). Every option is a
        key of :class:`~pixop_async.resources.local_imports.LocalImportOptions`:
        ``location_id``, ``bucket``, ``s3``, ``wait``, ``timeout``, ``intervals``,
        ``progress``, ``description``, ``project_id``, ``file_name``, ``full_ingestion``,
        ``select_team_id``, ``part_size``, ``resume`` and ``state_dir``. Needs the ``[s3]``
        extra."""
        from . import local_imports as li

        return await li.from_file(self, path, name, object_key, options)

    async def from_files(
        self,
        items: Iterable[li.LocalImportItem | str | os.PathLike[str]],
        *,
        state_file: str | os.PathLike[str] | None = None,
        **options: Unpack[li.LocalImportOptions],
    ) -> list[li.LocalImportReport]:
        """:meth:`from_file` for many files (a path alone is named after its stem), as
        many at once as the client's ``max_concurrent_files``; one report per item, failures
        included. A rerun resumes unfinished uploads from their journals; with
        ``state_file`` it also skips files a previous run imported (same path, size, mtime
        and destination), reporting their video id as ``imported_before``. ``options`` as
        for :meth:`from_file`."""
        from . import local_imports as li

        return await li.from_files(self, items, state_file, options)

    async def status(self, video_id: VideoId | str) -> VideoInStatus:
        """The import's state now: the copy (``upload``) and, once copied, the ingestion of
        ``video_id``. One read; :meth:`watch_ingestion` and :meth:`wait_ingested` poll it."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(VideoInStatus, "GET", f"/v1/videos/{vid}/in/status")

    async def restart(
        self, video_id: VideoId | str, *, skip_checksum_validation: bool = False
    ) -> VideoInStatus:
        """Resume a FAILED import where it stopped (409 unless it failed). Pass
        ``skip_checksum_validation=True`` when it failed because the given CRC32C was wrong."""
        vid = v.uuid_str("video_id", video_id)
        params = {
            "skipChecksumValidation": v.boolean(
                "skip_checksum_validation", skip_checksum_validation
            )
        }
        return await self._get_model(
            VideoInStatus, "POST", f"/v1/videos/{vid}/in/restart", params=params
        )

    async def abandon(self, video_id: VideoId | str) -> None:
        """Delete the video record of a FAILED import with all its data (409 otherwise)."""
        vid = v.uuid_str("video_id", video_id)
        await self._call("DELETE", f"/v1/videos/{vid}/in/abandon")

    # -- pollers ------------------------------------------------------------------------

    async def wait(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
        receiver: WebhookReceiver | None = None,
    ) -> VideoInStatus:
        """Poll until the copy is DONE (returned) or FAILED
        (:class:`~pixop_async.errors.OperationFailedError` with the server's error code, e.g.
        ``CHECKSUM_MISMATCH``); :class:`~pixop_async.errors.PollTimeoutError` after
        ``timeout`` seconds. A webhook ``receiver`` ends the wait as soon as the event comes."""
        return await IMPORT_POLLER.wait(
            self, video_id, timeout=timeout, intervals=intervals, receiver=receiver
        )

    def watch(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
    ) -> AsyncIterator[VideoInStatus]:
        """Yield the import status each time it changes, ending when the copy is done."""
        return IMPORT_POLLER.watch(self, video_id, timeout=timeout, intervals=intervals)

    async def wait_ingested(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
        receiver: WebhookReceiver | None = None,
    ) -> VideoInStatus:
        """Poll through the copy and the ingestion until ingestion is DONE (returned);
        a failed copy or ingestion raises :class:`~pixop_async.errors.OperationFailedError`.
        A webhook ``receiver`` ends the wait as soon as the event comes."""
        return await INGESTION_POLLER.wait(
            self, video_id, timeout=timeout, intervals=intervals, receiver=receiver
        )

    def watch_ingestion(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
    ) -> AsyncIterator[VideoInStatus]:
        """Yield each change through the copy and the ingestion, ending when ingestion
        finishes (or the copy fails)."""
        return INGESTION_POLLER.watch(self, video_id, timeout=timeout, intervals=intervals)

    async def _start(self, path: str, request: Any, params: dict[str, Any]) -> VideoInStatus:
        """Send an import request (a ``CreateMasterVideoFrom*`` model) to ``path``."""
        return await self._get_model(VideoInStatus, "POST", path, json=body(request), params=params)

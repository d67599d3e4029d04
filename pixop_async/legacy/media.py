"""The legacy media service: uploads and downloads through the transfer engine.

Uploads stream the file as multipart (constant memory, CRC32C on the way); downloads fetch
parallel ranges pinned to the first response's ETag, resume from the journal, and report the
CRC32C of what arrived. The session JWT is passed as the transfer's ``auth``, so each attempt
asks it for headers and a token refreshed mid-transfer is used from then on.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from .. import validation as v
from .._decode import decode
from ..errors import APIStatusError, InvalidRequestError
from ..ids import VideoId
from ..models.legacy import MediaInfo, UploadReceipt
from ..transfer.download import DownloadResult, download
from ..transfer.naming import filename_from_disposition, sanitize_filename
from ..transfer.options import DownloadOptions, checked_download_options
from ..transfer.progress import ProgressCallback
from ..transfer.upload import upload_file
from ._base import LegacyService
from .errors import translate

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")

MAX_CONNECTIONS = 64

ORIGINAL = "original"
PROCESSED = "processed"


def _source_file(path: Any) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise InvalidRequestError("path", "must be a path to a file")
    source = Path(path)
    if not source.is_file():
        raise InvalidRequestError(
            "path", "must name an existing regular file", value_repr=str(source)
        )
    return source


def media_info(headers: Mapping[str, str]) -> MediaInfo:
    """Size, ETag, sanitised file name and type from a download response's headers."""
    lower = {str(k).lower(): str(val) for k, val in headers.items()}
    raw_name = filename_from_disposition(lower.get("content-disposition"))
    length = lower.get("content-length", "")
    return MediaInfo(
        size=int(length) if length.isdigit() else None,
        etag=lower.get("etag"),
        file_name=sanitize_filename(raw_name) if raw_name else None,
        content_type=lower.get("content-type"),
    )


class MediaUploadOptions(TypedDict, total=False):
    """The options of :meth:`MediaService.upload` and :meth:`MediaService.upload_light`."""

    file_name: str | None
    """The name sent with the file (default: the file's own name)."""
    content_type: str | None
    """The part's media type (default: guessed from the name)."""
    progress: ProgressCallback | None
    """``progress(done, total)`` in bytes, sync or async."""


class MediaService(LegacyService):
    """``{base}/media``: upload a video's media, download original and processed media."""

    service = "media"

    async def upload(
        self,
        video_id: VideoId | str,
        path: str | os.PathLike[str],
        **options: Unpack[MediaUploadOptions],
    ) -> UploadReceipt:
        """Upload ``path`` as the media of ``video_id`` (full ingestion: metadata,
        thumbnails, web video and a quality assessment); ``options`` as
        :class:`MediaUploadOptions` (``file_name``, ``content_type``, ``progress``)."""
        return await self._upload("/v1/upload", video_id, path, options)

    async def upload_light(
        self,
        video_id: VideoId | str,
        path: str | os.PathLike[str],
        **options: Unpack[MediaUploadOptions],
    ) -> UploadReceipt:
        """Upload for light ingestion: only metadata is extracted (for ephemeral work);
        options as for :meth:`upload`."""
        return await self._upload("/v1/upload/light", video_id, path, options)

    async def _upload(
        self, prefix: str, video_id: VideoId | str, path: Any, options: MediaUploadOptions
    ) -> UploadReceipt:
        unknown = sorted(set(options) - set(MediaUploadOptions.__annotations__))
        if unknown:
            raise TypeError(f"unexpected upload option(s): {', '.join(unknown)}")
        vid = v.uuid_str("video_id", video_id)
        source = _source_file(path)
        file_name = options.get("file_name")
        name = v.text("file_name", file_name, min_len=1, max_len=255) if file_name else source.name
        ctype = v.optional_text("content_type", options.get("content_type"), min_len=3, max_len=255)
        progress = options.get("progress")
        client = self._client
        result = await self._replaying(
            lambda: upload_file(
                client.http,
                self.url(f"{prefix}/{vid}"),
                source,
                file_name=name,
                headers={"Accept": "application/json"},
                auth=client._session_auth,
                progress=progress,
                scheduler=client.scheduler,
                config=client.transfer,
                content_type=ctype,
            )
        )
        return decode(result, UploadReceipt)

    async def download_original(
        self,
        video_id: VideoId | str,
        dest: str | os.PathLike[str],
        *,
        connections: int | None = None,
        **options: Unpack[DownloadOptions],
    ) -> DownloadResult:
        """Download the uploaded media of ``video_id`` to ``dest``: a file path, or an
        existing directory where the server's file name is used after sanitising.

        ``connections`` parallel ranges (the transfer config's default otherwise);
        ``options`` as :class:`~pixop_async.transfer.options.DownloadOptions`:
        ``part_size``, ``expected_crc32c`` (checked against what arrived), ``progress``,
        ``resume`` (continue an interrupted download from its journal), ``headers`` and
        ``if_none_match`` (with a known ETag: a result with ``not_modified`` set, the local
        file untouched).
        """
        return await self._download(ORIGINAL, video_id, dest, connections, options)

    async def download_processed(
        self,
        video_id: VideoId | str,
        dest: str | os.PathLike[str],
        *,
        connections: int | None = None,
        **options: Unpack[DownloadOptions],
    ) -> DownloadResult:
        """Download the media a processing run produced (``video_id`` is the processed
        video's id, ``processed_video_id`` of the process result); options as for
        :meth:`download_original`."""
        return await self._download(PROCESSED, video_id, dest, connections, options)

    async def _download(
        self,
        kind: str,
        video_id: VideoId | str,
        dest: Any,
        connections: int | None,
        options: DownloadOptions,
    ) -> DownloadResult:
        vid = v.uuid_str("video_id", video_id)
        if not isinstance(dest, str | os.PathLike):
            raise InvalidRequestError("dest", "must be a file or directory path")
        v.optional_integer("connections", connections, minimum=1, maximum=MAX_CONNECTIONS)
        checked = checked_download_options(options)
        client = self._client
        default_connections = client.transfer.connections if client.transfer else 8
        return await self._replaying(
            lambda: download(
                client.http,
                self.url(f"/v1/download/{kind}/{vid}"),
                dest,
                connections=connections or default_connections,
                auth=client._session_auth,
                identity=f"pixop-legacy:{kind}:{vid}",
                scheduler=client.scheduler,
                config=client.transfer,
                **checked,
            )
        )

    async def head_original(self, video_id: VideoId | str) -> MediaInfo:
        """Size, ETag and file name of the original media, without downloading it."""
        return await self._head(ORIGINAL, video_id)

    async def head_processed(self, video_id: VideoId | str) -> MediaInfo:
        """Size, ETag and file name of the processed media, without downloading it."""
        return await self._head(PROCESSED, video_id)

    async def _head(self, kind: str, video_id: VideoId | str) -> MediaInfo:
        vid = v.uuid_str("video_id", video_id)
        response = await self._call("HEAD", f"/v1/download/{kind}/{vid}")
        return media_info(response.headers)

    async def _replaying(self, run: Callable[[], Awaitable[T]]) -> T:
        """Run a transfer; after a 401 for an expired token refresh once and run it again
        (a download resumes from its journal). Errors come back legacy-typed."""
        replayed = False
        while True:
            self._client.jwt_auth.note_held_token()
            try:
                return await run()
            except APIStatusError as exc:
                jwt = self._client.jwt_auth
                if exc.status == 401 and not replayed and await jwt.on_unauthorized(exc.body):
                    replayed = True
                    continue
                mapped = translate(exc)
                if mapped is exc:
                    raise
                raise mapped from None

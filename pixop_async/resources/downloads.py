"""``px.downloads``: fetch processed videos through the transfer engine.

A download asks the API for a pre-signed HTTPS URL (``POST /v1/videos/{id}/out/https``),
fetches it with parallel ranges, verifies the bytes against the record's CRC32C and size,
and asks for a fresh URL whenever the current one expires or is refused mid-way.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from .. import validation as v
from ..errors import InvalidRequestError
from ..ids import VideoId
from ..models.videos import VideoDownloadUrl
from ..transfer._fdlimit import fitted
from ..transfer._target import MAX_ALTERNATIVES, numbered
from ..transfer.bulk import BulkProgress, BulkReport, ItemReport, ItemStatus, run_bulk
from ..transfer.checksum import crc32c_file
from ..transfer.download import DownloadResult, download
from ..transfer.naming import sanitize_filename
from ..transfer.progress import ProgressCallback
from ._base import Resource
from .exports import DOWNLOAD_MINUTES_MAX, DOWNLOAD_MINUTES_MIN, ExportsResource


def _is_directory(dest: str | os.PathLike[str]) -> bool:
    text = os.fspath(dest)
    return os.path.isdir(text) or text.endswith((os.sep, "/"))


def _file_name(record: VideoDownloadUrl) -> str:
    """The API's suggested name, sanitised; else ``{video id}.{extension}`` (alphanumerics)."""
    extension = re.sub(r"[^A-Za-z0-9]", "", record.file_extension or "")[:10] or "bin"
    return sanitize_filename(record.suggested_file_name, default=f"{record.video_id}.{extension}")


class DownloadsResource(Resource):
    """Download videos' data to local files (resumable, verified, parallel)."""

    @property
    def _exports(self) -> ExportsResource:
        return ExportsResource(self._client)

    def _check(self, duration_minutes: int, connections: int | None) -> tuple[int, int | None]:
        minutes = v.integer(
            "duration_minutes",
            duration_minutes,
            minimum=DOWNLOAD_MINUTES_MIN,
            maximum=DOWNLOAD_MINUTES_MAX,
        )
        conns = v.optional_integer(
            "connections",
            connections,
            minimum=1,
            maximum=self._client.transfers.config.max_connections_per_transfer,
        )
        return minutes, conns

    async def _place(
        self, record: VideoDownloadUrl, dest: str | os.PathLike[str]
    ) -> tuple[Path, str | None]:
        """Where to download: the caller's file, or a directory plus the API's name for
        the file (a name the caller did not choose: it never replaces an existing file)."""
        if not _is_directory(dest):
            return Path(dest), None
        directory = Path(dest)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: directory.mkdir(parents=True, exist_ok=True)
        )
        return directory, _file_name(record)

    async def existing_copy(
        self, record: VideoDownloadUrl, dest: str | os.PathLike[str]
    ) -> Path | None:
        """The complete copy of ``record``'s video already at ``dest``, or ``None``.

        ``dest`` as for :meth:`download`: a file path is that file; a directory (existing, or
        spelt with a trailing separator) holds the API's suggested name or a numbered
        alternative of it (``clip (1).mp4``). Complete means a regular file (not a link) with
        the API's size and CRC32C — the check :meth:`download_many`'s ``skip_existing`` makes.
        ``record`` is what :meth:`~pixop_async.resources.exports.ExportsResource.download_url`
        returned. Nothing is created or changed.
        """
        if not isinstance(record, VideoDownloadUrl):
            raise InvalidRequestError(
                "record", "must be the VideoDownloadUrl that exports.download_url returned"
            )
        if not isinstance(dest, str | os.PathLike) or not os.fspath(dest):
            raise InvalidRequestError("dest", "must be a non-empty path")
        if not _is_directory(dest):
            target = Path(dest)
            return target if await self._complete(target, record) else None
        return await self._finished_copy(Path(dest), record)

    async def _fetch(
        self,
        vid: str,
        record: VideoDownloadUrl,
        target: tuple[Path, str | None],
        *,
        minutes: int,
        connections: int | None,
        progress: ProgressCallback | None,
        resume: bool,
    ) -> DownloadResult:
        exports = self._exports

        async def refresh() -> tuple[str, float | None]:
            fresh = await exports.download_url(vid, duration_minutes=minutes)
            return fresh.presigned_url, fresh.expires_at.timestamp()

        scheduler = self._client.transfers
        return await download(
            self._client.http,
            record.presigned_url,
            target[0],
            suggested_name=target[1],
            connections=connections or scheduler.config.connections,
            expected_crc32c=record.crc32c_checksum,
            expected_size=record.file_size,
            progress=progress,
            resume=resume,
            refresh_url=refresh,
            url_expires_at=record.expires_at.timestamp(),
            identity=f"pixop-video:{vid}",
            scheduler=scheduler,
        )

    async def download(
        self,
        video_id: VideoId | str,
        dest: str | os.PathLike[str],
        *,
        duration_minutes: int = 15,
        connections: int | None = None,
        progress: ProgressCallback | None = None,
        resume: bool = True,
    ) -> DownloadResult:
        """Download a video's data to ``dest`` (a file, or a directory to put it in).

        In a directory the file is named after the API's suggested file name, sanitised.
        The bytes are checked against the API's CRC32C and size; nothing is left at the
        final path when they do not match (:class:`~pixop_async.errors.ChecksumMismatchError`).
        ``duration_minutes`` (1-60) is the lifetime asked for each pre-signed URL; expired
        URLs are renewed automatically. An interrupted download resumes where it stopped
        (``result.outcome == "resumed"``); a file ``dest`` that already holds the video's
        bytes (hashed: the API's CRC32C and size) is not fetched again
        (``result.outcome == "skipped"``).
        """
        vid = v.uuid_str("video_id", video_id)
        minutes, conns = self._check(duration_minutes, connections)
        record = await self._exports.download_url(vid, duration_minutes=minutes)
        target = await self._place(record, dest)
        return await self._fetch(
            vid,
            record,
            target,
            minutes=minutes,
            connections=conns,
            progress=progress,
            resume=resume,
        )

    async def download_many(
        self,
        video_ids: Iterable[VideoId | str],
        dest_dir: str | os.PathLike[str],
        *,
        duration_minutes: int = 15,
        connections: int | None = None,
        resume: bool = True,
        skip_existing: bool = True,
        progress: BulkProgress | None = None,
    ) -> BulkReport[str, DownloadResult]:
        """Download many videos into ``dest_dir``; failures are reported per video.

        A video whose file is already in ``dest_dir`` with the API's CRC32C is skipped (under
        its name or a numbered alternative, so a rerun adds no copy).
        ``progress(finished, total)`` counts videos.
        """
        ids = [v.uuid_str("video_ids[]", vid) for vid in video_ids]
        minutes, conns = self._check(duration_minutes, connections)
        # A trailing separator: ``dest_dir`` is a directory even before it exists (else the
        # first video would be written as a file of that name and the others refused).
        directory = os.path.join(os.fspath(dest_dir), "")
        scheduler = self._client.transfers
        limits = fitted(scheduler.config, conns or scheduler.config.connections)
        conns = limits.connections

        async def run(vid: str) -> ItemReport[str, DownloadResult]:
            try:
                record = await self._exports.download_url(vid, duration_minutes=minutes)
                target = await self._place(record, directory)
                if skip_existing and await self.existing_copy(record, directory) is not None:
                    return ItemReport(vid, ItemStatus.SKIPPED)
                result = await self._fetch(
                    vid,
                    record,
                    target,
                    minutes=minutes,
                    connections=conns,
                    progress=None,
                    resume=resume,
                )
            except Exception as exc:  # every failure is reported per item
                return ItemReport(vid, ItemStatus.FAILED, error=exc)
            return ItemReport(vid, ItemStatus.DONE, result)

        return await run_bulk(ids, run, self._client.transfers, progress, limits.files)

    @classmethod
    async def _finished_copy(cls, directory: Path, record: VideoDownloadUrl) -> Path | None:
        """This video's file in ``directory``, under its name or a numbered alternative
        (``clip (1).mp4``: another video with the same suggested name came first)."""
        name = _file_name(record)

        def existing() -> list[Path]:
            found = []
            for n in range(MAX_ALTERNATIVES):
                candidate = directory / (numbered(name, n) if n else name)
                if not os.path.lexists(candidate):
                    break
                found.append(candidate)
            return found

        for candidate in await asyncio.get_running_loop().run_in_executor(None, existing):
            if await cls._complete(candidate, record):
                return candidate
        return None

    @staticmethod
    async def _complete(target: Path, record: VideoDownloadUrl) -> bool:
        """Whether ``target`` is a regular file (not a link to one) of the video's size and
        CRC32C."""
        try:
            info = await asyncio.get_running_loop().run_in_executor(None, target.lstat)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode) or info.st_size != record.file_size:
            return False
        return record.crc32c_checksum is None or (
            await crc32c_file(target) == record.crc32c_checksum
        )

"""Imports from local files: upload to S3 with CRC32C, import from S3, check the result.

The current API ingests from S3 or HTTPS only, so a local file first goes to an S3 bucket
(:func:`~pixop_async.transfer.s3_upload.upload_to_s3`: parallel parts, CRC32C per part,
resumable), then the S3 import starts. The S3 import endpoints take no ``crc32c``
parameter (only the HTTPS import does), so the end-to-end check is made with documented
fields: the object carries its full-object CRC32C for the importer to verify, and with
``wait=True`` the imported video's ``crc32cChecksum`` and size (from its download URL) are
compared with what was uploaded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import attrs

from .. import validation as v
from ..errors import ChecksumMismatchError, InvalidRequestError, PixopError
from ..ids import LocationId, ProjectId, TeamId
from ..models.locations import S3BucketWithAccessKeys
from ..models.videos import VideoInStatus
from ..polling import PollIntervals
from ..transfer import s3_journal as sj
from ..transfer.progress import ProgressCallback
from ..transfer.s3_client import S3Connection
from ..transfer.s3_upload import S3UploadResult
from . import _video_args as a

if TYPE_CHECKING:
    from .imports import ImportsResource

log = logging.getLogger("pixop_async.imports")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


@attrs.frozen
class LocalImport:
    """A local file's import: what was uploaded, and the import's (final, with ``wait``)
    status. ``verified`` is True when Pixop's CRC32C and size of the video were compared
    with the upload's and matched (only with ``wait=True``)."""

    upload: S3UploadResult
    status: VideoInStatus
    verified: bool = False

    @property
    def video_id(self) -> Any:
        return self.status.video_id


@attrs.frozen
class LocalImportItem:
    """One entry of :meth:`ImportsResource.from_files`: a file and the video name."""

    path: str | os.PathLike[str]
    name: str
    object_key: str | None = None


@attrs.frozen
class LocalImportReport:
    """Outcome of one item of :meth:`ImportsResource.from_files` (``error`` is its text;
    ``imported_before`` is the video id when a previous run already imported this file)."""

    item: LocalImportItem
    result: LocalImport | None = None
    error: str | None = None
    imported_before: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None or self.imported_before is not None


def _state_key(item: LocalImportItem, destination: str) -> str | None:
    """Identity of one file version going to one place; ``None`` when it cannot be read."""
    try:
        info = os.stat(item.path)
    except OSError:
        return None
    key = item.object_key if item.object_key is not None else Path(item.path).name
    where = f"{os.path.abspath(item.path)}|{info.st_size}|{info.st_mtime_ns}|{destination}|{key}"
    return hashlib.sha256(where.encode()).hexdigest()


def _load_state(path: Path) -> dict[str, str]:
    """Finished items of earlier runs; a state file that fails validation is ignored."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring import state file %s: %s", path, exc)
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and len(k) == 64 and isinstance(v, str) and _UUID.match(v)
        for k, v in data.items()
    ):
        log.warning("ignoring import state file %s: unexpected content", path)
        return {}
    return data


class LocalImportOptions(TypedDict, total=False):
    """The options of :meth:`ImportsResource.from_file` and ``from_files``, declared once and
    passed through as one mapping; every key is optional."""

    location_id: LocationId | str | None
    """A saved input location to upload to (exactly one of this and ``bucket``)."""
    bucket: S3BucketWithAccessKeys | None
    """A bucket and its keys to upload to."""
    s3: S3Connection | None
    """The S3 endpoint, region and credentials (a non-AWS endpoint, or keys for a location)."""
    wait: bool
    """Return once the copy is DONE and its CRC32C and size match the upload's."""
    timeout: float | None
    """With ``wait``: how long to wait for the import."""
    intervals: PollIntervals | None
    """With ``wait``: polling intervals."""
    progress: ProgressCallback | None
    """``progress(done, total)`` of the upload, in bytes."""
    description: str | None
    project_id: ProjectId | str | None
    file_name: str | None
    full_ingestion: bool
    select_team_id: TeamId | str | None
    part_size: int | None
    """S3 multipart part size."""
    resume: bool
    """Continue an interrupted upload from its journal (default True)."""
    state_dir: str | os.PathLike[str] | None
    """Where upload journals are kept."""


def _known(options: Mapping[str, Any]) -> LocalImportOptions:
    unknown = sorted(set(options) - set(LocalImportOptions.__annotations__))
    if unknown:
        raise TypeError(f"unexpected import option(s): {', '.join(unknown)}")
    return cast(LocalImportOptions, options)


def _check_destination(location_id: LocationId | str | None, bucket: Any) -> None:
    if (location_id is None) == (bucket is None):
        raise InvalidRequestError("location_id", "give exactly one of location_id and bucket")
    if bucket is not None:
        a.s3_bucket(bucket, "bucket")
    else:
        v.uuid_str("location_id", location_id)


async def from_file(
    imports: ImportsResource,
    path: str | os.PathLike[str],
    name: str,
    object_key: str | None,
    options: LocalImportOptions,
) -> LocalImport:
    """See :meth:`ImportsResource.from_file`."""
    options = _known(options)
    location_id, bucket = options.get("location_id"), options.get("bucket")
    _check_destination(location_id, bucket)
    source = Path(path)
    key = a.object_key(object_key if object_key is not None else source.name)
    a.video_name(name)
    client = imports._client
    s3 = options.get("s3")
    if bucket is not None:
        checked = a.s3_bucket(bucket, "bucket")
        base = s3 or S3Connection()
        conn = attrs.evolve(
            base, access_key=checked.access_key, secret_access_key=checked.secret_access_key
        )
        bucket_name = checked.bucket
    else:
        location_ref = v.uuid_str("location_id", location_id)
        location = await client.input_locations.get(location_ref)
        bucket_name = location.bucket
        conn = s3 or S3Connection()
    upload = await client.upload_to_s3(
        source,
        bucket_name,
        key,
        s3=conn,
        progress=options.get("progress"),
        part_size=options.get("part_size"),
        resume=options.get("resume", True),
        state_dir=options.get("state_dir"),
    )
    common: dict[str, Any] = {
        "description": options.get("description"),
        "project_id": options.get("project_id"),
        "file_name": options.get("file_name"),
        "full_ingestion": options.get("full_ingestion", False),
        "select_team_id": options.get("select_team_id"),
    }
    if bucket is not None:
        status = await imports.from_s3(checked, key, name, **common)
    else:
        status = await imports.from_s3_location(location_ref, key, name, **common)
    if not options.get("wait", False):
        return LocalImport(upload, status)
    final = await imports.wait(
        status.video_id, timeout=options.get("timeout"), intervals=options.get("intervals")
    )
    link = await client.exports.download_url(status.video_id, 1)
    if link.file_size != upload.size or (
        link.crc32c_checksum is not None and link.crc32c_checksum != upload.crc32c
    ):
        raise ChecksumMismatchError(
            f"Pixop's copy of {source.name} differs from the uploaded file",
            expected=upload.crc32c,
            actual=link.crc32c_checksum or 0,
        )
    return LocalImport(upload, final, verified=link.crc32c_checksum is not None)


async def from_files(
    imports: ImportsResource,
    items: Iterable[LocalImportItem | str | os.PathLike[str]],
    state_file: str | os.PathLike[str] | None,
    options: LocalImportOptions,
) -> list[LocalImportReport]:
    """See :meth:`ImportsResource.from_files`."""
    options = _known(options)
    entries: Sequence[LocalImportItem] = [
        item if isinstance(item, LocalImportItem) else LocalImportItem(item, Path(item).stem)
        for item in items
    ]
    _check_destination(options.get("location_id"), options.get("bucket"))
    scheduler = imports._client.transfers
    state_path = Path(state_file) if state_file is not None else None
    state = _load_state(state_path) if state_path is not None else {}
    bucket = options.get("bucket")
    destination = (
        f"bucket:{bucket.bucket}"
        if bucket is not None
        else f"location:{options.get('location_id')}"
    )
    lock = asyncio.Lock()

    async def remember(key: str | None, video_id: str) -> None:
        if state_path is None or key is None:
            return
        async with lock:
            state[key] = video_id
            payload = json.dumps(state, sort_keys=True).encode()
            await asyncio.to_thread(sj.write, state_path, payload)

    async def one(item: LocalImportItem) -> LocalImportReport:
        key = _state_key(item, destination)
        if key is not None and key in state:
            return LocalImportReport(item, imported_before=state[key])
        async with scheduler.file_slot():
            try:
                result = await from_file(imports, item.path, item.name, item.object_key, options)
            except (PixopError, OSError, ValueError) as exc:
                return LocalImportReport(item, error=f"{type(exc).__name__}: {exc}")
        await remember(key, str(result.video_id))
        return LocalImportReport(item, result)

    return list(await asyncio.gather(*(one(item) for item in entries)))

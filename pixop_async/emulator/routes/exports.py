"""``/v1/videos/{videoId}/out/*``: exports into the stand-in buckets and download URLs.

An export runs as a timed phase (progress over time, scaled by ``config.speed``) and then
really writes the object into the bucket directory (or, with ``config.s3_endpoint``, puts it
with the S3 protocol and its CRC32C). It fails when, by then, the bucket has gone or the key
has been taken; such a FAILED export can be restarted or abandoned.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from .. import buckets, lifecycle, media, records, s3_remote
from ..clock import iso
from ..context import owned, state_of
from ..http import fail, no_content, ok, path_uuid, query_int, read_json
from ..state import EmulatorState
from .locations import inline_bucket, saved_bucket

EXPORT_SECONDS = 1.0
EXPORT_BYTES_PER_SECOND = 200 * 1024 * 1024
PREFIX_MAX = 1024


@attrs.define
class ExportJob:
    bucket: str
    key: str
    access_key: str
    secret: str = attrs.field(repr=False)
    task: asyncio.Task[None] | None = None


def _video(request: web.Request) -> dict[str, Any]:
    state = state_of(request)
    lifecycle.tick(state)
    return owned(request, state.videos, path_uuid(request, "videoId"), "Video")


def _out_status(record: dict[str, Any]) -> dict[str, Any]:
    return {"videoId": record["id"], "output": record["output"]}


def _export_status(record: dict[str, Any]) -> str | None:
    state = (record.get("output") or {}).get("state")
    return None if state is None else str(state["status"])


def _ready_media(state: EmulatorState, record: dict[str, Any]) -> records.MediaInfo:
    info = lifecycle.media_of(state, record["id"])
    if info is None or not records.is_ready_for_output(record):
        fail(409, "VIDEO_PROCESSING_NOT_DONE", "The video data is not ready yet")
    return info


def _object_key(prefix: str, file_name: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/{file_name}" if prefix else file_name


async def _finish(state: EmulatorState, video_id: str, job: ExportJob) -> None:
    record = state.videos.get(video_id)
    info = lifecycle.media_of(state, video_id)
    if record is None or info is None:
        return
    try:
        if s3_remote.enabled(state):
            crc = await asyncio.to_thread(info.checksum)
            await s3_remote.put(
                state, job.bucket, job.key, job.access_key, job.secret, Path(info.path), crc
            )
            records.output_state(state, record, "DONE", 100)
            state.emit("video_out.done", video_id)
            return
        bucket_dir = buckets.bucket_path(state, job.bucket)
        target = buckets.object_path(state, job.bucket, job.key)
        if not bucket_dir.is_dir():
            raise FileNotFoundError(f"bucket {job.bucket} no longer exists")
        if target.exists():
            raise FileExistsError(f"object {job.key} already exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".pixop-part")
        await asyncio.to_thread(shutil.copyfile, info.path, partial)
        os.replace(partial, target)
    except OSError as exc:
        records.output_state(state, record, "FAILED", 0, f"Copy to S3 failed: {exc}")
        state.emit("video_out.failed", video_id)
        return
    records.output_state(state, record, "DONE", 100)
    state.emit("video_out.done", video_id)


def _start(state: EmulatorState, record: dict[str, Any], job: ExportJob) -> None:
    w = lifecycle.world(state)
    video_id = record["id"]
    info = lifecycle.media_of(state, video_id)
    size = info.size if info else 0
    w.exports[video_id] = job
    records.output_state(state, record, "IN_PROGRESS", 0)
    state.emit("video_out.started", video_id)

    def progress(percent: int, _eta: int) -> None:
        records.output_state(state, record, "IN_PROGRESS", percent)

    def done() -> None:
        job.task = w.spawn(_finish(state, video_id, job))

    w.start_phase(
        video_id, "export", EXPORT_SECONDS + size / EXPORT_BYTES_PER_SECOND, progress, done
    )


def _prefix(body: dict[str, Any]) -> str:
    value = body.get("objectKeyPrefix")
    if not isinstance(value, str) or len(value) > PREFIX_MAX:
        fail(
            400,
            "VALIDATION_ERROR",
            "Validation failed for objectKeyPrefix",
            validation_errors=[
                {"field": "objectKeyPrefix", "value": None, "message": "must be a string"}
            ],
        )
    return value


async def _export(
    request: web.Request, body: dict[str, Any], bucket: str, access_key: str, secret: str
) -> web.Response:
    state = state_of(request)
    record = _video(request)
    prefix = _prefix(body)
    info = _ready_media(state, record)
    current = _export_status(record)
    if current == "IN_PROGRESS":
        fail(409, "VIDEO_ALREADY_BEING_COPIED_TO_OUTPUT_LOCATION", "An export is already running")
    if current == "FAILED":
        fail(
            409,
            "ONGOING_COPY_TO_OUTPUT_NEEDS_TO_BE_RESTARTED_OR_ABANDONED",
            "The previous export failed; restart or abandon it first",
        )
    key = _object_key(prefix, info.file_name)
    if s3_remote.enabled(state):
        await s3_remote.check_writable(state, bucket, key, access_key, secret)
    else:
        buckets.open_bucket(state, bucket, access_key, secret)
        if buckets.object_path(state, bucket, key).exists():
            fail(409, "OBJECT_ALREADY_EXISTS", f"Object {key} already exists in bucket {bucket}")
    _start(state, record, ExportJob(bucket, key, access_key, secret))
    return ok(_out_status(record))


async def to_s3(request: web.Request) -> web.Response:
    body = await read_json(request)
    return await _export(request, body, *inline_bucket(body))


async def to_s3_location(request: web.Request) -> web.Response:
    location_id = path_uuid(request, "outputLocationId")
    body = await read_json(request)
    return await _export(request, body, *saved_bucket(request, "output", location_id))


async def status(request: web.Request) -> web.Response:
    return ok(_out_status(_video(request)))


def _failed_job(state: EmulatorState, record: dict[str, Any]) -> ExportJob:
    job: ExportJob | None = lifecycle.world(state).exports.get(record["id"])
    if _export_status(record) != "FAILED" or job is None:
        fail(409, "VIDEO_OUT_OPERATION_NOT_FAILED", "The 'video out' operation has not failed")
    return job


async def restart(request: web.Request) -> web.Response:
    state = state_of(request)
    record = _video(request)
    job = _failed_job(state, record)
    _start(state, record, job)
    return ok(_out_status(record))


async def abandon(request: web.Request) -> web.Response:
    state = state_of(request)
    record = _video(request)
    _failed_job(state, record)
    lifecycle.world(state).exports.pop(record["id"], None)
    records.output_state(state, record, None)
    return no_content()


async def download_url(request: web.Request) -> web.Response:
    state = state_of(request)
    record = _video(request)
    minutes = query_int(request, "durationMinutes", 15, minimum=1, maximum=60) or 15
    info = _ready_media(state, record)
    checksum = await asyncio.to_thread(info.checksum)
    url, expires_at = media.presign(
        request,
        Path(info.path),
        expires_in=minutes * 60,
        file_name=info.file_name,
        content_type=info.mime_type,
    )
    return ok(
        {
            "videoId": record["id"],
            "presignedUrl": url,
            "expiresAt": iso(dt.datetime.fromtimestamp(expires_at, tz=dt.timezone.utc)),
            "fileSize": info.size,
            "mimeType": info.mime_type,
            "fileExtension": info.extension,
            "suggestedFileName": info.file_name,
            "crc32cChecksum": checksum,
        }
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/videos/{videoId}/out/s3", to_s3)
    r.add_post("/api/v1/videos/{videoId}/out/s3/{outputLocationId}", to_s3_location)
    r.add_post("/api/v1/videos/{videoId}/out/https", download_url)
    r.add_get("/api/v1/videos/{videoId}/out/status", status)
    r.add_post("/api/v1/videos/{videoId}/out/restart", restart)
    r.add_delete("/api/v1/videos/{videoId}/out/abandon", abandon)

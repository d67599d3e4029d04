"""``/v1/videos/in/*``: imports that really fetch their data.

HTTPS sources are probed, then downloaded with ranged GETs over up to
``maxConcurrentConnections`` connections (:mod:`..fetcher`); S3 sources are copied from the
stand-in buckets (:mod:`..buckets`), or with the S3 protocol from ``config.s3_endpoint``
(:mod:`..s3_remote`, which checks the object's CRC32C). An optional ``crc32c`` is verified
over the stored file.
A finished copy moves on to ingestion and the free clip (:mod:`..lifecycle`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import attrs
from aiohttp import web

from ...import_url import address_problem, literal_address, url_problem
from .. import buckets, lifecycle, records, s3_remote
from ..context import caller, owned, selected_team, state_of
from ..fetcher import Probe, RangedDownload, SourceError, probe, session
from ..http import (
    fail,
    invalid,
    no_content,
    ok,
    optional_text,
    path_uuid,
    query_bool,
    query_int,
    read_json,
    require_text,
)
from ..state import EmulatorState
from .locations import inline_bucket, saved_bucket

MAX_IMPORT_BYTES = 500 * 1024**3
CRC32C_MAX = 2**32 - 1
COPY_CHUNK = 8 * 1024 * 1024
DEFAULT_PROJECT = "Default Project"


@attrs.define
class ImportJob:
    """What an import needs to run again after a failure."""

    full_ingestion: bool
    expected_crc32c: int | None
    target: Path
    file_name: str
    download: RangedDownload | None = None
    source: Path | None = None
    remote: s3_remote.RemoteObject | None = None
    task: asyncio.Task[None] | None = None
    failure_code: str | None = None


# -- the running import -------------------------------------------------------------------


def _fail(
    state: EmulatorState,
    video_id: str,
    job: ImportJob,
    code: str,
    message: str,
    details: Any = None,
) -> None:
    record = state.videos.get(video_id)
    if record is None:
        return
    job.failure_code = code
    percent = record["upload"]["uploadState"]["progressPercentage"]
    error = {"code": code, "message": message, "details": details}
    records.set_upload(state, record, None, "FAILED", percent, error)
    state.emit("video_in.failed", video_id)


async def _copy(source: Path, target: Path, on_progress: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := await asyncio.to_thread(src.read, COPY_CHUNK):
            await asyncio.to_thread(dst.write, chunk)
            done += len(chunk)
            on_progress(done)


async def run_import(state: EmulatorState, video_id: str, job: ImportJob, *, verify: bool) -> None:
    record = state.videos[video_id]
    size = record["upload"]["file"]["size"] or 1

    def progress(done: int) -> None:
        records.set_upload(state, record, None, "IN_PROGRESS", min(99, done * 100 // size))

    try:
        if job.download is not None:
            await job.download.run(progress)
        elif job.source is not None:
            await _copy(job.source, job.target, progress)
        elif job.remote is not None:
            await s3_remote.fetch(state, job.remote, job.target, progress)
    except SourceError as exc:
        _fail(state, video_id, job, exc.code, exc.message)
        return
    except OSError as exc:
        _fail(state, video_id, job, "KEY_NOT_FOUND", f"Reading the source failed: {exc.strerror}")
        return
    except Exception as exc:  # never leave an import IN_PROGRESS forever
        _fail(state, video_id, job, "INTERNAL_SERVER_ERROR", f"Import failed: {exc!r}")
        return
    info = lifecycle.register_media(state, video_id, job.target, job.file_name)
    if verify and job.expected_crc32c is not None:
        actual = await asyncio.to_thread(info.checksum)
        if actual != job.expected_crc32c:
            details = {"expectedCrc32c": job.expected_crc32c, "actualCrc32c": actual}
            _fail(
                state,
                video_id,
                job,
                "CHECKSUM_MISMATCH",
                "The CRC32C of the copied data does not match the one given",
                details,
            )
            return
    job.failure_code = None
    records.set_upload(state, record, info.file_json(state), "DONE", 100)
    state.emit("video_in.done", video_id)
    lifecycle.start_ingestion(
        state, video_id, full=job.full_ingestion, event_prefix="video_in_ingestion"
    )


def _launch(state: EmulatorState, video_id: str, job: ImportJob, *, verify: bool) -> None:
    job.task = lifecycle.world(state).spawn(run_import(state, video_id, job, verify=verify))


# -- request parsing ----------------------------------------------------------------------


def _project(request: web.Request, body: dict[str, Any], team: dict[str, Any]) -> str:
    state = state_of(request)
    raw = body.get("projectId")
    if raw is not None:
        try:
            project_id = str(uuid.UUID(str(raw)))
        except ValueError:
            invalid("projectId", raw, "must be a valid UUID")
        project = owned(request, state.projects, project_id, "Project")
        if project["teamId"] != team["id"]:
            fail(404, "RESOURCE_NOT_FOUND", "Project not found in the selected team")
        return project_id
    defaults = [
        p
        for p in state.projects.values()
        if p["teamId"] == team["id"] and p["name"] == DEFAULT_PROJECT
    ]
    if defaults:
        return str(min(defaults, key=lambda p: p["createdAt"])["id"])
    return str(state.add_project(team["id"], DEFAULT_PROJECT)["id"])


def _new_master(
    request: web.Request, body: dict[str, Any], source_name: str, size: int
) -> tuple[dict[str, Any], str]:
    """Create the master video record for an import; returns it with its file name."""
    state = state_of(request)
    name = require_text(body, "name", min_len=1, max_len=255)
    description = optional_text(body, "description", max_len=511)
    file_name = body.get("fileName")
    if file_name is not None:
        file_name = require_text(body, "fileName", min_len=1, max_len=255)
    if size > MAX_IMPORT_BYTES:
        fail(400, "INVALID_INPUT", "The video is larger than 500 GB")
    team = selected_team(request)
    project_id = _project(request, body, team)
    record = records.new_video(
        state,
        team_id=team["id"],
        project_id=project_id,
        user_id=caller(request)["id"],
        name=name,
        is_master=True,
        description=description,
    )
    final_name = file_name or records.file_name_for(name, PurePosixPath(source_name).suffix.lower())
    mime, _, container = records.container_of(final_name)
    file_json = {
        "name": final_name,
        "size": size,
        "type": mime,
        "containerName": container,
        "lastModified": lifecycle.now_iso(state),
    }
    records.set_upload(state, record, file_json, "IN_PROGRESS", 0)
    state.videos[record["id"]] = record
    return record, final_name


def _status(record: dict[str, Any]) -> dict[str, Any]:
    return {"videoId": record["id"], "upload": record["upload"], "ingestion": record["ingestion"]}


def _check_source_url(request: web.Request, url: str) -> None:
    allow = state_of(request).config.allow_http_sources
    problem = url_problem(url, allow_loopback_http=allow)
    if problem is not None:
        fail(
            400,
            "INVALID_HTTPS_URL",
            f"url {problem}",
            validation_errors=[{"field": "url", "value": None, "message": problem}],
        )


async def _check_resolved(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if literal_address(host) is not None:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, 443)
    except OSError:
        fail(400, "INVALID_HTTPS_URL", f"The host {host} does not resolve")
    for info in infos:
        problem = address_problem(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        if problem is not None:
            fail(400, "INVALID_HTTPS_URL", f"The host {host} resolves to a {problem} address")


# -- handlers -------------------------------------------------------------------------------


async def from_https(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await read_json(request)
    url = require_text(body, "url", min_len=1, max_len=4096)
    full = query_bool(request, "fullIngestion")
    crc = query_int(request, "crc32c", None, minimum=0, maximum=CRC32C_MAX)
    connections = query_int(request, "maxConcurrentConnections", 10, minimum=1, maximum=20) or 10
    require_text(body, "name", min_len=1, max_len=255)
    _check_source_url(request, url)
    if urlsplit(url).scheme == "https":
        await _check_resolved(url)
    async with session(1) as client:
        try:
            found: Probe = await probe(client, url)
        except SourceError as exc:
            fail(400, exc.code, exc.message)
    record, file_name = _new_master(request, body, urlsplit(url).path, found.size)
    target = lifecycle.world(state).video_dir(record["id"]) / file_name
    download = RangedDownload(url, target, found.size, found.etag, connections)
    job = ImportJob(full, crc, target, file_name, download=download)
    lifecycle.world(state).imports[record["id"]] = job
    state.emit("video_in.started", record["id"])
    _launch(state, record["id"], job, verify=True)
    return ok(_status(record), status=201)


async def _from_bucket(
    request: web.Request, body: dict[str, Any], bucket: str, access_key: str, secret: str
) -> web.Response:
    state = state_of(request)
    key = require_text(body, "objectKey", min_len=1, max_len=1024)
    full = query_bool(request, "fullIngestion")
    require_text(body, "name", min_len=1, max_len=255)
    if s3_remote.enabled(state):
        remote = await s3_remote.head(state, bucket, key, access_key, secret)
        record, file_name = _new_master(request, body, key, remote.size)
        target = lifecycle.world(state).video_dir(record["id"]) / file_name
        job = ImportJob(full, None, target, file_name, remote=remote)
    else:
        buckets.open_bucket(state, bucket, access_key, secret)
        source = buckets.find_object(state, bucket, key)
        record, file_name = _new_master(request, body, key, source.stat().st_size)
        target = lifecycle.world(state).video_dir(record["id"]) / file_name
        job = ImportJob(full, None, target, file_name, source=source)
    lifecycle.world(state).imports[record["id"]] = job
    state.emit("video_in.started", record["id"])
    _launch(state, record["id"], job, verify=True)
    return ok(_status(record), status=201)


async def from_s3(request: web.Request) -> web.Response:
    body = await read_json(request)
    return await _from_bucket(request, body, *inline_bucket(body))


async def from_s3_location(request: web.Request) -> web.Response:
    location_id = path_uuid(request, "inputLocationId")
    body = await read_json(request)
    return await _from_bucket(request, body, *saved_bucket(request, "input", location_id))


def _master(request: web.Request) -> dict[str, Any]:
    state = state_of(request)
    lifecycle.tick(state)
    record = owned(request, state.videos, path_uuid(request, "videoId"), "Video")
    if record.get("upload") is None:
        fail(404, "RESOURCE_NOT_FOUND", "This video has no 'video in' operation")
    return record


def _require_failed(record: dict[str, Any]) -> None:
    if record["upload"]["uploadState"]["uploadStatus"] != "FAILED":
        fail(409, "VIDEO_IN_OPERATION_NOT_FAILED", "The 'video in' operation has not failed")


async def status(request: web.Request) -> web.Response:
    return ok(_status(_master(request)))


async def restart(request: web.Request) -> web.Response:
    state = state_of(request)
    record = _master(request)
    skip = query_bool(request, "skipChecksumValidation")
    _require_failed(record)
    job: ImportJob | None = lifecycle.world(state).imports.get(record["id"])
    if job is None:
        fail(409, "VIDEO_IN_OPERATION_NOT_FAILED", "Nothing to restart for this video")
    if job.failure_code == "CHECKSUM_MISMATCH" and not skip:
        fail(
            409,
            "VIDEO_IN_RESTART_CHECKSUM_MISMATCH",
            "The copied data does not match the given CRC32C; restart with "
            "skipChecksumValidation=true or abandon the import",
        )
    percent = record["upload"]["uploadState"]["progressPercentage"]
    records.set_upload(state, record, None, "IN_PROGRESS", percent)
    state.emit("video_in.started", record["id"])
    _launch(state, record["id"], job, verify=not skip)
    return ok(_status(record))


async def abandon(request: web.Request) -> web.Response:
    state = state_of(request)
    record = _master(request)
    _require_failed(record)
    lifecycle.delete_video(state, record["id"])
    shutil.rmtree(lifecycle.world(state).video_dir(record["id"]), ignore_errors=True)
    return no_content()


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/videos/in/https", from_https)
    r.add_post("/api/v1/videos/in/s3", from_s3)
    r.add_post("/api/v1/videos/in/s3/{inputLocationId}", from_s3_location)
    r.add_get("/api/v1/videos/{videoId}/in/status", status)
    r.add_post("/api/v1/videos/{videoId}/in/restart", restart)
    r.add_delete("/api/v1/videos/{videoId}/in/abandon", abandon)

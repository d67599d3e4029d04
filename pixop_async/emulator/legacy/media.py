"""Emulated ``/media/v1/*``: multipart uploads stored on disk, ranged downloads with ETags."""

from __future__ import annotations

import contextlib
from pathlib import Path, PurePath
from typing import Any

from aiohttp import BodyPartReader, web

from ..context import state_of
from ..media import serve_file
from .catalog import media_dir, settle
from .common import JWT, bad_request, endpoint, fault, ok, store_of
from .videos import team_video

CHUNK = 256 * 1024
FILE_NAME_MAX = 1024


def _header_safe(name: str) -> str:
    """Keep a client's file name as given, minus what would break the header itself."""
    return "".join(ch for ch in name if ch not in '\r\n"')[:FILE_NAME_MAX]


async def _receive(request: web.Request, video: dict[str, Any], *, light: bool) -> dict[str, Any]:
    """Stream the multipart file part to disk; returns the upload record."""
    if not request.content_type.startswith("multipart/"):
        bad_request("Content-Type must be multipart/form-data")
    reader = await request.multipart()
    state = state_of(request)
    target = media_dir(state, video["id"]) / "original.bin"
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.filename:
            continue
        video["uploading"] = True
        size = 0
        try:
            with target.open("wb") as out:
                while chunk := await part.read_chunk(CHUNK):
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            video["uploading"] = False
            with contextlib.suppress(OSError):
                target.unlink()
            raise
        video["uploading"] = False
        name = part.filename
        return {
            "fileName": name,
            "size": size,
            "fileType": part.headers.get("Content-Type", "application/octet-stream"),
            "container": PurePath(name).suffix.lstrip(".").lower() or "mp4",
            "light": light,
            "at": state.clock.time(),
            "path": str(target),
        }
    bad_request("The multipart body has no file part")


async def _upload(request: web.Request, *, light: bool) -> web.Response:
    video = team_video(request, request.match_info["id"])
    if video["processing"] is not None:
        fault(409, "UploadNotAllowedException", "Media of a processed video cannot be uploaded")
    if video["upload"] is not None or video["uploading"]:
        fault(409, "MediaAlreadyUploadedException", "This video already has media")
    video["upload"] = await _receive(request, video, light=light)
    state_of(request).touch(video)
    origin, vid = str(request.url.origin()), video["id"]
    return ok(
        {
            "projectId": video["projectId"],
            "videoId": vid,
            "checkIngestProgressUrl": f"{origin}/videos/v1/check-ingest-video-progress/{vid}",
            "processVideoUrl": f"{origin}/videos/v1/process-video/{vid}",
        }
    )


@endpoint(JWT)
async def upload(request: web.Request) -> web.Response:
    return await _upload(request, light=False)


@endpoint(JWT)
async def upload_light(request: web.Request) -> web.Response:
    return await _upload(request, light=True)


@endpoint(JWT)
async def download_original(request: web.Request) -> web.StreamResponse:
    video = team_video(request, request.match_info["id"])
    record = video["upload"]
    if record is None:
        fault(404, "MediaNotFoundException", "No media has been uploaded for this video")
    return await serve_file(
        request,
        Path(record["path"]),
        content_type=record["fileType"],
        file_name=_header_safe(record["fileName"]),
    )


@endpoint(JWT)
async def download_processed(request: web.Request) -> web.StreamResponse:
    state, store = state_of(request), store_of(request)
    video = team_video(request, request.match_info["id"])
    processing = video["processing"]
    if processing is None:
        fault(404, "MediaNotFoundException", "The video is not the output of a process request")
    await settle(state, store, video)
    if not processing.get("outputPath"):
        fault(404, "MediaNotFoundException", "Processing has not finished yet")
    return await serve_file(
        request,
        Path(processing["outputPath"]),
        content_type=processing["contentType"],
        file_name=_header_safe(processing["fileName"]),
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/media/v1/upload/light/{id}", upload_light)
    r.add_post("/media/v1/upload/{id}", upload)
    r.add_get("/media/v1/download/original/{id}", download_original)
    r.add_get("/media/v1/download/processed/{id}", download_processed)

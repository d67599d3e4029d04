"""``/v1/videos``: listing with filters, details, renaming, deletion, derived, compare-with."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from .. import lifecycle, records
from ..context import caller, owned, state_of
from ..http import (
    fail,
    invalid,
    ok,
    optional_text,
    paginate,
    path_uuid,
    query_enum,
    query_uuid,
    require_text,
)

#: Durations of compared videos may differ by at most this share of the longer one.
COMPARE_DURATION_TOLERANCE = 0.05
STUDIO_COMPARE_URL = "https://app.pixop.com/compare"


def _video(request: web.Request, name: str = "videoId") -> dict[str, Any]:
    state = state_of(request)
    lifecycle.tick(state)
    return owned(request, state.videos, path_uuid(request, name), "Video")


def _master_id(record: dict[str, Any]) -> str:
    if record["flags"]["isMaster"]:
        return str(record["id"])
    return str((record.get("masterVideo") or {}).get("id"))


async def list_videos(request: web.Request) -> web.Response:
    state = state_of(request)
    lifecycle.tick(state)
    team_ids = state.team_ids(caller(request)["id"])
    team_id = query_uuid(request, "teamId")
    project_id = query_uuid(request, "projectId")
    master_id = query_uuid(request, "masterVideoId")
    clip_id = query_uuid(request, "clipId")
    clip_mode = query_enum(request, "clipMode", ("INCLUDE", "EXCLUDE", "ONLY"), "INCLUDE")

    def wanted(video: dict[str, Any]) -> bool:
        is_clip = video["flags"]["isClip"]
        return (
            video["teamId"] in team_ids
            and team_id in (None, video["teamId"])
            and project_id in (None, video["projectId"])
            and master_id in (None, (video.get("masterVideo") or {}).get("id"))
            and clip_id in (None, video.get("clipId"))
            and not (clip_mode == "EXCLUDE" and is_clip)
            and not (clip_mode == "ONLY" and not is_clip)
        )

    return ok(paginate(request, [v for v in state.videos.values() if wanted(v)]))


async def get_video(request: web.Request) -> web.Response:
    return ok(_video(request))


async def patch_video(request: web.Request) -> web.Response:
    state = state_of(request)
    video = _video(request)
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        fail(400, "INVALID_REQUEST_BODY", "Request body is not valid JSON")
    if not isinstance(body, dict):
        fail(400, "MISSING_REQUEST_BODY", "Required request body is missing")
    if body.get("name") is not None:
        video["name"] = require_text(body, "name", min_len=1, max_len=255)
    if "description" in body:
        video["description"] = optional_text(body, "description", max_len=511)
    state.touch(video)
    return ok(video)


async def _expected_ids(request: web.Request) -> set[str] | None:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        fail(400, "INVALID_REQUEST_BODY", "Request body is not valid JSON")
    if body is None:
        return None
    if not isinstance(body, list):
        fail(400, "INVALID_REQUEST_BODY", "Request body must be a JSON array of video ids")
    expected: set[str] = set()
    for item in body:
        try:
            expected.add(str(uuid.UUID(str(item))))
        except ValueError:
            invalid("videoIds", item, "must be a valid UUID")
    return expected


async def delete_video(request: web.Request) -> web.Response:
    state = state_of(request)
    video = _video(request)
    expected = await _expected_ids(request)
    derived = set(lifecycle.derived_ids(state, video["id"]))
    if expected is not None and not derived <= expected:
        missing = sorted(derived - expected)
        fail(
            409,
            "CONFLICTING_DERIVED_VIDEO_IDS",
            f"{len(missing)} derived video(s) would be deleted that were not expected",
            details={"unexpectedVideoIds": missing},
        )
    return ok(lifecycle.delete_video(state, video["id"]))


async def derived_videos(request: web.Request) -> web.Response:
    state = state_of(request)
    video = _video(request)
    items = [state.videos[i] for i in lifecycle.derived_ids(state, video["id"])]
    return ok(paginate(request, items))


def _duration(record: dict[str, Any]) -> int:
    metadata = (record.get("ingestion") or {}).get("metadata") or {}
    return int(metadata.get("durationInMillis") or 0)


async def compare_with(request: web.Request) -> web.Response:
    left = _video(request)
    right = _video(request, "targetVideoId")
    for record in (left, right):
        if not records.fully_ingested(record):
            fail(
                409,
                "VIDEO_NOT_FULLY_INGESTED",
                f"Video {record['id']} has no complete frames and web version yet",
            )
    if left["id"] == right["id"]:
        fail(409, "VIDEO_COMPARISON_CONFLICT", "A video cannot be compared with itself")
    if _master_id(left) != _master_id(right):
        fail(409, "VIDEO_COMPARISON_CONFLICT", "The videos do not share the same master video")
    longest = max(_duration(left), _duration(right), 1)
    if abs(_duration(left) - _duration(right)) > longest * COMPARE_DURATION_TOLERANCE:
        fail(409, "VIDEO_COMPARISON_CONFLICT", "The durations of the videos differ too much")
    link = f"{STUDIO_COMPARE_URL}?left={left['id']}&right={right['id']}"
    return ok({"link": link, "leftVideoId": left["id"], "rightVideoId": right["id"]})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/videos", list_videos)
    r.add_get("/api/v1/videos/{videoId}", get_video)
    r.add_patch("/api/v1/videos/{videoId}", patch_video)
    r.add_delete("/api/v1/videos/{videoId}", delete_video)
    r.add_get("/api/v1/videos/{videoId}/derived", derived_videos)
    r.add_get("/api/v1/videos/{videoId}/compare-with/{targetVideoId}", compare_with)

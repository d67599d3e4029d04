"""Emulated ``/videos/v1/*``: projects, videos, process-video and progress checks."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..context import state_of
from ..state import EmulatorState
from .catalog import (
    descendants,
    ingestion_state,
    new_video,
    processing_state,
    settle,
    summary_json,
    video_json,
)
from .common import (
    JWT,
    LegacyStore,
    bad_request,
    endpoint,
    fault,
    legacy_time,
    not_found,
    ok,
    read_body,
    store_of,
    team_of,
)
from .processing import start_run

NAME_MAX = 255
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
DEFAULT_PROJECT = "Default Project"


def _uuid(raw: str | None, what: str) -> str:
    try:
        return str(uuid.UUID(str(raw)))
    except ValueError:
        bad_request(f"{what} must be a UUID")


def _origin(request: web.Request) -> str:
    return str(request.url.origin())


def _ctx(request: web.Request) -> tuple[EmulatorState, LegacyStore, dict[str, Any]]:
    return state_of(request), store_of(request), team_of(request)


def _name(body: dict[str, Any], *, required: bool) -> str | None:
    name = body.get("name")
    if name is None and not required:
        return None
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX:
        bad_request(f"name must be a string of 1 to {NAME_MAX} characters")
    return name


# -- projects -------------------------------------------------------------------------------


def project_json(project: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": project["id"],
        "name": project["name"],
        "teamId": project["teamId"],
        "dateCreated": legacy_time(project["createdAt"]),
        "timeLastUpdated": legacy_time(project["updatedAt"]),
    }


def team_project(request: web.Request, raw_id: str) -> dict[str, Any]:
    state, _, team = _ctx(request)
    pid = _uuid(raw_id, "project id")
    project = state.projects.get(pid)
    if project is None or project["teamId"] != team["id"]:
        not_found("Project", pid)
    return project


def hal_page(
    request: web.Request, path: str, key: str, items: list[dict[str, Any]], render: Any
) -> dict[str, Any]:
    """A HAL page of ``items`` (already filtered), with links that keep the filters."""
    page = _query_int(request, "page", 0, 0, None)
    size = _query_int(request, "page-size", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX)
    ordered = sorted(items, key=lambda item: (item["createdAt"], item["id"]))
    last = max(0, (len(ordered) - 1) // size)
    window = ordered[page * size : (page + 1) * size]
    filters = {k: val for k, val in request.query.items() if k not in ("page", "page-size")}

    def href(number: int) -> dict[str, str]:
        query = urlencode({**filters, "page": number, "page-size": size})
        return {"href": f"{_origin(request)}{path}?{query}"}

    links = {"self": href(page), "first": href(0), "last": href(last)}
    if page < last:
        links["next"] = href(page + 1)
    if page > 0:
        links["previous"] = href(page - 1)
    return {
        "pageSize": size,
        "page": page,
        "_links": links,
        "_embedded": {key: [render(item) for item in window]},
    }


def _query_int(request: web.Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        bad_request(f"{name} must be an integer")
    if value < low or (high is not None and value > high):
        bad_request(f"{name} must be between {low} and {high if high is not None else 'any'}")
    return value


@endpoint(JWT)
async def get_project(request: web.Request) -> web.Response:
    return ok({"project": project_json(team_project(request, request.match_info["id"]))})


@endpoint(JWT)
async def list_projects(request: web.Request) -> web.Response:
    state, _, team = _ctx(request)
    projects = [p for p in state.projects.values() if p["teamId"] == team["id"]]

    def render(project: dict[str, Any]) -> dict[str, Any]:
        link = {"self": {"href": f"{_origin(request)}/videos/v1/project/{project['id']}"}}
        return {"_links": link, **project_json(project)}

    return ok(hal_page(request, "/videos/v1/projects", "projects", projects, render))


@endpoint(JWT)
async def create_project(request: web.Request) -> web.Response:
    state, _, team = _ctx(request)
    name = _name(await read_body(request), required=True)
    assert name is not None
    return ok({"project": project_json(state.add_project(team["id"], name))})


@endpoint(JWT)
async def update_project(request: web.Request) -> web.Response:
    state = state_of(request)
    project = team_project(request, request.match_info["id"])
    name = _name(await read_body(request), required=True)
    project["name"] = name
    state.touch(project)
    return ok({"project": project_json(project)})


@endpoint(JWT)
async def delete_project(request: web.Request) -> web.Response:
    state, store, _ = _ctx(request)
    project = team_project(request, request.match_info["id"])
    holders = list(store.videos.values()) + list(state.videos.values())
    if any(v.get("projectId") == project["id"] for v in holders):
        fault(409, "ProjectNotEmptyException", "The project still has videos; delete them first")
    del state.projects[project["id"]]
    return ok({"project": project_json(project)})


# -- videos ---------------------------------------------------------------------------------


def team_video(request: web.Request, raw_id: str) -> dict[str, Any]:
    _, store, team = _ctx(request)
    vid = _uuid(raw_id, "video id")
    video = store.videos.get(vid)
    if video is None or video["teamId"] != team["id"]:
        not_found("Video", vid)
    return video


def _default_project(state: EmulatorState, team_id: str) -> dict[str, Any]:
    mine = [p for p in state.projects.values() if p["teamId"] == team_id]
    named = sorted((p for p in mine if p["name"] == DEFAULT_PROJECT), key=lambda p: p["createdAt"])
    return named[0] if named else state.add_project(team_id, DEFAULT_PROJECT)


@endpoint(JWT)
async def get_video(request: web.Request) -> web.Response:
    state, store, _ = _ctx(request)
    video = team_video(request, request.match_info["id"])
    await settle(state, store, video)
    return ok({"video": video_json(state, store, video)})


@endpoint(JWT)
async def list_videos(request: web.Request) -> web.Response:
    _, store, team = _ctx(request)
    videos = [v for v in store.videos.values() if v["teamId"] == team["id"]]
    if request.query.get("project-id"):
        pid = _uuid(request.query["project-id"], "project-id")
        videos = [v for v in videos if v["projectId"] == pid]
    if request.query.get("parent-id"):
        parent = _uuid(request.query["parent-id"], "parent-id")
        videos = [v for v in videos if v["parentId"] == parent]

    def render(video: dict[str, Any]) -> dict[str, Any]:
        return summary_json(video, f"{_origin(request)}/videos/v1/video/{video['id']}")

    return ok(hal_page(request, "/videos/v1/videos", "videos", videos, render))


@endpoint(JWT)
async def create_video(request: web.Request) -> web.Response:
    state, store, team = _ctx(request)
    body = await read_body(request, required=False)
    name = _name(body, required=False) or "Untitled video"
    if body.get("projectId") is not None:
        project = team_project(request, str(body["projectId"]))
    else:
        project = _default_project(state, team["id"])
    video = new_video(state, name=name, project=project, user_id=request["legacy_user"]["id"])
    store.videos[video["id"]] = video
    origin, vid = _origin(request), video["id"]
    return ok(
        {
            "projectId": project["id"],
            "videoId": vid,
            "uploadMediaUrl": f"{origin}/media/v1/upload/{vid}",
            "uploadLightMediaUrl": f"{origin}/media/v1/upload/light/{vid}",
            "processVideoUrl": f"{origin}/videos/v1/process-video/{vid}",
        }
    )


@endpoint(JWT)
async def delete_video(request: web.Request) -> web.Response:
    state, store, _ = _ctx(request)
    video = team_video(request, request.match_info["id"])
    deleted = descendants(store, video["id"])
    for vid in deleted:
        store.videos.pop(vid, None)
        folder = state.data_dir / "legacy" / vid
        if folder.exists():
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()
    return ok({"deletedVideos": [{"videoId": vid} for vid in deleted]})


@endpoint(JWT)
async def process_video(request: web.Request) -> web.Response:
    state, store, _ = _ctx(request)
    source = team_video(request, request.match_info["id"])
    body = await read_body(request, required=False)
    status = ingestion_state(state, store, source)["ingestionStatus"]
    if source["upload"] is None or status != "DONE":
        fault(409, "VideoNotReadyException", "The video has not finished ingestion")
    processed = start_run(state, store, source, body, user_id=request["legacy_user"]["id"])
    origin, pid = _origin(request), processed["id"]
    return ok(
        {
            "sourceVideoId": source["id"],
            "processedVideoId": pid,
            "projectId": processed["projectId"],
            "checkProgressUrl": f"{origin}/videos/v1/check-process-video-progress/{pid}",
            "downloadMediaUrl": f"{origin}/media/v1/download/processed/{pid}",
        }
    )


@endpoint(JWT)
async def process_progress(request: web.Request) -> web.Response:
    state, store, _ = _ctx(request)
    video = team_video(request, request.match_info["id"])
    if video["processing"] is None:
        fault(409, "VideoNotProcessedException", "The video is not the output of a process request")
    await settle(state, store, video)
    return ok(
        {
            "videoId": video["id"],
            "projectId": video["projectId"],
            "processingState": processing_state(state, store, video),
        }
    )


@endpoint(JWT)
async def ingest_progress(request: web.Request) -> web.Response:
    state, store, _ = _ctx(request)
    video = team_video(request, request.match_info["id"])
    return ok(
        {
            "videoId": video["id"],
            "projectId": video["projectId"],
            "ingestionState": ingestion_state(state, store, video),
        }
    )


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/videos/v1/projects", list_projects, allow_head=False)
    r.add_put("/videos/v1/project", create_project)
    r.add_get("/videos/v1/project/{id}", get_project, allow_head=False)
    r.add_post("/videos/v1/project/{id}", update_project)
    r.add_delete("/videos/v1/project/{id}", delete_project)
    r.add_get("/videos/v1/videos", list_videos, allow_head=False)
    r.add_put("/videos/v1/video", create_video)
    r.add_get("/videos/v1/video/{id}", get_video, allow_head=False)
    r.add_delete("/videos/v1/video/{id}", delete_video)
    r.add_post("/videos/v1/process-video/{id}", process_video)
    r.add_get("/videos/v1/check-process-video-progress/{id}", process_progress, allow_head=False)
    r.add_get("/videos/v1/check-ingest-video-progress/{id}", ingest_progress, allow_head=False)

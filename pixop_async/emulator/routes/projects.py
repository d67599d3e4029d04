"""``/v1/projects``."""

from __future__ import annotations

from aiohttp import web

from ..context import owned, selected_team, state_of, team_filter
from ..http import (
    fail,
    no_content,
    not_found,
    ok,
    paginate,
    path_uuid,
    read_json,
    require_text,
)

NAME_MAX = 47
DEFAULT_NAME = "Default Project"


async def create_project(request: web.Request) -> web.Response:
    body = await read_json(request)
    name = require_text(body, "name", min_len=1, max_len=NAME_MAX)
    team = selected_team(request)
    project = state_of(request).add_project(team["id"], name)
    return ok(project, status=201)


async def list_projects(request: web.Request) -> web.Response:
    keep = team_filter(request)
    items = [p for p in state_of(request).projects.values() if keep(p)]
    return ok(paginate(request, items))


async def get_default_project(request: web.Request) -> web.Response:
    team = selected_team(request)
    candidates = [
        p
        for p in state_of(request).projects.values()
        if p["teamId"] == team["id"] and p["name"] == DEFAULT_NAME
    ]
    if not candidates:
        not_found("Default project")
    return ok(min(candidates, key=lambda p: p["createdAt"]))


async def get_project(request: web.Request) -> web.Response:
    project = owned(request, state_of(request).projects, path_uuid(request, "id"), "Project")
    return ok(project)


async def patch_project(request: web.Request) -> web.Response:
    state = state_of(request)
    project = owned(request, state.projects, path_uuid(request, "id"), "Project")
    body = await read_json(request)
    if body.get("name") is not None:
        project["name"] = require_text(body, "name", min_len=1, max_len=NAME_MAX)
        state.touch(project)
    return ok(project)


async def delete_project(request: web.Request) -> web.Response:
    state = state_of(request)
    project = owned(request, state.projects, path_uuid(request, "id"), "Project")
    if any(v.get("projectId") == project["id"] for v in state.videos.values()):
        fail(
            409,
            "PROJECT_WITH_VIDEOS_CANNOT_BE_DELETED",
            "The project still has videos; delete them first",
        )
    del state.projects[project["id"]]
    return no_content()


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/projects", create_project)
    r.add_get("/api/v1/projects", list_projects)
    r.add_get("/api/v1/projects/default", get_default_project)
    r.add_get("/api/v1/projects/{id}", get_project)
    r.add_patch("/api/v1/projects/{id}", patch_project)
    r.add_delete("/api/v1/projects/{id}", delete_project)

"""``/v1/processing-configurations``: saved options per team, plus Pixop's built-in ones."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import processing_engine as pe
from ..context import caller, selected_team, state_of, team_filter
from ..http import (
    fail,
    no_content,
    not_found,
    ok,
    optional_text,
    paginate,
    path_uuid,
    query_enum,
    read_json,
    require_text,
)

NAME_MAX = 47
DESCRIPTION_MAX = 511
MODES = ("INCLUDE", "EXCLUDE", "ONLY")


async def create(request: web.Request) -> web.Response:
    body = await read_json(request)
    name = require_text(body, "name", min_len=1, max_len=NAME_MAX)
    description = optional_text(body, "description", max_len=DESCRIPTION_MAX)
    options = pe.validate_options(body.get("options"))
    team = selected_team(request)
    state = state_of(request)
    conf = {
        **state.stamp(),
        "teamId": team["id"],
        "name": name,
        "description": description,
        "options": options,
        "builtin": False,
    }
    pe.engine(state).configurations[conf["id"]] = conf
    return ok(conf, status=201)


async def list_configurations(request: web.Request) -> web.Response:
    state = state_of(request)
    keep = team_filter(request)
    mode = query_enum(request, "builtInMode", MODES, "INCLUDE")
    items = []
    for conf in pe.engine(state).configurations.values():
        if conf["builtin"]:
            if mode != "EXCLUDE":
                items.append(conf)
        elif mode != "ONLY" and keep(conf):
            items.append(conf)
    return ok(paginate(request, items))


def _visible(request: web.Request) -> dict[str, Any]:
    state = state_of(request)
    conf = pe.engine(state).configurations.get(path_uuid(request, "confId"))
    if conf is None or not (
        conf["builtin"] or conf["teamId"] in state.team_ids(caller(request)["id"])
    ):
        not_found("Processing configuration")
    return conf


async def get(request: web.Request) -> web.Response:
    return ok(_visible(request))


async def delete(request: web.Request) -> web.Response:
    conf = _visible(request)
    if conf["builtin"]:
        fail(403, "FORBIDDEN", "Built-in configurations cannot be deleted")
    del pe.engine(state_of(request)).configurations[str(conf["id"])]
    return no_content()


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/processing-configurations", create)
    r.add_get("/api/v1/processing-configurations", list_configurations)
    r.add_get("/api/v1/processing-configurations/{confId}", get)
    r.add_delete("/api/v1/processing-configurations/{confId}", delete)

"""``/v1/account`` and ``/v1/teams``."""

from __future__ import annotations

from aiohttp import web

from ..context import caller, state_of
from ..http import not_found, ok, paginate, path_uuid


async def get_account(request: web.Request) -> web.Response:
    state = state_of(request)
    user = caller(request)
    return ok({"user": user, "defaultTeam": state.default_team(user["id"])})


async def list_teams(request: web.Request) -> web.Response:
    teams = state_of(request).user_teams(caller(request)["id"])
    return ok(paginate(request, teams))


async def get_team(request: web.Request) -> web.Response:
    team_id = path_uuid(request, "id")
    state = state_of(request)
    if team_id not in state.team_ids(caller(request)["id"]):
        not_found("Team")
    return ok(state.teams[team_id])


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/account", get_account)
    app.router.add_get("/api/v1/teams", list_teams)
    app.router.add_get("/api/v1/teams/{id}", get_team)

"""Per-request accessors for route handlers: the state, the caller and the selected team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .http import fail, not_found, query_uuid
from .middleware import STATE_KEY, USER_KEY
from .state import EmulatorState


def state_of(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


def caller(request: web.Request) -> dict[str, Any]:
    user: dict[str, Any] = request[USER_KEY]
    return user


def selected_team(request: web.Request, param: str = "selectTeamId") -> dict[str, Any]:
    """The team named by ``param`` (it must be one of the caller's) or the default team."""
    state = state_of(request)
    user = caller(request)
    team_id = query_uuid(request, param)
    if team_id is None:
        team = state.default_team(user["id"])
        if team is None:
            fail(403, "DEFAULT_TEAM_NOT_API_ENABLED", "No API-enabled team for this user")
        return team
    if team_id not in state.team_ids(user["id"]) or team_id not in state.teams:
        fail(404, "TEAM_NOT_FOUND", f"Team {team_id} not found")
    return state.teams[team_id]


def team_filter(request: web.Request) -> Callable[[dict[str, Any]], bool]:
    """For listings: whether a record belongs to one of the caller's teams and, given
    ``?teamId=``, to that team (a malformed ``teamId`` is refused at once)."""
    team_ids = state_of(request).team_ids(caller(request)["id"])
    wanted = query_uuid(request, "teamId")
    return lambda record: record["teamId"] in team_ids and wanted in (None, record["teamId"])


def owned(
    request: web.Request, store: dict[str, dict[str, Any]], entity_id: str, what: str
) -> dict[str, Any]:
    """An entity of ``store`` that belongs to one of the caller's teams; 404 otherwise."""
    entity = store.get(entity_id)
    if entity is None or entity.get("teamId") not in state_of(request).team_ids(
        caller(request)["id"]
    ):
        not_found(what)
    return entity

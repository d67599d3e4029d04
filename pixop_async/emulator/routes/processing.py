"""``/v1/videos/{videoId}/processing/*``: start, appraise, accept, status."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import lifecycle
from .. import processing_engine as pe
from ..context import caller, owned, state_of
from ..http import invalid, not_found, ok, path_uuid, query_int, read_json
from ..state import EmulatorState

NAME_MAX = 255
DESCRIPTION_MAX = 511


def _text_param(request: web.Request, name: str, min_len: int, max_len: int) -> str | None:
    value = request.query.get(name)
    if value is None:
        return None
    if not min_len <= len(value) <= max_len:
        invalid(name, value, f"size must be between {min_len} and {max_len}")
    return value


def _source(request: web.Request) -> tuple[EmulatorState, dict[str, Any]]:
    state = state_of(request)
    lifecycle.tick(state)
    source = owned(request, state.videos, path_uuid(request, "videoId"), "Video")
    return state, source


def _segment(request: web.Request, state: EmulatorState, source: dict[str, Any]) -> tuple[int, int]:
    start = query_int(request, "startPosMs", minimum=0)
    end = query_int(request, "endPosMs", minimum=pe.MIN_SEGMENT_MS)
    return pe.segment(state, source, start, end)


def _configuration_options(
    request: web.Request, state: EmulatorState, team_id: str
) -> dict[str, Any]:
    conf_id = path_uuid(request, "confId")
    conf = pe.engine(state).configurations.get(conf_id)
    if conf is None or not (conf["builtin"] or conf["teamId"] == team_id):
        not_found("Processing configuration")
    options: dict[str, Any] = conf["options"]
    return options


async def _start(request: web.Request, options: dict[str, Any] | None) -> web.Response:
    state, source = _source(request)
    if options is None:
        options = pe.validate_options(await read_json(request))
    name = _text_param(request, "videoName", 1, NAME_MAX)
    description = _text_param(request, "videoDescription", 0, DESCRIPTION_MAX)
    pe.check_source(state, source)
    start, end = _segment(request, state, source)
    record = pe.preview(
        state,
        source,
        options,
        start,
        end,
        user_id=caller(request)["id"],
        name=name,
        description=description,
    )
    pe.launch(state, record)
    return ok(pe.status_json(record))


async def start(request: web.Request) -> web.Response:
    return await _start(request, None)


async def start_with_configuration(request: web.Request) -> web.Response:
    state, source = _source(request)
    return await _start(request, _configuration_options(request, state, source["teamId"]))


async def _appraise(request: web.Request, options: dict[str, Any] | None) -> web.Response:
    state, source = _source(request)
    if options is None:
        options = pe.validate_options(await read_json(request))
    pe.check_source(state, source)
    start_ms, end_ms = _segment(request, state, source)
    appraisal = pe.create_appraisal(
        state, source, options, start_ms, end_ms, user_id=caller(request)["id"]
    )
    return ok(appraisal)


async def appraise(request: web.Request) -> web.Response:
    return await _appraise(request, None)


async def appraise_with_configuration(request: web.Request) -> web.Response:
    state, source = _source(request)
    return await _appraise(request, _configuration_options(request, state, source["teamId"]))


async def accept(request: web.Request) -> web.Response:
    state, source = _source(request)
    appraisal_id = path_uuid(request, "appraisalId")
    name = _text_param(request, "videoName", 1, NAME_MAX)
    description = _text_param(request, "videoDescription", 0, DESCRIPTION_MAX)
    pe.check_source(state, source)
    record = pe.accept_appraisal(state, appraisal_id, source, name=name, description=description)
    return ok(pe.status_json(record))


async def status(request: web.Request) -> web.Response:
    _, video = _source(request)
    return ok(pe.status_json(video))


def setup(app: web.Application) -> None:
    r = app.router
    base = "/api/v1/videos/{videoId}/processing"
    r.add_post(base + "/start", start)
    r.add_post(base + "/start/{confId}", start_with_configuration)
    r.add_post(base + "/appraisals/create", appraise)
    r.add_post(base + "/appraisals/create/{confId}", appraise_with_configuration)
    r.add_post(base + "/appraisals/{appraisalId}/accept", accept)
    r.add_get(base + "/status", status)

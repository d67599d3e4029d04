"""``/v1/api-keys`` (HTTP Basic)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..activation import refuse_when_full, set_active
from ..context import caller, state_of
from ..http import (
    fail,
    invalid,
    no_content,
    not_found,
    ok,
    optional_text,
    paginate,
    path_uuid,
    read_json,
    require_text,
)

MAX_ACTIVE_KEYS = 2
NAME_MAX = 47
DESCRIPTION_MAX = 511


def _public(key: dict[str, Any]) -> dict[str, Any]:
    return dict(key)


def _own_key(request: web.Request) -> dict[str, Any]:
    key_id = path_uuid(request, "id")
    key = state_of(request).api_keys.get(key_id)
    if key is None or key["userId"] != caller(request)["id"]:
        not_found("API key")
    return key


def _check_room(request: web.Request) -> None:
    user_id = caller(request)["id"]
    refuse_when_full(
        (k for k in state_of(request).api_keys.values() if k["userId"] == user_id),
        MAX_ACTIVE_KEYS,
        "MAXIMUM_AMOUNT_OF_ACTIVE_API_KEYS_REACHED",
        f"At most {MAX_ACTIVE_KEYS} API keys may be active",
    )


async def create_key(request: web.Request) -> web.Response:
    body = await read_json(request)
    name = require_text(body, "name", min_len=1, max_len=NAME_MAX)
    description = optional_text(body, "description", max_len=DESCRIPTION_MAX)
    active = body.get("active")
    if not isinstance(active, bool):
        invalid("active", active, "must be a boolean")
    if active:
        _check_room(request)
    key, secret = state_of(request).add_api_key(
        caller(request)["id"], name, active=active, description=description
    )
    return ok({**_public(key), "apiKey": secret}, status=201)


async def list_keys(request: web.Request) -> web.Response:
    user_id = caller(request)["id"]
    items = [_public(k) for k in state_of(request).api_keys.values() if k["userId"] == user_id]
    return ok(paginate(request, items))


async def get_key(request: web.Request) -> web.Response:
    return ok(_public(_own_key(request)))


async def patch_key(request: web.Request) -> web.Response:
    key = _own_key(request)
    body = await read_json(request)
    if body.get("name") is not None:
        key["name"] = require_text(body, "name", min_len=1, max_len=NAME_MAX)
    if "description" in body:
        key["description"] = optional_text(body, "description", max_len=DESCRIPTION_MAX)
    state_of(request).touch(key)
    return ok(_public(key))


async def activate_key(request: web.Request) -> web.Response:
    key = _own_key(request)
    set_active(state_of(request), key, True, before_activating=lambda: _check_room(request))
    return ok(_public(key))


async def deactivate_key(request: web.Request) -> web.Response:
    return ok(_public(set_active(state_of(request), _own_key(request), False)))


async def delete_key(request: web.Request) -> web.Response:
    key = _own_key(request)
    if key["active"]:
        fail(409, "ACTIVE_API_KEY_CANNOT_BE_DELETED", "Deactivate the API key before deleting it")
    state = state_of(request)
    del state.api_keys[key["id"]]
    for secret, key_id in list(state.api_key_secrets.items()):
        if key_id == key["id"]:
            del state.api_key_secrets[secret]
    return no_content()


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/api-keys", create_key)
    r.add_get("/api/v1/api-keys", list_keys)
    r.add_get("/api/v1/api-keys/{id}", get_key)
    r.add_patch("/api/v1/api-keys/{id}", patch_key)
    r.add_post("/api/v1/api-keys/{id}/activate", activate_key)
    r.add_post("/api/v1/api-keys/{id}/deactivate", deactivate_key)
    r.add_delete("/api/v1/api-keys/{id}", delete_key)

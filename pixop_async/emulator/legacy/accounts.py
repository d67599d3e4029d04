"""Emulated ``/accounts/v1/*``: tokens, account details, secrets, password."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from aiohttp import web

from ..context import state_of
from ..state import EmulatorState
from .common import (
    BASIC,
    EITHER,
    JWT,
    LegacyStore,
    bad_request,
    endpoint,
    fault,
    legacy_time,
    ok,
    read_body,
    store_of,
    team_of,
)
from .tokens import ALGORITHM, issue_token

SIGNATURE_METHOD = "HmacSHA256"
PASSWORD_MAX = 1024


def user_json(state: EmulatorState, store: LegacyStore, user: dict[str, Any]) -> dict[str, Any]:
    """A user in the accounts service's shape."""
    uid = user["id"]
    key = store.key_for(uid)
    banned = uid in state.banned_users
    return {
        "id": uid,
        "name": user["name"],
        "email": user["email"],
        "emailConfirmed": bool(user.get("hasConfirmedEmail")),
        "authSignatureMethod": ALGORITHM,
        # HMAC has no public key: the emulator publishes a fingerprint of the current key.
        "authSignaturePublicKey": base64.b64encode(hashlib.sha256(key.secret).digest()).decode(),
        "authSignaturePublicKeyId": key.key_id,
        "banned": banned,
        "bannedReason": store.banned_reasons.get(uid) if banned else None,
        "bannedDate": legacy_time(store.banned_dates.get(uid)) if banned else None,
        "apiRequestSignatureSecret": store.signature_secrets.get(uid),
        "apiRequestSignatureMethod": SIGNATURE_METHOD,
        "dateCreated": legacy_time(user["createdAt"]),
        "timeLastUpdated": legacy_time(user["updatedAt"]),
    }


def team_json(team: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": team["id"],
        "name": team["name"],
        "restricted": not team.get("apiEnabled", True),
        "dateCreated": legacy_time(team["createdAt"]),
        "timeLastUpdated": legacy_time(team["updatedAt"]),
    }


def _identity(request: web.Request) -> tuple[EmulatorState, LegacyStore, dict[str, Any]]:
    return state_of(request), store_of(request), request["legacy_user"]


@endpoint(BASIC)
async def create_token(request: web.Request) -> web.Response:
    state, store, user = _identity(request)
    raw_team = request.query.get("team-id")
    if raw_team:
        if raw_team not in state.team_ids(user["id"]) or raw_team not in state.teams:
            fault(403, "InvalidTeamException", f"The user is not a member of team {raw_team}")
        team = state.teams[raw_team]
    else:
        team = team_of(request)
    token = issue_token(state, store, user["id"], team["id"])
    store.issued_tokens += 1
    store.issued_times.append(state.clock.time())
    return ok({"userId": user["id"], "teamId": team["id"], "jwtToken": token})


@endpoint(JWT)
async def validate_token(request: web.Request) -> web.Response:
    state, store, user = _identity(request)
    team = team_of(request)
    others = [team_json(t) for t in state.user_teams(user["id"]) if t["id"] != team["id"]]
    return ok(
        {"user": user_json(state, store, user), "team": team_json(team), "otherTeams": others}
    )


@endpoint(JWT)
async def get_account(request: web.Request) -> web.Response:
    state, store, user = _identity(request)
    return ok({"user": user_json(state, store, user), "team": team_json(team_of(request))})


@endpoint(EITHER)
async def generate_auth_secret(request: web.Request) -> web.Response:
    state, store, user = _identity(request)
    store.rotate_key(user["id"])
    state.touch(user)
    return ok({"user": user_json(state, store, user)})


@endpoint(EITHER)
async def generate_signature_secret(request: web.Request) -> web.Response:
    state, store, user = _identity(request)
    store.signature_secrets[user["id"]] = secrets.token_urlsafe(32)
    state.touch(user)
    return ok({"user": user_json(state, store, user)})


@endpoint(EITHER)
async def update_password(request: web.Request) -> web.Response:
    state, store, user = _identity(request)
    body = await read_body(request)
    password = body.get("newPassword")
    if not isinstance(password, str) or not 1 <= len(password) <= PASSWORD_MAX:
        bad_request(f"newPassword must be a string of 1 to {PASSWORD_MAX} characters")
    state.passwords[user["id"]] = password
    state.touch(user)
    return ok({"user": user_json(state, store, user)})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/accounts/v1/token", create_token, allow_head=False)
    r.add_post("/accounts/v1/token", validate_token)
    r.add_get("/accounts/v1/account", get_account, allow_head=False)
    r.add_get("/accounts/v1/generate-auth-secret", generate_auth_secret, allow_head=False)
    r.add_get("/accounts/v1/generate-signature-secret", generate_signature_secret, allow_head=False)
    r.add_post("/accounts/v1/update-password", update_password)

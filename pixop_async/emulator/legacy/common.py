"""Shared pieces of the emulated legacy services: their store, error bodies and auth gate.

The legacy paths (``/accounts``, ``/videos``, ``/media``) sit outside ``/api``, so the current
API's middlewares do not touch them. Handlers are wrapped by :func:`endpoint`, which checks
the credentials the endpoint accepts (Basic, a JWT, or either) and turns a
:class:`LegacyFault` into the services' ``{"exception", "errorMessage"}`` body.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import attrs
from aiohttp import web

from ..context import state_of
from ..state import EmulatorState

log = logging.getLogger("pixop_async.emulator.legacy")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

BASIC = "basic"
JWT = "jwt"
EITHER = "either"


class LegacyFault(Exception):
    """Raised by legacy handlers; answered as ``{exception, errorMessage}`` with ``status``."""

    def __init__(self, status: int, exception: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.exception = exception
        self.message = message


def fault(status: int, exception: str, message: str) -> NoReturn:
    raise LegacyFault(status, exception, message)


def bad_request(message: str) -> NoReturn:
    fault(400, "InvalidRequestException", message)


def not_found(what: str, entity_id: str) -> NoReturn:
    fault(404, f"{what}NotFoundException", f"{what} {entity_id} not found")


@attrs.define
class SigningKey:
    """A user's current JWT signing key (HMAC-SHA256 in the emulator)."""

    key_id: str
    secret: bytes = attrs.field(repr=False)


@attrs.define
class LegacyStore:
    """State the legacy services keep beside the shared :class:`EmulatorState`.

    Test knobs: ``auth_outages`` makes that many token checks fail with ``AuthException``
    (HTTP 500); ``failing_videos`` holds video ids whose ingestion or processing fails;
    ``issued_tokens`` counts tokens handed out (``issued_times`` says when, on the emulator
    clock); ``rejections`` counts refused token checks per exception name.
    """

    signing_keys: dict[str, SigningKey] = attrs.field(factory=dict)  # user id -> key
    key_owner: dict[str, str] = attrs.field(factory=dict)  # key id -> user id
    signature_secrets: dict[str, str] = attrs.field(factory=dict)  # user id -> secret
    banned_reasons: dict[str, str] = attrs.field(factory=dict)
    banned_dates: dict[str, float] = attrs.field(factory=dict)
    videos: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    failing_videos: set[str] = attrs.field(factory=set)
    auth_outages: int = 0
    issued_tokens: int = 0
    issued_times: list[float] = attrs.field(factory=list)  # emulator clock, per token
    rejections: Counter[str] = attrs.field(factory=Counter)

    def key_for(self, user_id: str) -> SigningKey:
        key = self.signing_keys.get(user_id)
        if key is None:
            key = self.rotate_key(user_id)
        return key

    def rotate_key(self, user_id: str) -> SigningKey:
        old = self.signing_keys.get(user_id)
        if old is not None:
            self.key_owner.pop(old.key_id, None)
        key = SigningKey(secrets.token_hex(8), secrets.token_bytes(32))
        self.signing_keys[user_id] = key
        self.key_owner[key.key_id] = user_id
        return key

    def ban(self, state: EmulatorState, user_id: str, reason: str = "Terms violation") -> None:
        """Suspend a user (tests); every later request of theirs is refused."""
        state.banned_users.add(user_id)
        self.banned_reasons[user_id] = reason
        self.banned_dates[user_id] = state.clock.time()


LEGACY_KEY: web.AppKey[LegacyStore] = web.AppKey("pixop_legacy", LegacyStore)


def store_of(request: web.Request) -> LegacyStore:
    return request.app[LEGACY_KEY]


def legacy_store(app: web.Application) -> LegacyStore:
    """The legacy store of an emulator app (``server.app``), for tests and tools."""
    return app[LEGACY_KEY]


def legacy_time(value: str | float | None) -> str | None:
    """``YYYY-MM-DD hh:mm:ss`` (UTC) from an RFC 3339 string or unix seconds."""
    if value is None:
        return None
    if isinstance(value, int | float):
        moment = dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
    else:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def ok(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data).encode(), content_type="application/json"
    )


def error_response(status: int, exception: str, message: str) -> web.Response:
    return ok({"exception": exception, "errorMessage": message}, status=status)


async def read_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        if required:
            bad_request("Request body is missing")
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        bad_request("Request body is not valid JSON")
    if not isinstance(data, dict):
        bad_request("Request body must be a JSON object")
    return data


def basic_user(request: web.Request) -> dict[str, Any]:
    """The user behind valid HTTP Basic credentials (banned users refused)."""
    state = state_of(request)
    header = request.headers.get("Authorization", "")
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        fault(401, "InvalidCredentialsException", "Malformed Basic credentials")
    email, _, password = decoded.partition(":")
    user = state.user_by_email(email)
    if user is None or not secrets.compare_digest(state.passwords.get(user["id"], ""), password):
        fault(401, "InvalidCredentialsException", "Invalid email or password")
    if user["id"] in state.banned_users:
        fault(403, "UserBannedException", "This user account has been suspended")
    return user


def endpoint(accepts: str) -> Callable[[Handler], Handler]:
    """Wrap a handler: authenticate (``BASIC``, ``JWT`` or ``EITHER``) and map faults.

    Sets ``request["legacy_user"]`` and ``request["legacy_team"]`` (the token's team, or the
    user's default team under Basic).
    """
    from .tokens import jwt_identity

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                header = request.headers.get("Authorization", "")
                if accepts != JWT and header.startswith("Basic "):
                    user = basic_user(request)
                    team = state_of(request).default_team(user["id"])
                elif accepts == BASIC:
                    fault(401, "InvalidCredentialsException", "HTTP Basic authentication required")
                else:
                    user, team = jwt_identity(request)
                request["legacy_user"] = user
                request["legacy_team"] = team
                return await handler(request)
            except LegacyFault as exc:
                return error_response(exc.status, exc.exception, exc.message)
            except web.HTTPException:
                raise
            except Exception:
                log.exception("legacy emulator handler failed")
                return error_response(500, "InternalServerException", "Internal error")

        return run

    return wrap


def team_of(request: web.Request) -> dict[str, Any]:
    team: dict[str, Any] | None = request.get("legacy_team")
    if team is None:
        fault(403, "NoTeamException", "The user has no team to act for")
    return team

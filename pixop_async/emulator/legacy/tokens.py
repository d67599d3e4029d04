"""JWTs of the emulated accounts service: HS256 with a per-user key, and their checks.

Checks run in the order a real verifier would need them, each refusal answering the
documented exception: no bearer token → ``NoJWTTokenFoundException``; undecodable, unknown
key or bad signature → ``InvalidJWTTokenFoundException``; an auth outage injected by a test
→ ``AuthException`` (500); a banned user → ``UserBannedException`` (403, even with an old
token); no ``exp`` → ``EternalJWTTokenException``; ``sub``/``team`` missing or not
matching the key's user and their teams → ``InconsistentJWTClaimsException``; ``nbf`` in the
future → ``PrematureJWTTokenException``; ``exp`` passed → ``ExpiredJWTTokenException``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from typing import Any

from aiohttp import web

from ..context import state_of
from ..state import EmulatorState
from .common import LegacyFault, LegacyStore, SigningKey, store_of

ALGORITHM = "HS256"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def sign(claims: dict[str, Any], key: SigningKey) -> str:
    """A compact HS256 JWT of ``claims`` signed with ``key``."""
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key.key_id}
    head = _b64(json.dumps(header, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key.secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def _millis(moment: float) -> float:
    """Unix seconds cut (never rounded up) to milliseconds: a token is valid at once."""
    return math.floor(moment * 1000) / 1000


def issue_token(
    state: EmulatorState,
    store: LegacyStore,
    user_id: str,
    team_id: str,
    *,
    lifetime: float | None = None,
    eternal: bool = False,
    not_before: float | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """Sign a token for ``user_id`` acting for ``team_id``.

    ``lifetime`` defaults to ``config.jwt_lifetime_seconds``; ``eternal`` leaves ``exp``
    out and ``not_before`` sets ``nbf`` (both only for tests of the refusals); ``extra``
    claims override the standard ones.
    """
    now = state.clock.time()
    life = state.config.jwt_lifetime_seconds if lifetime is None else lifetime
    claims: dict[str, Any] = {
        "sub": user_id,
        "team": team_id,
        "iat": _millis(now),
        "nbf": _millis(now if not_before is None else not_before),
        "jti": secrets.token_hex(8),
    }
    if not eternal:
        claims["exp"] = _millis(now + life)
    claims.update(extra or {})
    return sign(claims, store.key_for(user_id))


def _refuse(store: LegacyStore, status: int, exception: str, message: str) -> LegacyFault:
    store.rejections[exception] += 1
    return LegacyFault(status, exception, message)


def _decode(store: LegacyStore, token: str) -> tuple[dict[str, Any], str]:
    """Claims and key owner of a correctly signed token."""
    decoded = _signed_claims(store, token)
    if decoded is None:
        raise _refuse(store, 401, "InvalidJWTTokenFoundException", "The JWT token is invalid")
    return decoded


def _signed_claims(store: LegacyStore, token: str) -> tuple[dict[str, Any], str] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    owner = store.key_owner.get(str(header.get("kid")))
    if header.get("alg") != ALGORITHM or owner is None:
        return None
    key = store.signing_keys[owner]
    expected = hmac.new(key.secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        return None
    return claims, owner


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def verify(
    state: EmulatorState, store: LegacyStore, header: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(user, team) of a valid ``Authorization: Bearer`` header; raises LegacyFault."""
    if not header.startswith("Bearer ") or not header[7:].strip():
        raise _refuse(
            store, 401, "NoJWTTokenFoundException", "No JWT token in the Authorization header"
        )
    claims, owner = _decode(store, header[7:].strip())
    if store.auth_outages > 0:
        store.auth_outages -= 1
        raise _refuse(store, 500, "AuthException", "The authentication service failed")
    if owner in state.banned_users:
        raise _refuse(store, 403, "UserBannedException", "This user account has been suspended")
    exp, nbf = _number(claims.get("exp")), _number(claims.get("nbf"))
    if exp is None:
        raise _refuse(
            store, 401, "EternalJWTTokenException", "JWT tokens without expiry are refused"
        )
    team_id = claims.get("team")
    user = state.users.get(str(claims.get("sub")))
    if (
        user is None
        or user["id"] != owner
        or team_id not in state.team_ids(owner)
        or team_id not in state.teams
        or (nbf is None and "nbf" in claims)
    ):
        raise _refuse(
            store, 401, "InconsistentJWTClaimsException", "The JWT claims do not fit this API"
        )
    now = state.clock.time()
    if nbf is not None and now < nbf:
        raise _refuse(store, 401, "PrematureJWTTokenException", "The JWT token is not valid yet")
    if now >= exp:
        raise _refuse(store, 401, "ExpiredJWTTokenException", "The JWT token has expired")
    return user, state.teams[str(team_id)]


def jwt_identity(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """(user, team) for the request's bearer token."""
    return verify(state_of(request), store_of(request), request.headers.get("Authorization", ""))

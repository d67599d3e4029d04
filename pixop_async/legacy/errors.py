"""Typed errors of the legacy services and the mapping from their error bodies.

The legacy services answer failures with ``{"exception": "...", "errorMessage": "..."}``.
:func:`translate` turns the generic :class:`~pixop_async.errors.APIStatusError` raised by the
session layer into the class named by ``exception`` (the documented JWT exceptions), or into
the status-based class with ``error_code`` set to the exception name for anything else.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import APIStatusError, AuthenticationError, PixopError, status_error_class

EXPIRED_TOKEN = "ExpiredJWTTokenException"
USER_BANNED = "UserBannedException"


class LegacyAuthError(AuthenticationError):
    """A JWT or account problem reported by the legacy services (``error_code`` holds the
    server's exception name)."""


class InvalidJWTTokenError(LegacyAuthError):
    """The token could not be interpreted (corrupt, bad signature)."""


class NoJWTTokenError(LegacyAuthError):
    """No token was sent."""


class ExpiredJWTTokenError(LegacyAuthError):
    """The token's expiry time has passed (the client refreshes and replays once first)."""


class PrematureJWTTokenError(LegacyAuthError):
    """The token's not-before time has not been reached yet."""


class UserBannedError(LegacyAuthError):
    """The account is suspended; retrying cannot help."""


class EternalJWTTokenError(LegacyAuthError):
    """The token has no expiry, which the API refuses."""


class InconsistentJWTClaimsError(LegacyAuthError):
    """The token's claims do not fit this API (unknown user or team, missing claims)."""


class LegacyAuthServiceError(LegacyAuthError):
    """The authentication service failed in general (``AuthException``)."""


class UnsafeLinkError(PixopError):
    """A pagination link pointed away from the service's origin; it was not followed."""


EXCEPTION_CLASSES: dict[str, type[LegacyAuthError]] = {
    "InvalidJWTTokenFoundException": InvalidJWTTokenError,
    "NoJWTTokenFoundException": NoJWTTokenError,
    EXPIRED_TOKEN: ExpiredJWTTokenError,
    "PrematureJWTTokenException": PrematureJWTTokenError,
    USER_BANNED: UserBannedError,
    "EternalJWTTokenException": EternalJWTTokenError,
    "InconsistentJWTClaimsException": InconsistentJWTClaimsError,
    "AuthException": LegacyAuthServiceError,
}


def parse_legacy_body(body: bytes) -> dict[str, Any] | None:
    """The ``{exception, errorMessage}`` body, or None when the body is not one."""
    if not body or len(body) > 256 * 1024:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("exception"), str):
        return None
    return data


def exception_name(body: bytes) -> str | None:
    """The ``exception`` name of a legacy error body, if any."""
    data = parse_legacy_body(body)
    return None if data is None else str(data["exception"])


def translate(exc: APIStatusError) -> APIStatusError:
    """The legacy-typed equivalent of ``exc`` (``exc`` itself when its body is not legacy)."""
    data = parse_legacy_body(exc.body)
    if data is None:
        return exc
    name = str(data["exception"])
    cls: type[APIStatusError] = EXCEPTION_CLASSES.get(name) or status_error_class(exc.status)
    message = str(data.get("errorMessage") or name)
    if name == USER_BANNED:
        message = f"the account is banned and may not use the API: {message}"
    return cls(
        exc.status,
        message,
        error_code=name,
        request_path=exc.request_path,
        body=exc.body,
        headers=exc.headers,
        attempts=exc.attempts,
    )

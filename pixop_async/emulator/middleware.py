"""Middlewares of the current API under ``/api``: errors, fault injection, auth, rate limits."""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .clock import iso
from .faults import FaultPlan
from .http import ApiFault, new_id
from .state import EmulatorState

log = logging.getLogger("pixop_async.emulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_PREFIX = "/api/"
STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("pixop_state", EmulatorState)
FAULTS_KEY: web.AppKey[FaultPlan] = web.AppKey("pixop_faults", FaultPlan)
#: Request storage names: the authenticated caller (a user dict) of a request under /api, and
#: the API key secret it authenticated with (absent under Basic auth). Plain strings, since
#: typed request keys need aiohttp 3.14, which aioresponses does not support yet.
USER_KEY = "pixop_user"
API_KEY_KEY = "pixop_api_key"


def error_body(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    validation_errors: Any = None,
    details: Any = None,
) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    return {
        "timestamp": iso(state.clock.now()),
        "requestId": new_id(),
        "requestPath": request.path,
        "errorCode": code,
        "errorCodeEnum": code,
        "message": message,
        "statusCode": status,
        "validationErrors": validation_errors,
        "errorDetails": details,
    }


def error_response(request: web.Request, fault: ApiFault) -> web.Response:
    body = error_body(
        request, fault.status, fault.code, fault.message, fault.validation_errors, fault.details
    )
    return web.json_response(body, status=fault.status, headers=fault.headers)


_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "BAD_REQUEST",
    409: "CONFLICT",
}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every failure under /api in the API's Error shape."""
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except ApiFault as fault:
        return error_response(request, fault)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "UNKNOWN")
        return error_response(request, ApiFault(exc.status, code, exc.reason))
    except Exception:
        log.exception("emulator handler failed")
        return error_response(request, ApiFault(500, "INTERNAL_SERVER_ERROR", "Internal error"))


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply injected API faults (status bursts, 429s, stalls) before the real handler."""
    plan = request.app[FAULTS_KEY]
    fault = plan.take(request.method, request.path)
    if fault is None:
        return await handler(request)
    return await fault.respond(request, lambda: handler(request))


def _is_basic_path(path: str) -> bool:
    return path.startswith("/api/v1/api-keys")


def _basic_user(request: web.Request, state: EmulatorState) -> dict[str, Any]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        raise ApiFault(401, "INVALID_CREDENTIALS", "Basic authentication is required")
    try:
        email, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiFault(401, "INVALID_CREDENTIALS", "Malformed Basic credentials") from None
    user = state.user_by_email(email)
    if user is None or state.passwords.get(user["id"]) != password:
        raise ApiFault(401, "INVALID_CREDENTIALS", "Invalid email or password")
    return user


def _api_key_user(request: web.Request, state: EmulatorState) -> dict[str, Any]:
    secret = request.headers.get("X-API-Key")
    if not secret:
        raise ApiFault(401, "MISSING_API_KEY", "The X-API-Key header is missing")
    user = state.user_for_api_key(secret)
    if user is None:
        raise ApiFault(401, "INVALID_API_KEY", "The API key is invalid or inactive")
    request[API_KEY_KEY] = secret
    return user


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """X-API-Key everywhere under /api, HTTP Basic on /api/v1/api-keys*."""
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    state = request.app[STATE_KEY]
    if _is_basic_path(request.path):
        request[USER_KEY] = _basic_user(request, state)
    else:
        request[USER_KEY] = _api_key_user(request, state)
    return await handler(request)


class RateLimiter:
    """Fixed one-minute windows per API key."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> tuple[int, int, int, bool]:
        """Count one request; returns (limit, remaining, reset seconds, allowed)."""
        limit = self._state.config.rate_limit_per_minute
        now = time.monotonic()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= 60:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        reset = max(1, round(60 - (now - start)))
        return limit, max(0, limit - count), reset, count <= limit


RATE_KEY: web.AppKey[RateLimiter] = web.AppKey("pixop_rate", RateLimiter)


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Per-key request budget with X-RateLimit-* headers; API-key management is exempt."""
    key = request.get(API_KEY_KEY)
    if key is None or _is_basic_path(request.path):
        return await handler(request)
    limit, remaining, reset, allowed = request.app[RATE_KEY].hit(key)
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }
    if not allowed:
        raise ApiFault(
            429,
            "TOO_MANY_REQUESTS",
            "Rate limit exceeded",
            headers={**headers, "Retry-After": str(reset)},
        )
    response = await handler(request)
    response.headers.update(headers)
    return response

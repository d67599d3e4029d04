"""JWT session authentication for the legacy services.

:class:`JwtAuth` plugs into the session layer's :class:`~pixop_async.auth.Auth` protocol. It
holds one bearer token, obtained from a caller-supplied coroutine (the accounts service's
Basic-authenticated ``GET /accounts/v1/token``), and

* refreshes it shortly *before* it expires, using the lifetime read from the token's
  ``exp``/``iat`` claims (measured against the local clock from the moment the token arrived,
  so a skewed server clock does not matter);
* refreshes single-flight: however many requests find the token stale at once, one fetch
  happens and every waiter gets its result;
* answers a 401 ``ExpiredJWTTokenException`` by refreshing once and asking for a replay. The
  token a request was sent with is remembered per task (a context variable), so a burst of
  requests that all raced the same expiry causes one refresh, not one each.

The token itself is never shown in reprs, logs or exception texts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import InvalidRequestError
from .errors import EXPIRED_TOKEN, exception_name

#: The legacy API documents a 15-minute token lifetime; used when a token has no ``exp``.
DEFAULT_TOKEN_LIFETIME = 15 * 60.0
#: Refresh this long before expiry at most...
DEFAULT_REFRESH_MARGIN = 60.0
#: ...and at most this fraction of the token's lifetime (short-lived test tokens).
MARGIN_FRACTION = 0.25

#: A compact JWS: three base64url segments (the signature may be empty for unsecured JWTs).
_COMPACT_JWT = re.compile(r"\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z")

TokenFetcher = Callable[[], Awaitable[str]]
Clock = Callable[[], float]

_token_sent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pixop_legacy_token_sent", default=None
)


def _b64url_decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def decode_claims(token: str) -> dict[str, Any]:
    """The claims of a compact JWT, *without* verifying its signature.

    The client only needs ``exp``/``iat``/``nbf`` for scheduling; the server verifies. Returns
    an empty dict for anything that does not look like a JWT.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(_b64url_decode(parts[1]))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def token_lifetime(claims: dict[str, Any], *, server_now: float) -> float:
    """Seconds a freshly received token stays valid.

    Uses ``exp - iat`` when both are present (immune to clock skew); ``exp - server_now``
    when only ``exp`` is; the documented 15 minutes otherwise.
    """
    exp = _number(claims.get("exp"))
    if exp is None:
        return DEFAULT_TOKEN_LIFETIME
    iat = _number(claims.get("iat"))
    start = iat if iat is not None else server_now
    return max(0.0, exp - start)


def refresh_margin(lifetime: float, margin: float) -> float:
    """How long before expiry to refresh: ``margin``, capped to a fraction of the lifetime."""
    return min(margin, lifetime * MARGIN_FRACTION)


class JwtAuth:
    """Bearer-token auth with proactive, single-flight refresh (see the module docstring).

    ``fetch`` returns a new compact JWT. ``refresh_count`` counts completed fetches (the
    first one included) and is useful for monitoring.
    """

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        self._fetch = fetch
        self._margin = margin
        self._clock = clock
        self._wall_clock = wall_clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.refresh_count = 0

    def __repr__(self) -> str:
        state = "no token" if self._token is None else "token held"
        return f"JwtAuth({state}, refreshes={self.refresh_count})"

    @property
    def expires_in(self) -> float | None:
        """Seconds until the held token expires (local estimate); None without a token."""
        if self._token is None:
            return None
        return self._expires_at - self._clock()

    def set_token(self, token: str) -> None:
        """Adopt ``token`` (e.g. one obtained elsewhere) as the current token.

        Anything but a compact JWT is refused (the value becomes a header: no empty token,
        whitespace or line breaks); the token itself is never echoed in the error.
        """
        if not isinstance(token, str) or _COMPACT_JWT.match(token) is None:
            raise InvalidRequestError("token", "must be a compact JWT (header.payload.signature)")
        self._adopt(token)

    def invalidate(self) -> None:
        """Forget the held token; the next request fetches a new one."""
        self._token = None

    def _adopt(self, token: str) -> None:
        received = self._clock()
        lifetime = token_lifetime(decode_claims(token), server_now=self._wall_clock())
        self._token = token
        self._expires_at = received + lifetime
        self._refresh_at = self._expires_at - refresh_margin(lifetime, self._margin)

    def _fresh(self, token: str | None) -> bool:
        return token is not None and token is self._token and self._clock() < self._refresh_at

    async def token(self) -> str:
        """The current token, refreshed first if it is missing or due."""
        return await self._token_via(self._fetch)

    async def _token_via(self, fetch: TokenFetcher) -> str:
        """:meth:`token`, a refresh it needs made through ``fetch``."""
        current = self._token
        if self._fresh(current):
            assert current is not None
            return current
        return await self._refresh(current, fetch)

    async def _refresh(self, stale: str | None, fetch: TokenFetcher) -> str:
        async with self._lock:
            # Another task may have refreshed while this one waited for the lock.
            current = self._token
            if current is not None and current is not stale and self._fresh(current):
                return current
            token = await fetch()
            self._adopt(token)
            self.refresh_count += 1
            return token

    async def headers(self) -> dict[str, str]:
        return await self._headers_via(self._fetch)

    async def _headers_via(self, fetch: TokenFetcher) -> dict[str, str]:
        token = await self._token_via(fetch)
        _token_sent.set(token)
        return {"Authorization": f"Bearer {token}"}

    async def on_unauthorized(self, body: bytes) -> bool:
        """Replay once after an expired-token 401; every other 401 is final."""
        if exception_name(body) != EXPIRED_TOKEN:
            return False
        sent = _token_sent.get()
        async with self._lock:
            if sent is None or sent is self._token:
                # The token this task used is (or may be) the current one: mark it due, so
                # the replay's headers() refreshes (single-flight, under the lock). A task
                # that used an older token just replays with the newer one.
                self._refresh_at = float("-inf")
        return True

    def note_held_token(self) -> None:
        """Record the held token as the one this task's requests are sent with.

        For work whose requests run in child tasks (parallel transfers): their headers()
        calls do not reach this task's context. Noting the held token before such work lets
        a later 401 be judged against it, so several transfers failing on the same expired
        token still cause a single refresh.
        """
        _token_sent.set(self._token)


class FetchingJwt:
    """A :class:`JwtAuth` whose refreshes, when the requests sent with it need one, go
    through another fetcher: a client view's own login, made with its options. The token
    stays the shared one (same single-flight refresh): whoever fetches it, every holder of
    the ``JwtAuth`` uses it."""

    def __init__(self, jwt: JwtAuth, fetch: TokenFetcher) -> None:
        self._jwt = jwt
        self._fetch = fetch

    def __repr__(self) -> str:
        return f"FetchingJwt({self._jwt!r})"

    async def headers(self) -> dict[str, str]:
        return await self._jwt._headers_via(self._fetch)

    async def on_unauthorized(self, body: bytes) -> bool:
        return await self._jwt.on_unauthorized(body)

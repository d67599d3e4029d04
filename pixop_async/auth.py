"""Authentication strategies plugged into the session's request pipeline.

An :class:`Auth` adds headers to each attempt of a request and may ask for one replay after
a 401 (a JWT that expired in flight). Secrets are held privately and never shown in reprs.
"""

from __future__ import annotations

import base64
from typing import Protocol, runtime_checkable


@runtime_checkable
class Auth(Protocol):
    """What the session layer needs from an authentication strategy."""

    async def headers(self) -> dict[str, str]:
        """Headers to add to the next attempt (may refresh a token first)."""
        ...

    async def on_unauthorized(self, body: bytes) -> bool:
        """Called after a 401. Return True to replay the request once with fresh headers."""
        ...


def mask(secret: str) -> str:
    """A display form of a secret that shows at most its last three characters."""
    if len(secret) <= 6:
        return "***"
    return "***" + secret[-3:]


class ApiKeyAuth:
    """``X-API-Key`` authentication for the current REST API."""

    __slots__ = ("_api_key",)

    def __init__(self, api_key: str) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self._api_key = api_key

    async def headers(self) -> dict[str, str]:
        return {"X-API-Key": self._api_key}

    async def on_unauthorized(self, body: bytes) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ApiKeyAuth(api_key={mask(self._api_key)!r})"


class BasicAuth:
    """HTTP Basic authentication with an account's email and password."""

    __slots__ = ("_email", "_password")

    def __init__(self, email: str, password: str) -> None:
        if not email:
            raise ValueError("email must not be empty")
        self._email = email
        self._password = password

    @property
    def email(self) -> str:
        return self._email

    def header_value(self) -> str:
        raw = f"{self._email}:{self._password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    async def headers(self) -> dict[str, str]:
        return {"Authorization": self.header_value()}

    async def on_unauthorized(self, body: bytes) -> bool:
        return False

    def __repr__(self) -> str:
        return f"BasicAuth(email={self._email!r}, password='***')"


class NoAuth:
    """No credentials (pre-signed URLs, public endpoints)."""

    async def headers(self) -> dict[str, str]:
        return {}

    async def on_unauthorized(self, body: bytes) -> bool:
        return False

    def __repr__(self) -> str:
        return "NoAuth()"

"""``Pixop``: the client for the current REST API."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import aiohttp

from ._session import ApiResponse, HttpSession
from .auth import ApiKeyAuth, Auth, BasicAuth, mask
from .config import DEFAULT_BASE_URL, ClientConfig
from .errors import MissingCredentialsError
from .ratelimit import RateLimit
from .resources.account import AccountResource, TeamsResource
from .resources.api_keys import ApiKeysResource
from .resources.projects import ProjectsResource


class Pixop:
    """Async client for Pixop's current REST API.

    Use it as ``async with Pixop(api_key=...) as px:``; the aiohttp session is created
    lazily inside the running loop and closed on exit. Pass ``session=`` to reuse an
    aiohttp session you own (it is never closed by the client). ``email``/``password`` are
    only needed for API-key management, which the API authenticates with HTTP Basic.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        email: str | None = None,
        password: str | None = None,
        config: ClientConfig | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.config = config or ClientConfig()
        self._api_key_auth = ApiKeyAuth(api_key) if api_key else None
        self._basic_auth = BasicAuth(email, password or "") if email else None
        self._http = HttpSession(self.config, session=session)

    def __repr__(self) -> str:
        key = mask(self._api_key_auth._api_key) if self._api_key_auth else None
        return f"Pixop(base_url={self.base_url!r}, api_key={key!r})"

    async def __aenter__(self) -> Pixop:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the HTTP session (if the client owns it)."""
        await self._http.close()

    @property
    def closed(self) -> bool:
        return self._http.closed

    @property
    def http(self) -> HttpSession:
        """The session layer (used by the transfer engine and advanced callers)."""
        return self._http

    @property
    def rate_limit(self) -> RateLimit | None:
        """The latest ``X-RateLimit-*`` window reported by the API, if any."""
        return self._http.rate_limit

    def url(self, path: str) -> str:
        """Absolute URL of an API path such as ``/v1/account``."""
        return self.base_url + path

    def _default_auth(self) -> Auth:
        if self._api_key_auth is None:
            raise MissingCredentialsError(
                "this call needs an API key: create the client with api_key="
            )
        return self._api_key_auth

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return await self._http.request(
            method,
            self.url(path),
            params=params,
            json=json,
            headers=headers,
            auth=auth or self._default_auth(),
        )

    @functools.cached_property
    def account(self) -> AccountResource:
        return AccountResource(self)

    @functools.cached_property
    def teams(self) -> TeamsResource:
        return TeamsResource(self)

    @functools.cached_property
    def projects(self) -> ProjectsResource:
        return ProjectsResource(self)

    @functools.cached_property
    def api_keys(self) -> ApiKeysResource:
        return ApiKeysResource(self)

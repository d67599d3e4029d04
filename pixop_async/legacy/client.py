"""``PixopLegacy``: the client for the legacy accounts, videos and media services."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import aiohttp

from .. import validation as v
from .._env import base_url_setting
from .._lifecycle import HttpClientLifecycle
from .._session import ApiResponse, HttpSession
from ..auth import Auth, BasicAuth
from ..config import DEFAULT_LEGACY_BASE_URL, LEGACY_BASE_URL_ENV, ClientConfig
from ..errors import APIStatusError, InvalidRequestError
from ..ids import TeamId
from ..polling import PollBudget
from ..transfer.config import TransferConfig
from ..transfer.scheduler import Scheduler
from .accounts import TEAM_PARAM, AccountsService
from .errors import translate
from .jwt import DEFAULT_REFRESH_MARGIN, FetchingJwt, JwtAuth
from .media import MediaService
from .videos import VideosService


class PixopLegacy(HttpClientLifecycle):
    """Async client for Pixop's legacy REST API v1.

    ``async with PixopLegacy(email=..., password=...) as legacy:`` — the client logs in with
    HTTP Basic on first use and then sends a JWT, refreshed shortly before it expires (one
    refresh however many requests are in flight) and once more if the service reports it
    expired. ``team_id`` selects the team every request acts for (the user's default team
    otherwise). The services sit under one base URL: ``{base_url}/accounts``, ``/videos``
    and ``/media``. ``transfer`` tunes uploads and downloads; ``session`` lends an aiohttp
    session the client will not close.

    ``base_url`` defaults to ``PIXOP_LEGACY_BASE_URL``, else
    :data:`~pixop_async.config.LEGACY_STAGING_BASE_URL`: unlike :class:`~pixop_async.Pixop`,
    whose default is production, the legacy default is staging, because Pixop's v1
    documentation names only the staging host.
    """

    def __init__(
        self,
        *,
        email: str,
        password: str,
        team_id: TeamId | str | None = None,
        base_url: str | None = None,
        config: ClientConfig | None = None,
        session: aiohttp.ClientSession | None = None,
        transfer: TransferConfig | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        v.text("email", email, min_len=1)
        v.text("password", password)
        self.team_id = v.optional_uuid("team_id", team_id)
        self.base_url = base_url_setting(base_url, LEGACY_BASE_URL_ENV, DEFAULT_LEGACY_BASE_URL)
        self.config = config or ClientConfig()
        self.transfer = transfer
        self._basic = BasicAuth(email, password)
        self._jwt = JwtAuth(self._fetch_token, margin=refresh_margin)
        self._http = HttpSession(self.config, session=session)
        # only the API's own answers feed the pollers' budget (not a host a redirect ends on)
        self._http.set_api_base(self.base_url)
        self._scheduler: Scheduler | None = None
        # fed by every API response: it learns a window, or that the API reports none (the
        # legacy API sends no X-RateLimit-* for JWT calls), which lets polls out together
        # instead of one probe at a time
        self.poll_budget = PollBudget()
        self._http.rate_observers.append(self.poll_budget)

    def __repr__(self) -> str:
        return (
            f"PixopLegacy(base_url={self.base_url!r}, email={self._basic.email!r}, "
            f"team_id={self.team_id!r})"
        )

    @property
    def jwt_auth(self) -> JwtAuth:
        """The session's JWT strategy (``refresh_count`` tells how many tokens were fetched)."""
        return self._jwt

    # with_options (inherited) views share the transfer scheduler
    _shared_lazy = ("scheduler",)

    @property
    def _session_auth(self) -> Auth:
        """The auth of this client's (or view's) calls: the shared session JWT, whose login,
        when a call of this view has to make it, is made by the view — with its options
        (see :meth:`_fetch_token`)."""
        if self._view_of is None:
            return self._jwt
        return FetchingJwt(self._jwt, self._fetch_token)

    @property
    def basic_auth(self) -> BasicAuth:
        """The HTTP Basic credentials (a view reads its client's: a password change made
        through any view is seen by all)."""
        root = self._view_of if isinstance(self._view_of, PixopLegacy) else self
        return root._basic

    def _set_basic_auth(self, auth: BasicAuth) -> None:
        root = self._view_of if isinstance(self._view_of, PixopLegacy) else self
        root._basic = auth

    @property
    def scheduler(self) -> Scheduler:
        """The one transfer scheduler shared by every upload and download of this client."""
        if self._scheduler is None:
            self._scheduler = Scheduler(self.transfer)
        return self._scheduler

    def service_url(self, service: str, path: str) -> str:
        """Absolute URL of ``path`` in ``service`` (``accounts``, ``videos``, ``media``)."""
        return f"{self.base_url}/{service}{path}"

    async def _fetch_token(self) -> str:
        """The login (``GET /accounts/v1/token`` with HTTP Basic) behind the session JWT.

        It is an API call of this client or view like any other, so a view's options apply
        to it in full: its ``timeout`` and retry policy (the view's call timeout bounds the
        call that triggered the login, login included) and its ``extra_headers`` and
        ``extra_query`` (a login is what ``view.accounts.create_token()`` sends). The Basic
        credentials are the client's; ``extra_headers`` cannot replace them.

        The token serves the client and every view alike, so a view may not choose its team:
        an ``extra_query`` naming ``team-id`` is refused here, before any request (the
        client's ``team_id`` decides; ``view.accounts.create_token()`` still hands the
        caller a token of its own for another team)."""
        if TEAM_PARAM in self._options.extra_query:
            raise InvalidRequestError(
                "extra_query",
                f"may not set {TEAM_PARAM!r} for the session login: its token serves the "
                "client and every view (give the client a team_id)",
            )
        token = await self.accounts.create_token(team_id=self.team_id)
        return token.jwt_token

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | None = None,
    ) -> ApiResponse:
        """Send one API request (the session JWT unless ``auth`` is given), mapping the
        legacy error bodies onto :mod:`pixop_async.legacy.errors`."""
        try:
            return await self._http.request(
                method,
                url,
                params=params,
                json=json,
                auth=auth or self._session_auth,
                options=self._options,
            )
        except APIStatusError as exc:
            mapped = translate(exc)
            if mapped is exc:
                raise
            raise mapped from None

    @functools.cached_property
    def accounts(self) -> AccountsService:
        """Tokens, the account and the user (``/accounts``)."""
        return AccountsService(self)

    @functools.cached_property
    def videos(self) -> VideosService:
        """Projects, videos and their processing (``/videos``)."""
        return VideosService(self)

    @functools.cached_property
    def media(self) -> MediaService:
        """Uploads and downloads of video data (``/media``)."""
        return MediaService(self)

"""The session layer: the only module that talks to aiohttp's client.

One :class:`HttpSession` owns (or borrows) an ``aiohttp.ClientSession``. Its request
pipeline runs auth → retry → send → error mapping in one place. :meth:`HttpSession.stream`
gives the transfer engine raw streaming access without retries (the engine retries per part)
while still translating aiohttp's exceptions into :mod:`pixop_async.errors` types.

Redirects are followed by hand so that credentials never cross to another origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs
from yarl import URL

from ._proxy import ProxyRoute, choose_route, env_proxies, split_proxy
from ._version import __version__
from ._wire import (
    CREDENTIAL_HEADERS,
    REDIRECT_STATUSES,
    ApiResponse,
    Body,
    OneShotBody,
    Params,
    StreamResponse,
    bounded,
    classify,
    credentials_sent,
    encode_params,
    origin_of,
    read_bounded,
    read_capped,
    safe_url,
    scrub,
    status_error,
    transport_error,
)
from .auth import Auth, NoAuth
from .budget import RequestBudget
from .config import ClientConfig
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    CrossOriginBodyError,
)
from .options import (
    DEFAULT_OPTIONS,
    RequestOptions,
    apply_options,
    call_timeout,
    current_call_timeout,
)
from .ratelimit import RateLimit, parse_rate_limit
from .responses import ResponseInfo, capturing, record
from .retry import Failure, FailureKind, RetryPolicy

__all__ = ["USER_AGENT", "ApiResponse", "HttpSession", "StreamResponse", "call_timeout"]

log = logging.getLogger("pixop_async.http")


USER_AGENT = f"pixop-async/{__version__}"
SleepFn = Callable[[float], Awaitable[None]]


class HttpSession:
    """Owns the aiohttp session of one client and runs its request pipeline."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        sleep: SleepFn | None = None,
    ) -> None:
        self.config = config or ClientConfig()
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._sleep: SleepFn = sleep or asyncio.sleep
        self._random = random.Random()
        self.rate_limit: RateLimit | None = None
        #: Paces every API request of the client (``None``: requests are not paced).
        self.budget: RequestBudget | None = None
        # further budgets told about every API response (a legacy client's pollers' budget)
        self.rate_observers: list[RequestBudget] = []
        #: Origin of the API: only its responses feed the rate-limit state (``None``: every
        #: response to :meth:`request`, none of :meth:`stream`).
        self.api_origin: tuple[str, str | None, int | None] | None = None
        cfg = self.config
        # proxies are read once, here: an explicit one wins; the environment's otherwise
        self._proxy: ProxyRoute | None = split_proxy(cfg.proxy) if cfg.proxy else None
        self._env_proxies = env_proxies() if cfg.trust_env and cfg.proxy is None else {}
        if not cfg.verify_ssl:
            log.warning("TLS certificate verification is turned off for this client")

    @property
    def closed(self) -> bool:
        return self._closed

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("this client is closed; create a new one")
        if self._session is None:
            cfg = self.config
            connector = aiohttp.TCPConnector(
                limit=cfg.connection_limit,
                limit_per_host=cfg.connection_limit_per_host,
                ssl=cfg.verify_ssl,
            )
            timeout = aiohttp.ClientTimeout(
                total=cfg.total_timeout,
                sock_connect=cfg.connect_timeout,
                sock_read=cfg.read_timeout,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                headers={"User-Agent": USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the owned aiohttp session; a borrowed one is left open. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def set_api_base(self, base_url: str) -> None:
        """Declare the API's base URL: its origin alone feeds the rate-limit state."""
        self.api_origin = origin_of(URL(base_url))

    def _is_api(self, url: URL, *, default: bool) -> bool:
        if self.api_origin is None:
            return default
        return origin_of(url) == self.api_origin

    def _observe(self, headers: Mapping[str, str], url: URL, *, default: bool) -> None:
        """Feed the rate-limit state from an API response (never from a download host or CDN
        answering a pre-signed URL: its headers describe someone else's limit)."""
        if not self._is_api(url, default=default):
            return
        for observer in self.rate_observers:
            observer.observe(headers)
        parsed = parse_rate_limit(headers, now=time.monotonic())
        if parsed is None:
            if self.budget is not None:
                self.budget.observe(headers)
            return
        cap = self.config.max_rate_limit_reset
        if parsed.reset_seconds is not None and parsed.reset_seconds > cap:
            parsed = attrs.evolve(parsed, reset_seconds=cap)
        self.rate_limit = parsed
        if self.budget is not None:
            self.budget.observe(headers)

    @asynccontextmanager
    async def _send(
        self,
        method: str,
        url: URL,
        *,
        headers: dict[str, str],
        params: dict[str, str] | None,
        data: Any,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One attempt, following redirects by hand and dropping credentials across origins."""
        client = self._client()
        start_origin = origin_of(url)
        if data is not None and not isinstance(data, bytes | bytearray):
            data = OneShotBody(data)
        current_url, current_method, current_data = url, method, data
        current_headers = dict(headers)
        for _hop in range(self.config.max_redirects + 1):
            route = choose_route(current_url, self._proxy, self._env_proxies)
            response = await client.request(
                current_method,
                current_url,
                headers=current_headers,
                params=params,
                data=current_data,
                allow_redirects=False,
                proxy=route.url,
                proxy_auth=route.auth,
            )
            location = response.headers.get("Location")
            if response.status not in REDIRECT_STATUSES or not location:
                try:
                    yield response
                finally:
                    response.release()
                return
            response.release()
            try:
                # userinfo in a Location is dropped: aiohttp would turn it into an
                # Authorization header (or fail on the one an auth already set)
                current_url = current_url.join(URL(location)).with_user(None)
            except ValueError:
                current_url = URL()
            if current_url.scheme not in ("http", "https") or not current_url.host:
                # file:, ftp:, javascript: ... are never followed
                raise APIConnectionError(
                    f"refused a redirect from {safe_url(url)} to a non-HTTP location",
                    request_sent=True,
                )
            params = None  # the Location carries its own query
            if response.status == 303 or (
                response.status in (301, 302) and current_method == "POST"
            ):
                current_method, current_data = "GET", None
            if current_data is not None and origin_of(current_url) != start_origin:
                # A 307/308 keeps the method and the body; the body of an API call can hold
                # secrets (S3 credentials), so it never goes to another origin.
                raise CrossOriginBodyError(
                    f"refused to re-send a request body from {safe_url(url)} to another"
                    f" origin ({safe_url(current_url)}) after HTTP {response.status}",
                    request_sent=True,
                )
            if origin_of(current_url) != start_origin:
                current_headers = {
                    k: v for k, v in current_headers.items() if k.lower() not in CREDENTIAL_HEADERS
                }
            log.debug("following redirect to %s", safe_url(current_url))
        raise APIConnectionError(f"too many redirects from {safe_url(url)}")

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: Auth | None = None,
        timeout: float | None = None,
        options: RequestOptions | None = None,
    ) -> ApiResponse:
        """Send an API request through the pipeline and return the read response.

        Raises a subclass of :class:`~pixop_async.errors.APIStatusError` for error statuses
        and :class:`~pixop_async.errors.APIConnectionError` for transport failures, after
        retrying what the retry policy allows. ``timeout`` (default: the one set with
        :func:`call_timeout`, else ``config.call_timeout``) bounds the whole call: waiting
        for the rate budget, every attempt and every retry wait; past it
        :class:`~pixop_async.errors.APITimeoutError`.

        ``options`` (a client view's :class:`~pixop_async.options.RequestOptions`) add
        headers and query parameters, replace the retry policy, and give the call timeout
        when ``timeout`` is not given; a conflicting extra query name raises
        :class:`~pixop_async.errors.InvalidRequestError` here, before anything is sent.
        """
        options = options or DEFAULT_OPTIONS
        params, merged_headers = apply_options(options, params, headers)
        limit = timeout if timeout is not None else options.timeout
        if limit is None:
            limit = current_call_timeout()
        if limit is None:
            limit = self.config.call_timeout
        call = self._request(
            method,
            url,
            params=params,
            json=json,
            headers=merged_headers,
            auth=auth,
            retry=options.retry or self.config.retry,
        )
        if limit is None:
            return await call
        try:
            return await asyncio.wait_for(call, limit)
        except asyncio.TimeoutError:
            raise APITimeoutError(
                f"{method.upper()} {safe_url(URL(str(url)))} did not complete within {limit:g} s",
                request_sent=True,
            ) from None

    async def _attempt(
        self,
        method: str,
        target: URL,
        *,
        headers: dict[str, str],
        params: dict[str, str] | None,
        data: bytes | None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One attempt, read to the end: (status, headers, body); error bodies are capped."""
        async with self._send(
            method, target, headers=headers, params=params, data=data
        ) as response:
            self._observe(response.headers, response.url, default=True)
            if response.status < 400:
                body = await read_bounded(response, self.config.max_response_body)
            else:
                body = scrub(
                    await read_capped(response, self.config.max_error_body),
                    credentials_sent(headers),
                )
            return response.status, dict(response.headers), body

    async def _paced_attempt(
        self,
        method: str,
        target: URL,
        *,
        headers: dict[str, str],
        params: dict[str, str] | None,
        data: bytes | None,
    ) -> tuple[int, dict[str, str], bytes]:
        """:meth:`_attempt` inside the rate budget and under ``config.attempt_timeout``.

        The attempt timeout is the stall rule of API calls: their bodies are small, so an
        attempt still unfinished after it (headers or a body dripped byte by byte, a body
        that never ends) is abandoned like a broken connection."""
        limit = self.config.attempt_timeout
        budget = self.budget if self._is_api(target, default=True) else None
        # the coroutine is made only once it will be awaited: a call cancelled while it
        # waits for its turn in the budget leaves no never-awaited coroutine behind
        async with contextlib.nullcontext() if budget is None else budget.slot():
            attempt = self._attempt(method, target, headers=headers, params=params, data=data)
            return await bounded(attempt, limit)

    async def _request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Params | None,
        json: Any,
        headers: Mapping[str, str] | None,
        auth: Auth | None,
        retry: RetryPolicy,
    ) -> ApiResponse:
        method = method.upper()
        target = URL(str(url))
        auth = auth or NoAuth()
        payload = None if json is None else jsonlib.dumps(json).encode()
        base_headers = dict(headers or {})
        given = {name.lower() for name in base_headers}
        if payload is not None and "content-type" not in given:
            base_headers["Content-Type"] = "application/json"
        if "accept" not in given:
            base_headers["Accept"] = "application/json"
        encoded_params = encode_params(params)
        policy = retry
        attempt = 0
        waited = 0.0
        auth_replayed = False
        while True:
            attempt += 1
            attempt_headers = {**base_headers, **(await auth.headers())}
            log.debug("%s %s (attempt %d)", method, safe_url(target), attempt)
            try:
                status, resp_headers, body = await self._paced_attempt(
                    method, target, headers=attempt_headers, params=encoded_params, data=payload
                )
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                failure = Failure(classify(exc))
                decision = policy.decide(
                    method, attempt, failure, waited=waited, rand=self._random.random()
                )
                log.debug("%s %s failed: %s", method, safe_url(target), type(exc).__name__)
                if not decision.retry:
                    raise transport_error(exc, target, attempt) from exc
            else:
                if status < 400:
                    if capturing():
                        record(
                            ResponseInfo(method, safe_url(target), status, resp_headers, attempt)
                        )
                    return ApiResponse(status, resp_headers, body)
                if status == 401 and not auth_replayed and await auth.on_unauthorized(body):
                    auth_replayed = True
                    attempt -= 1  # a credential refresh is not a retry
                    continue
                failure = Failure(FailureKind.STATUS, status, resp_headers)
                decision = policy.decide(
                    method,
                    attempt,
                    failure,
                    waited=waited,
                    rand=self._random.random(),
                    now=time.time(),
                )
                log.debug("%s %s answered %d", method, safe_url(target), status)
                if not decision.retry:
                    raise status_error(status, body, resp_headers, target, attempt)
            await self._sleep(decision.delay)
            waited += decision.delay

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str | URL,
        *,
        headers: Mapping[str, str] | None = None,
        params: Params | None = None,
        data: Body = None,
        auth: Auth | None = None,
    ) -> AsyncIterator[StreamResponse]:
        """One raw attempt whose body is read by the caller; no retries, no status mapping.

        Transport failures raise :class:`APIConnectionError` / :class:`APITimeoutError`.
        """
        target = URL(str(url), encoded=True) if isinstance(url, str) else url
        all_headers = dict(headers or {})
        if auth is not None:
            all_headers.update(await auth.headers())
        try:
            async with self._send(
                method.upper(),
                target,
                headers=all_headers,
                params=encode_params(params),
                data=data,
            ) as response:
                self._observe(response.headers, response.url, default=False)
                yield StreamResponse(response, target, credentials_sent(all_headers))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise transport_error(exc, target, 1) from exc

    async def raise_for_stream_status(self, response: StreamResponse) -> None:
        """Raise the typed error for an error status on a streamed response."""
        if response.status < 400:
            return
        body = scrub(await response.read_capped(self.config.max_error_body), response.secrets)
        raise status_error(response.status, body, dict(response.headers), response.url, 1)

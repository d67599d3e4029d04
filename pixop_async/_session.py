"""The session layer: the only module that talks to aiohttp's client.

One :class:`HttpSession` owns (or borrows) an ``aiohttp.ClientSession``. Its request
pipeline runs auth → retry → send → error mapping in one place. :meth:`HttpSession.stream`
gives the transfer engine raw streaming access without retries (the engine retries per part)
while still translating aiohttp's exceptions into :mod:`pixop_async.errors` types.

Redirects are followed by hand so that credentials never cross to another origin.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import contextvars
import json as jsonlib
import logging
import random
import sys
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
)
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiohttp
import aiohttp.payload
import attrs
from aiohttp.abc import AbstractStreamWriter
from yarl import URL

from ._decode import parse_json
from ._version import __version__
from .auth import Auth, NoAuth
from .budget import RequestBudget
from .config import ClientConfig
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    CrossOriginBodyError,
    InvalidResponseError,
    error_from_response,
    transport_reason,
)
from .ratelimit import RateLimit, parse_rate_limit
from .retry import Failure, FailureKind, server_advised_delay

log = logging.getLogger("pixop_async.http")
T = TypeVar("T")

_call_timeout: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pixop_call_timeout", default=None
)


@contextlib.contextmanager
def call_timeout(seconds: float | None) -> Iterator[None]:
    """Bound every API call made inside the block to ``seconds`` (the whole call: budget
    wait, attempts, retry waits), overriding ``ClientConfig.call_timeout``; past it a call
    raises :class:`~pixop_async.errors.APITimeoutError`. ``None`` restores the default."""
    if seconds is not None and not seconds > 0:
        raise ValueError("call_timeout must be > 0 seconds or None")
    token = _call_timeout.set(seconds)
    try:
        yield
    finally:
        _call_timeout.reset(token)


USER_AGENT = f"pixop-async/{__version__}"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Headers that carry credentials; dropped whenever a redirect leaves the original origin.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "x-api-key", "cookie", "x-pixop-api-key", "x-mimir-api-key"}
)

Params = Mapping[str, Any]
Body = bytes | AsyncIterable[bytes] | None
SleepFn = Callable[[float], Awaitable[None]]


@attrs.frozen
class ApiResponse:
    """A complete (already read) API response."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON; ``None`` for an empty body.

        A body that is not JSON raises :class:`~pixop_async.errors.InvalidResponseError`.
        """
        return parse_json(self.status, self.body)


class StreamResponse:
    """A response whose body is read incrementally (transfers)."""

    def __init__(
        self, response: aiohttp.ClientResponse, url: URL, secrets: tuple[bytes, ...] = ()
    ) -> None:
        self._response = response
        self.url = url
        #: credentials sent with the request, scrubbed from error bodies
        self.secrets = secrets

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most ``size`` bytes, mapping transport errors."""
        try:
            async for chunk in self._response.content.iter_chunked(size):
                yield chunk
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise APITimeoutError(
                f"timed out reading the body of {_safe_url(self.url)}", request_sent=True
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"connection broke while reading {_safe_url(self.url)}: {type(exc).__name__}",
                request_sent=True,
            ) from exc

    async def read_capped(self, limit: int) -> bytes:
        """Read at most ``limit`` bytes of the body (for error bodies of unknown size)."""
        return await _read_capped(self._response, limit)


class _OneShotBody(aiohttp.payload.AsyncIterablePayload):
    """A streamed request body that goes out at most once.

    aiohttp re-sends an idempotent request by itself, once, when its connection breaks, and
    it reuses the body object: a half-read stream would then be sent from the middle under
    the original ``Content-Length`` and a server could store the garbage as a success.
    Refusing the second send turns that replay into a connection error, which the SDK's own
    retry handles with a fresh body from the start.
    """

    _sent = False

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        if self._sent:
            raise RuntimeError("a streamed request body cannot be sent twice")
        self._sent = True
        await super().write_with_length(writer, content_length)


def _credentials_sent(headers: Mapping[str, str]) -> tuple[bytes, ...]:
    """The credential values in request headers, as a server might echo them back.

    A header's whole value, its token after ``Bearer``/``Basic``, and a Basic header's
    decoded password. Values under 6 characters are left alone (scrubbing them would
    mangle ordinary text).
    """
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() not in CREDENTIAL_HEADERS or not value:
            continue
        found.add(value)
        scheme, _, token = value.partition(" ")
        if token:
            found.add(token)
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(token, validate=True).decode()
                except (binascii.Error, UnicodeDecodeError):
                    continue
                found.add(decoded)
                found.add(decoded.partition(":")[2])
    return tuple(sorted((v.encode() for v in found if len(v) >= 6), key=len, reverse=True))


def _scrub(body: bytes, secrets: tuple[bytes, ...]) -> bytes:
    """``body`` with every echoed credential replaced, so error texts never carry one."""
    for secret in secrets:
        body = body.replace(secret, b"***")
    return body


def _safe_url(url: URL | str) -> str:
    """A URL for logs and messages: no query string (pre-signed URLs carry signatures)."""
    try:
        parsed = URL(str(url)).with_query(None).with_fragment(None)
        return str(parsed.with_user(None) if parsed.is_absolute() else parsed)
    except ValueError:  # not even a URL (a hostile Location header, say)
        return "<invalid URL>"


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.host, url.port)


def _encode_params(params: Params | None) -> dict[str, str] | None:
    if not params:
        return None
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        else:
            encoded[key] = str(value)
    return encoded


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    try:
        while total < limit:
            chunk = await response.content.read(min(65536, limit - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except (aiohttp.ClientError, asyncio.TimeoutError):
        pass  # an error body that breaks off is still an error; keep what arrived
    return b"".join(chunks)


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """A success body, refused once it exceeds ``limit`` bytes (a hostile or broken server
    must not fill memory); transport errors propagate so the request can be retried."""
    too_large = InvalidResponseError(
        f"HTTP {response.status} response body is larger than {limit} bytes",
        status=response.status,
    )
    if response.content_length is not None and response.content_length > limit:
        raise too_large  # refused without reading a byte
    chunks: list[bytes] = []
    total = 0
    while chunk := await response.content.read(65536):
        total += len(chunk)
        if total > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _bounded(aw: Awaitable[T], limit: float | None) -> T:
    """``await aw`` within ``limit`` seconds (``asyncio.TimeoutError`` past it), in the
    current task where the Python allows (no task per request: less garbage per poll)."""
    if limit is None:
        return await aw
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(limit):
            return await aw
    return await asyncio.wait_for(aw, limit)


def _classify(exc: BaseException) -> FailureKind:
    """Whether a transport exception means the request surely never reached the server."""
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return FailureKind.CONNECT
    return FailureKind.TRANSPORT


def _transport_error(exc: BaseException, url: URL, attempts: int) -> APIConnectionError:
    kind = _classify(exc)
    sent = kind is not FailureKind.CONNECT
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return APITimeoutError(
            f"request to {_safe_url(url)} timed out", attempts=attempts, request_sent=sent
        )
    reason = transport_reason(exc)
    return APIConnectionError(
        f"could not complete request to {_safe_url(url)}: {type(exc).__name__}"
        + (f" ({reason.lower()})" if reason else ""),
        attempts=attempts,
        request_sent=sent,
    )


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
        if not self.config.verify_ssl:
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
        self.api_origin = _origin(URL(base_url))

    def _is_api(self, url: URL, *, default: bool) -> bool:
        if self.api_origin is None:
            return default
        return _origin(url) == self.api_origin

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
        start_origin = _origin(url)
        if data is not None and not isinstance(data, bytes | bytearray):
            data = _OneShotBody(data)
        current_url, current_method, current_data = url, method, data
        current_headers = dict(headers)
        for _hop in range(self.config.max_redirects + 1):
            response = await client.request(
                current_method,
                current_url,
                headers=current_headers,
                params=params,
                data=current_data,
                allow_redirects=False,
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
                    f"refused a redirect from {_safe_url(url)} to a non-HTTP location",
                    request_sent=True,
                )
            params = None  # the Location carries its own query
            if response.status == 303 or (
                response.status in (301, 302) and current_method == "POST"
            ):
                current_method, current_data = "GET", None
            if current_data is not None and _origin(current_url) != start_origin:
                # A 307/308 keeps the method and the body; the body of an API call can hold
                # secrets (S3 credentials), so it never goes to another origin.
                raise CrossOriginBodyError(
                    f"refused to re-send a request body from {_safe_url(url)} to another"
                    f" origin ({_safe_url(current_url)}) after HTTP {response.status}",
                    request_sent=True,
                )
            if _origin(current_url) != start_origin:
                current_headers = {
                    k: v for k, v in current_headers.items() if k.lower() not in CREDENTIAL_HEADERS
                }
            log.debug("following redirect to %s", _safe_url(current_url))
        raise APIConnectionError(f"too many redirects from {_safe_url(url)}")

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
    ) -> ApiResponse:
        """Send an API request through the pipeline and return the read response.

        Raises a subclass of :class:`~pixop_async.errors.APIStatusError` for error statuses
        and :class:`~pixop_async.errors.APIConnectionError` for transport failures, after
        retrying what the retry policy allows. ``timeout`` (default: the one set with
        :func:`call_timeout`, else ``config.call_timeout``) bounds the whole call: waiting
        for the rate budget, every attempt and every retry wait; past it
        :class:`~pixop_async.errors.APITimeoutError`.
        """
        limit = timeout if timeout is not None else _call_timeout.get()
        if limit is None:
            limit = self.config.call_timeout
        call = self._request(method, url, params=params, json=json, headers=headers, auth=auth)
        if limit is None:
            return await call
        try:
            return await asyncio.wait_for(call, limit)
        except asyncio.TimeoutError:
            raise APITimeoutError(
                f"{method.upper()} {_safe_url(URL(str(url)))} did not complete within {limit:g} s",
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
                body = await _read_bounded(response, self.config.max_response_body)
            else:
                body = _scrub(
                    await _read_capped(response, self.config.max_error_body),
                    _credentials_sent(headers),
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
            return await _bounded(attempt, limit)

    async def _request(
        self,
        method: str,
        url: str | URL,
        *,
        params: Params | None,
        json: Any,
        headers: Mapping[str, str] | None,
        auth: Auth | None,
    ) -> ApiResponse:
        method = method.upper()
        target = URL(str(url))
        auth = auth or NoAuth()
        payload = None if json is None else jsonlib.dumps(json).encode()
        base_headers = dict(headers or {})
        if payload is not None:
            base_headers.setdefault("Content-Type", "application/json")
        base_headers.setdefault("Accept", "application/json")
        encoded_params = _encode_params(params)
        policy = self.config.retry
        attempt = 0
        waited = 0.0
        auth_replayed = False
        while True:
            attempt += 1
            attempt_headers = {**base_headers, **(await auth.headers())}
            log.debug("%s %s (attempt %d)", method, _safe_url(target), attempt)
            try:
                status, resp_headers, body = await self._paced_attempt(
                    method, target, headers=attempt_headers, params=encoded_params, data=payload
                )
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                failure = Failure(_classify(exc))
                decision = policy.decide(
                    method, attempt, failure, waited=waited, rand=self._random.random()
                )
                log.debug("%s %s failed: %s", method, _safe_url(target), type(exc).__name__)
                if not decision.retry:
                    raise _transport_error(exc, target, attempt) from exc
            else:
                if status < 400:
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
                log.debug("%s %s answered %d", method, _safe_url(target), status)
                if not decision.retry:
                    raise self._status_error(status, body, resp_headers, target, attempt)
            await self._sleep(decision.delay)
            waited += decision.delay

    @staticmethod
    def _status_error(
        status: int, body: bytes, headers: Mapping[str, str], url: URL, attempts: int
    ) -> APIStatusError:
        retry_after = server_advised_delay(headers, now=time.time()) if status == 429 else None
        return error_from_response(
            status, body, headers, path=url.path, attempts=attempts, retry_after=retry_after
        )

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
                params=_encode_params(params),
                data=data,
            ) as response:
                self._observe(response.headers, response.url, default=False)
                yield StreamResponse(response, target, _credentials_sent(all_headers))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _transport_error(exc, target, 1) from exc

    async def raise_for_stream_status(self, response: StreamResponse) -> None:
        """Raise the typed error for an error status on a streamed response."""
        if response.status < 400:
            return
        body = _scrub(await response.read_capped(self.config.max_error_body), response.secrets)
        raise self._status_error(response.status, body, dict(response.headers), response.url, 1)

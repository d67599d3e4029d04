"""Wire-level helpers of the session layer: response types, credential scrubbing, safe URLs
for messages, bounded body reads and the mapping of transport exceptions to SDK errors.

Everything here is used by :mod:`pixop_async._session`; nothing here opens a connection.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping
from typing import Any, TypeVar

import aiohttp
import aiohttp.payload
import attrs
from aiohttp.abc import AbstractStreamWriter
from yarl import URL

from ._decode import parse_json
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidResponseError,
    error_from_response,
    transport_reason,
)
from .retry import FailureKind, server_advised_delay

T = TypeVar("T")
Params = Mapping[str, Any]
Body = bytes | AsyncIterable[bytes] | None

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Headers that carry credentials; dropped whenever a redirect leaves the original origin.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "x-api-key", "cookie", "x-pixop-api-key", "x-mimir-api-key"}
)
#: Headers that frame the message on the connection: set by the HTTP layer alone (a
#: caller's ``Content-Length`` on a GET made the server read the next request as its body).
FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


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
                f"timed out reading the body of {safe_url(self.url)}", request_sent=True
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"connection broke while reading {safe_url(self.url)}: {type(exc).__name__}",
                request_sent=True,
            ) from exc

    async def read_capped(self, limit: int) -> bytes:
        """Read at most ``limit`` bytes of the body (for error bodies of unknown size)."""
        return await read_capped(self._response, limit)


class OneShotBody(aiohttp.payload.AsyncIterablePayload):
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


def credentials_sent(headers: Mapping[str, str]) -> tuple[bytes, ...]:
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


def scrub(body: bytes, secrets: tuple[bytes, ...]) -> bytes:
    """``body`` with every echoed credential replaced, so error texts never carry one."""
    for secret in secrets:
        body = body.replace(secret, b"***")
    return body


def safe_url(url: URL | str) -> str:
    """A URL for logs and messages: no query string (pre-signed URLs carry signatures)."""
    try:
        parsed = URL(str(url)).with_query(None).with_fragment(None)
        return str(parsed.with_user(None) if parsed.is_absolute() else parsed)
    except ValueError:  # not even a URL (a hostile Location header, say)
        return "<invalid URL>"


def origin_of(url: URL) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.host, url.port)


def encode_params(params: Params | None) -> dict[str, str] | None:
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


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
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


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
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


async def bounded(aw: Awaitable[T], limit: float | None) -> T:
    """``await aw`` within ``limit`` seconds (``asyncio.TimeoutError`` past it), in the
    current task where the Python allows (no task per request: less garbage per poll)."""
    if limit is None:
        return await aw
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(limit):
            return await aw
    return await asyncio.wait_for(aw, limit)


def classify(exc: BaseException) -> FailureKind:
    """Whether a transport exception means the request surely never reached the server."""
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return FailureKind.CONNECT
    return FailureKind.TRANSPORT


def transport_error(exc: BaseException, url: URL, attempts: int) -> APIConnectionError:
    kind = classify(exc)
    sent = kind is not FailureKind.CONNECT
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return APITimeoutError(
            f"request to {safe_url(url)} timed out", attempts=attempts, request_sent=sent
        )
    reason = transport_reason(exc)
    detail = f" ({reason.lower()})" if reason else ""
    if isinstance(exc, aiohttp.ClientHttpProxyError) and isinstance(exc.status, int):
        # the proxy refused the CONNECT tunnel; 407 means its credentials
        detail = f" (the proxy answered HTTP {exc.status} to CONNECT)"
    return APIConnectionError(
        f"could not complete request to {safe_url(url)}: {type(exc).__name__}{detail}",
        attempts=attempts,
        request_sent=sent,
    )


def status_error(
    status: int, body: bytes, headers: Mapping[str, str], url: URL, attempts: int
) -> APIStatusError:
    """The typed error of an HTTP error response (a 429's advised wait included)."""
    retry_after = server_advised_delay(headers, now=time.time()) if status == 429 else None
    return error_from_response(
        status, body, headers, path=url.path, attempts=attempts, retry_after=retry_after
    )

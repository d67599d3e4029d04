"""Serving stored media the way object stores do: Range, HEAD, ETag, If-None-Match, If-Range.

Other emulator areas call :func:`serve_file` for their download routes and :func:`presign`
to hand out time-limited URLs served by ``GET/HEAD /media-store/{token}``.

Transfer tests steer media serving through :func:`media_controls` (``controls(app)``): a
per-connection rate limit and queued :class:`MediaFault` s — a connection reset or a
truncated body at a byte offset, one corrupted byte, a burst of error statuses, an ETag
change (a new object version) and early expiry of a pre-signed URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import time
import weakref
from pathlib import Path
from typing import Any, Literal

import attrs
from aiohttp import web

from .middleware import STATE_KEY
from .state import EmulatorState

PRESIGN_PREFIX = "/media-store"
CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)\Z")

FaultKind = Literal["reset", "truncate", "corrupt", "status", "etag_change", "expire"]


@attrs.define
class Presigned:
    """One issued pre-signed URL."""

    path: Path
    expires_at: float
    file_name: str
    content_type: str


@attrs.define
class MediaFault:
    """One injected failure of media serving.

    ``kind``: ``reset`` aborts the connection and ``truncate`` closes it cleanly once the
    body reaches the fault position; ``corrupt`` flips the byte at that position;
    ``status`` answers ``status`` (with ``headers``, e.g. Retry-After) instead of the
    file; ``etag_change`` gives the file a new ETag from this request on (a new version
    for every conditional request); ``expire`` ends the pre-signed URL's life now (403).
    The position is the absolute file offset ``at`` (the fault then only hits responses
    whose range contains it) or else ``after`` bytes into the body. ``path`` is a regex
    on the request path; ``skip`` matching requests pass before the fault hits ``times``.
    """

    kind: FaultKind
    times: int = 1
    skip: int = 0
    at: int | None = None
    after: int = 0
    status: int = 503
    headers: dict[str, str] = attrs.field(factory=dict)
    path: str = ".*"
    hits: int = 0

    def matches(self, path: str, start: int, end: int) -> bool:
        if re.search(self.path, path) is None:
            return False
        return self.at is None or start <= self.at <= end

    def position(self, start: int) -> int:
        """Offset into the response body where the fault strikes."""
        return self.at - start if self.at is not None else self.after


@attrs.define
class MediaControls:
    """Knobs of media serving for one emulator.

    ``rate_limit`` caps each connection at that many bytes per second (``None``: no cap);
    the budget belongs to the TCP connection, so keep-alive requests share it.
    ``requests`` and ``bytes_sent`` count what was served and ``served`` lists the byte
    ranges of the bodies started (tests assert on them).
    """

    rate_limit: float | None = None
    faults: list[MediaFault] = attrs.field(factory=list)
    etag_versions: dict[str, int] = attrs.field(factory=dict)
    requests: int = 0
    bytes_sent: int = 0
    served: list[tuple[int, int]] = attrs.field(factory=list)

    def add(self, fault: MediaFault) -> MediaFault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self.etag_versions.clear()

    def take(self, kinds: set[str], path: str, start: int, end: int) -> MediaFault | None:
        for fault in self.faults:
            if fault.kind not in kinds or not fault.matches(path, start, end):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            fault.times -= 1
            fault.hits += 1
            if fault.times <= 0:
                self.faults.remove(fault)
            return fault
        return None


MEDIA_KEY: web.AppKey[MediaControls] = web.AppKey("pixop_media", MediaControls)


def media_controls(app: web.Application) -> MediaControls:
    """The media knobs of an emulator app (``server.app``)."""
    return app[MEDIA_KEY]


def file_etag(path: Path) -> str:
    """A strong ETag from the file's identity (inode, size, mtime), like S3 objects have."""
    st = path.stat()
    digest = hashlib.sha1(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
    return f'"{digest[:32]}"'


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end) of a single-range ``Range`` header; None when unsatisfiable."""
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return None
    return start, end


def _versioned(etag: str, version: int) -> str:
    return etag if version == 0 else f'{etag[:-1]}-v{version}"'


async def serve_file(
    request: web.Request,
    path: Path,
    *,
    content_type: str = "application/octet-stream",
    file_name: str | None = None,
    etag: str | None = None,
) -> web.StreamResponse:
    """Answer GET or HEAD for ``path`` with ranges and conditional requests."""
    controls = request.app.get(MEDIA_KEY) or MediaControls()
    controls.requests += 1
    size = path.stat().st_size
    key = str(path)
    whole_end = max(size - 1, 0)
    changed = controls.take({"etag_change"}, request.path, 0, whole_end)
    if changed is not None:
        controls.etag_versions[key] = controls.etag_versions.get(key, 0) + 1
    etag = _versioned(etag or file_etag(path), controls.etag_versions.get(key, 0))
    headers: dict[str, Any] = {"ETag": etag, "Accept-Ranges": "bytes", "Content-Type": content_type}
    if file_name:
        headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return web.Response(status=304, headers={"ETag": etag})
    if_match = request.headers.get("If-Match")
    if if_match and if_match.strip() not in ("*", etag):
        return web.Response(status=412, headers={"ETag": etag})
    byte_range: tuple[int, int] | None = None
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and (if_range is None or if_range.strip() == etag):
        byte_range = parse_range(range_header, size)
        if byte_range is None:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
    status = 200
    start, end = 0, size - 1
    if byte_range is not None:
        status = 206
        start, end = byte_range
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    failing = controls.take({"status"}, request.path, start, max(end, start))
    if failing is not None:
        return web.Response(
            status=failing.status,
            text=f"<Error><Code>Injected</Code><Message>HTTP {failing.status}</Message></Error>",
            content_type="application/xml",
            headers=failing.headers,
        )
    length = end - start + 1 if size else 0
    headers["Content-Length"] = str(length)
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(request)
    if request.method == "HEAD" or length == 0:
        await response.write_eof()
        return response
    fault = controls.take({"reset", "truncate", "corrupt"}, request.path, start, end)
    controls.served.append((start, end))
    try:
        with path.open("rb") as handle:
            if fault is None and controls.rate_limit is None:
                await _send_fast(request, response, handle, start, length)
                controls.bytes_sent += length
            else:
                await _send_paced(request, response, handle, start, length, controls, fault)
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away mid-body; nothing left to answer
    return response


async def _sendfile(transport: Any, handle: Any, offset: int, count: int) -> None:
    """``loop.sendfile`` that reports a client gone mid-body as the ``ConnectionError`` the
    handler expects (asyncio raises a bare ``RuntimeError`` for a closing transport, which
    a download that stops reading early, such as a split segment, causes routinely)."""
    try:
        await asyncio.get_running_loop().sendfile(transport, handle, offset, count)
    except RuntimeError:
        if not transport.is_closing():
            raise
        raise ConnectionResetError("the client closed the connection") from None


async def _send_fast(
    request: web.Request, response: web.StreamResponse, handle: Any, start: int, length: int
) -> None:
    """The no-fault path: the kernel copies the file to the socket (sendfile)."""
    transport = request.transport
    if transport is not None:
        try:
            await _sendfile(transport, handle, start, length)
            return
        except NotImplementedError:
            pass
    handle.seek(start)
    remaining = length
    while remaining > 0:
        chunk = handle.read(min(4 * CHUNK, remaining))
        if not chunk:
            break
        await response.write(chunk)
        remaining -= len(chunk)


async def _send_paced(
    request: web.Request,
    response: web.StreamResponse,
    handle: Any,
    start: int,
    length: int,
    controls: MediaControls,
    fault: MediaFault | None,
) -> None:
    """Chunked sending with the rate limit and the body faults applied.

    Without a fault the paced pieces still go out with ``sendfile``, so a capped server can
    feed many connections without spending its CPU on copies.
    """
    rate = controls.rate_limit
    piece = CHUNK if rate is None else max(16 * 1024, min(4 * CHUNK, int(rate / 20)))
    strike = fault.position(start) if fault is not None else -1
    handle.seek(start)
    sent = 0
    transport = request.transport if fault is None else None
    while sent < length:
        want = min(piece, length - sent)
        if transport is not None:
            if rate is not None:
                await _pacer(request, rate).take(want)
            try:
                await _sendfile(transport, handle, start + sent, want)
            except NotImplementedError:
                transport = None
                handle.seek(start + sent)
                continue
            sent += want
            controls.bytes_sent += want
            continue
        if fault is not None and fault.kind in ("reset", "truncate") and sent + want > strike:
            want = strike - sent
            if want <= 0:
                _break_connection(request, fault)
                raise asyncio.CancelledError
        chunk = handle.read(want)
        if not chunk:
            break
        if fault is not None and fault.kind == "corrupt" and sent <= strike < sent + len(chunk):
            mutable = bytearray(chunk)
            mutable[strike - sent] ^= 0xFF
            chunk = bytes(mutable)
        if rate is not None:
            await _pacer(request, rate).take(len(chunk))
        await response.write(chunk)
        sent += len(chunk)
        controls.bytes_sent += len(chunk)


class _Pacer:
    """A connection's send budget: ``rate`` bytes/s with a 50 ms burst (idle time does not
    bank more), shared by every response on that keep-alive connection."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.burst = rate / 20
        self.tokens = self.burst
        self.stamp = time.monotonic()

    async def take(self, nbytes: int) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= nbytes
        if self.tokens < 0:
            await asyncio.sleep(-self.tokens / self.rate)


_PACERS: weakref.WeakKeyDictionary[Any, _Pacer] = weakref.WeakKeyDictionary()


def _pacer(request: web.Request, rate: float) -> _Pacer:
    """The pacer of the request's connection (per connection, not per response)."""
    key = request.transport if request.transport is not None else request
    pacer = _PACERS.get(key)
    if pacer is None or pacer.rate != rate:
        pacer = _PACERS[key] = _Pacer(rate)
    return pacer


def _break_connection(request: web.Request, fault: MediaFault) -> None:
    transport = request.transport
    if transport is None:
        return
    if fault.kind == "reset":
        transport.abort()
    else:
        transport.close()


def presign(
    request: web.Request,
    path: Path,
    *,
    expires_in: float,
    file_name: str,
    content_type: str,
) -> tuple[str, float]:
    """Issue a pre-signed URL for ``path``; returns (absolute URL, expiry as unix time)."""
    state: EmulatorState = request.app[STATE_KEY]
    return presign_url(
        state,
        str(request.url.origin()),
        path,
        expires_in=expires_in,
        file_name=file_name,
        content_type=content_type,
    )


def presign_url(
    state: EmulatorState,
    origin: str,
    path: Path,
    *,
    expires_in: float,
    file_name: str,
    content_type: str = "application/octet-stream",
) -> tuple[str, float]:
    """:func:`presign` without a request (tests and benchmarks); ``origin`` is the server root."""
    token = secrets.token_urlsafe(24)
    expires_at = state.clock.time() + expires_in
    state.presigned[token] = Presigned(Path(path), expires_at, file_name, content_type)
    signature = secrets.token_hex(16)
    url = f"{origin.rstrip('/')}{PRESIGN_PREFIX}/{token}?X-Pixop-Expires={int(expires_at)}"
    return f"{url}&X-Pixop-Signature={signature}", expires_at


def _denied() -> web.Response:
    return web.Response(
        status=403,
        text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        content_type="application/xml",
    )


async def get_presigned(request: web.Request) -> web.StreamResponse:
    state: EmulatorState = request.app[STATE_KEY]
    entry = state.presigned.get(request.match_info["token"])
    if entry is None or state.clock.time() >= entry.expires_at:
        return _denied()
    controls = request.app.get(MEDIA_KEY)
    if controls is not None and controls.take({"expire"}, request.path, 0, 2**62) is not None:
        entry.expires_at = state.clock.time()
        return _denied()
    if not os.path.exists(entry.path):
        return web.Response(
            status=404, text="<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml"
        )
    return await serve_file(
        request, entry.path, content_type=entry.content_type, file_name=entry.file_name
    )


def setup(app: web.Application) -> None:
    app[MEDIA_KEY] = MediaControls()
    app.router.add_route("GET", PRESIGN_PREFIX + "/{token}", get_presigned)
    app.router.add_route("HEAD", PRESIGN_PREFIX + "/{token}", get_presigned)

"""Serving stored media the way object stores do: Range, HEAD, ETag, If-None-Match, If-Range.

Other emulator areas call :func:`serve_file` for their download routes and :func:`presign`
to hand out time-limited URLs served by ``GET/HEAD /media-store/{token}``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from .middleware import STATE_KEY
from .state import EmulatorState

PRESIGN_PREFIX = "/media-store"
CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@attrs.define
class Presigned:
    """One issued pre-signed URL."""

    path: Path
    expires_at: float
    file_name: str
    content_type: str


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


async def serve_file(
    request: web.Request,
    path: Path,
    *,
    content_type: str = "application/octet-stream",
    file_name: str | None = None,
    etag: str | None = None,
) -> web.StreamResponse:
    """Answer GET or HEAD for ``path`` with ranges and conditional requests."""
    size = path.stat().st_size
    etag = etag or file_etag(path)
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
    length = end - start + 1 if size else 0
    headers["Content-Length"] = str(length)
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(request)
    if request.method == "HEAD" or length == 0:
        await response.write_eof()
        return response
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            await response.write(chunk)
            remaining -= len(chunk)
    await response.write_eof()
    return response


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
    token = secrets.token_urlsafe(24)
    expires_at = state.clock.time() + expires_in
    state.presigned[token] = Presigned(path, expires_at, file_name, content_type)
    signature = secrets.token_hex(16)
    url = f"{request.url.origin()}{PRESIGN_PREFIX}/{token}?X-Pixop-Expires={int(expires_at)}"
    return f"{url}&X-Pixop-Signature={signature}", expires_at


async def get_presigned(request: web.Request) -> web.StreamResponse:
    state: EmulatorState = request.app[STATE_KEY]
    entry = state.presigned.get(request.match_info["token"])
    if entry is None or state.clock.time() >= entry.expires_at:
        return web.Response(
            status=403,
            text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            content_type="application/xml",
        )
    if not os.path.exists(entry.path):
        return web.Response(
            status=404, text="<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml"
        )
    return await serve_file(
        request, entry.path, content_type=entry.content_type, file_name=entry.file_name
    )


def setup(app: web.Application) -> None:
    app.router.add_route("GET", PRESIGN_PREFIX + "/{token}", get_presigned)
    app.router.add_route("HEAD", PRESIGN_PREFIX + "/{token}", get_presigned)

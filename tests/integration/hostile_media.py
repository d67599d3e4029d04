"""A small ranged media server with knobs to misbehave (no tests here).

The emulator's media serving is an honest object store with injectable faults; this one
plays the dishonest servers: it stalls, lies about lengths and ranges, ignores ``Range``
after the first answer, redirects to another host and offers hostile file names. Every
request is recorded (method, path, headers) so tests can see what the client sent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
from aiohttp import web

from tests.servers import serve

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
ETAG = '"hostile-v1"'


@attrs.define
class Hostile:
    """Knobs; each is read on every request, so a test may change them between calls."""

    data: bytes
    url: str = ""
    #: seconds to stall before answering, for the next ``stall_times`` ranged requests
    stall: float = 0.0
    stall_times: int = 0
    #: answer 200 with the whole body to every request after the first
    ranges_once: bool = False
    #: add this to the end of every Content-Range (a range that was not asked for)
    shift_range: int = 0
    #: claim this many more body bytes than are sent, then close the body (a lying length)
    short_by: int = 0
    short_times: int = 0
    #: send this many bytes more than the range asked for (Content-Length counts them)
    long_by: int = 0
    #: Content-Disposition sent with every answer
    disposition: str | None = None
    #: redirect every request here (another origin) instead of answering
    redirect_to: str | None = None
    #: an error body this large (bytes) with status 500, streamed, for ``error_times`` requests
    error_body: int = 0
    error_times: int = 0
    seen: list[tuple[str, str, dict[str, str]]] = attrs.Factory(list)
    answered: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path, dict(request.headers)))
        if self.redirect_to is not None:
            raise web.HTTPFound(self.redirect_to + request.path_qs)
        if self.error_times > 0:
            self.error_times -= 1
            return await self._endless_error(request)
        match = _RANGE.match(request.headers.get("Range", ""))
        honour = match is not None and not (self.ranges_once and self.answered > 0)
        self.answered += 1
        headers = {"ETag": ETAG, "Content-Type": "video/mp4", "Accept-Ranges": "bytes"}
        if self.disposition is not None:
            headers["Content-Disposition"] = self.disposition
        size = len(self.data)
        start, end, status = 0, size - 1, 200
        if honour and match is not None:
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
            status = 206
            shown_end = min(end + self.shift_range, size - 1)
            headers["Content-Range"] = f"bytes {start}-{shown_end}/{size}"
            if self.stall_times > 0:
                self.stall_times -= 1
                await asyncio.sleep(self.stall)
        body = self.data[start : end + 1] + bytes(self.long_by)
        if self.short_times > 0:
            self.short_times -= 1
            headers["Content-Length"] = str(len(body))
            response = web.StreamResponse(status=status, headers=headers)
            await response.prepare(request)
            await response.write(body[: max(0, len(body) - self.short_by)])
            transport = request.transport
            if transport is not None:
                transport.close()  # the promised length never arrives
            return response
        return web.Response(status=status, body=body, headers=headers)

    async def _endless_error(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=500, headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"x" * 65533
        sent = 0
        while sent < self.error_body:
            await response.write(chunk)
            sent += len(chunk)
        return response


@asynccontextmanager
async def hostile(data: bytes, host: str = "127.0.0.1") -> AsyncIterator[Hostile]:
    """Serve ``data`` at ``/media/clip.mp4`` of a fresh server; yields its knobs."""
    state = Hostile(data)
    app = web.Application()
    app.router.add_route("*", "/media/{name}", state.handle)
    async with serve(app, host=host) as root:
        state.url = root + "/media/clip.mp4"
        yield state

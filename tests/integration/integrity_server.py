"""An object store that changes, compresses and drips on demand (no tests here).

Unlike :mod:`.hostile_media` it honours ``If-Match``, ``If-Unmodified-Since`` and
``If-Range`` like a real store (each can be turned off), serves whatever version of the
object is current at the time of each request, and records every request's headers.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
from aiohttp import web

from tests.servers import serve

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@attrs.define
class Store:
    """Knobs, read on every request."""

    data: bytes
    etag: str | None = '"v1"'
    last_modified: str | None = None
    url: str = ""
    #: called with the number of requests answered so far, before answering (may mutate)
    before: Callable[[Store, int], None] | None = None
    honour_preconditions: bool = True
    #: gzip every body (``"all"``), only ranged bodies after the first (``"later"``)
    gzip: str | None = None
    #: answer this status (no body) to the first request
    first_status: int | None = None
    #: send the body this many bytes at a time with ``drip_delay`` seconds in between
    drip: int = 0
    drip_delay: float = 0.0
    #: answer 503 to every request from this one on (counted from 0)
    fail_from: int | None = None
    #: close the connection after this many body bytes of every answer but the first
    cut_after: int | None = None
    #: close the connection once an answer's body reaches this offset of the object
    break_at: int | None = None
    #: answer every request with the whole object (200), whatever its Range
    ignore_ranges: bool = False
    #: answer 206 even when no Range was asked for
    partial_always: bool = False
    #: the total shown in Content-Range instead of the real size
    shown_total: int | None = None
    extra: dict[str, str] = attrs.Factory(dict)
    seen: list[dict[str, str]] = attrs.Factory(list)
    #: body bytes handed to the connection, per answer (in the order of ``seen``)
    sent: list[int] = attrs.Factory(list)

    def replace(self, data: bytes, etag: str | None, last_modified: str | None) -> None:
        self.data, self.etag, self.last_modified = data, etag, last_modified

    def _validators(self) -> dict[str, str]:
        headers = dict(self.extra)
        if self.etag is not None:
            headers["ETag"] = self.etag
        if self.last_modified is not None:
            headers["Last-Modified"] = self.last_modified
        return headers

    def _precondition_failed(self, request: web.Request) -> bool:
        if not self.honour_preconditions:
            return False
        match = request.headers.get("If-Match")
        if match is not None and match != self.etag:
            return True
        since = request.headers.get("If-Unmodified-Since")
        return since is not None and since != self.last_modified

    def _range_honoured(self, request: web.Request) -> bool:
        if_range = request.headers.get("If-Range")
        if if_range is None or not self.honour_preconditions:
            return True
        return if_range in (self.etag, self.last_modified)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        count = len(self.seen)
        self.seen.append(dict(request.headers))
        self.sent.append(0)
        if self.before is not None:
            self.before(self, count)
        headers = self._validators()
        if count == 0 and self.first_status is not None:
            return web.Response(status=self.first_status, headers=headers)
        if self.fail_from is not None and count >= self.fail_from:
            return web.Response(status=503, headers={"Retry-After": "0"})
        if self._precondition_failed(request):
            return web.Response(status=412)
        data = self.data
        size = len(data)
        match = _RANGE.match(request.headers.get("Range", ""))
        status, start, end = 200, 0, size - 1
        if match is not None and not self.ignore_ranges and self._range_honoured(request):
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
            status = 206
        if status == 206 or self.partial_always:
            status = 206
            shown = size if self.shown_total is None else self.shown_total
            headers["Content-Range"] = f"bytes {start}-{end}/{shown}"
        body = data[start : end + 1]
        if self.gzip == "all" or (self.gzip == "later" and count > 0 and status == 206):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        cut = self.cut_after is not None and count > 0
        cut_after = self.cut_after
        if self.break_at is not None and start < self.break_at <= end and status == 206:
            cut, cut_after = True, self.break_at - start
        if not self.drip and not cut:
            self.sent[count] = len(body)
            return web.Response(status=status, body=body, headers=headers)
        headers["Content-Length"] = str(len(body))
        response = web.StreamResponse(status=status, headers=headers)
        await response.prepare(request)
        step = self.drip or (cut_after if cut and cut_after else len(body))
        for i in range(0, len(body), step):
            if cut and cut_after is not None and i >= cut_after:
                if i and self.break_at is not None:
                    # aiohttp drops what a client has buffered but not read when the
                    # connection breaks: give it the bytes sent before the break
                    await asyncio.sleep(0.2)
                if request.transport is not None:
                    request.transport.close()  # the promised length never arrives
                return response
            await response.write(body[i : i + step])
            self.sent[count] += len(body[i : i + step])
            await asyncio.sleep(self.drip_delay)
        return response


@asynccontextmanager
async def store(data: bytes, **knobs: object) -> AsyncIterator[Store]:
    """Serve ``data`` at ``/o/clip.mp4`` of a fresh server; yields its knobs."""
    state = Store(data, **knobs)  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_route("GET", "/o/{name}", state.handle)
    async with serve(app) as root:
        state.url = root + "/o/clip.mp4"
        yield state


@asynccontextmanager
async def dripping_headers(delay: float) -> AsyncIterator[str]:
    """A raw server that sends its status line and headers one byte every ``delay`` s."""

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            head = b"HTTP/1.1 206 Partial Content\r\n" + b"X-Slow: " + b"a" * 10_000 + b"\r\n"
            for byte in head:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(delay)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/o/clip.mp4"
    finally:
        server.close()
        await server.wait_closed()

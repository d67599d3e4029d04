"""The import downloader: fetch a URL with ranged GETs over several connections.

:func:`probe` learns the size and ETag with a one-byte range request (a source that does not
answer 206 with a valid ``Content-Range`` is refused, as Pixop refuses it). A
:class:`RangedDownload` then fetches fixed-size parts with up to ``connections`` concurrent
requests, each pinned with ``If-Match`` to the probed ETag and checked against the range it
asked for, writing every part at its offset into a preallocated file. Parts already done
survive a failure, so a restart fetches only what is missing.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path

import aiohttp
import attrs

PART_MIN = 256 * 1024
PART_MAX = 8 * 1024 * 1024
PART_ATTEMPTS = 3
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)\Z")


class SourceError(Exception):
    """The source cannot be fetched; ``code`` is the API error code to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@attrs.frozen
class Probe:
    size: int
    etag: str | None
    content_type: str | None


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """(first, last, total) of a ``Content-Range: bytes a-b/n`` header."""
    match = _CONTENT_RANGE.match((value or "").strip())
    if not match:
        return None
    first, last, total = match.groups()
    return int(first), int(last), None if total == "*" else int(total)


def plan_parts(size: int, connections: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges covering ``size`` bytes: enough parts to keep every connection
    busy, each between PART_MIN and PART_MAX bytes."""
    if size <= 0:
        return []
    part = min(PART_MAX, max(PART_MIN, -(-size // max(1, connections * 2))))
    return [(start, min(size, start + part) - 1) for start in range(0, size, part)]


def session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, force_close=False),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30),
    )


async def probe(client: aiohttp.ClientSession, url: str) -> Probe:
    """Size, ETag and type of the source, from a ``bytes=0-0`` request."""
    try:
        async with client.get(url, headers={"Range": "bytes=0-0"}) as response:
            if response.status >= 400:
                raise SourceError("INVALID_HTTPS_URL", f"The URL answered HTTP {response.status}")
            if response.status != 206:
                raise SourceError(
                    "CONTENT_NOT_PARTIAL_ERROR", "The URL does not support range requests"
                )
            parsed = parse_content_range(response.headers.get("Content-Range"))
            if parsed is None or parsed[2] is None or parsed[:2] != (0, 0):
                raise SourceError(
                    "CONTENT_RANGE_HEADER_INVALID", "The URL sent an invalid Content-Range"
                )
            return Probe(parsed[2], response.headers.get("ETag"), response.content_type)
    except aiohttp.ClientError as exc:
        raise SourceError("INVALID_HTTPS_URL", f"The URL is not accessible: {exc}") from None


@attrs.define
class RangedDownload:
    """The state of one import download (kept across restarts)."""

    url: str
    path: Path
    size: int
    etag: str | None
    connections: int
    parts: list[tuple[int, int]] = attrs.field(init=False)
    done: set[int] = attrs.Factory(set)
    bytes_done: int = 0
    max_in_flight: int = 0
    _in_flight: int = 0

    def __attrs_post_init__(self) -> None:
        self.parts = plan_parts(self.size, self.connections)

    async def run(self, on_progress: Callable[[int], None]) -> None:
        """Fetch every missing part; raises :class:`SourceError` when one keeps failing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() or self.path.stat().st_size != self.size:
            with self.path.open("wb") as handle:
                handle.truncate(self.size)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(len(self.parts)):
            if index not in self.done:
                queue.put_nowait(index)
        if queue.empty():
            return
        fd = os.open(self.path, os.O_WRONLY)
        try:
            async with session(self.connections) as client:
                workers = [
                    asyncio.create_task(self._worker(client, queue, fd, on_progress))
                    for _ in range(min(self.connections, queue.qsize()))
                ]
                try:
                    await asyncio.gather(*workers)
                finally:
                    for worker in workers:
                        worker.cancel()
                    await asyncio.gather(*workers, return_exceptions=True)
        finally:
            os.close(fd)

    async def _worker(
        self,
        client: aiohttp.ClientSession,
        queue: asyncio.Queue[int],
        fd: int,
        on_progress: Callable[[int], None],
    ) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            for attempt in range(1, PART_ATTEMPTS + 1):
                try:
                    await self._fetch_part(client, index, fd)
                    break
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    if attempt == PART_ATTEMPTS:
                        raise SourceError(
                            "INVALID_HTTPS_URL", f"Fetching the source failed: {exc}"
                        ) from None
                    await asyncio.sleep(0.05 * attempt)
            self.done.add(index)
            first, last = self.parts[index]
            self.bytes_done += last - first + 1
            on_progress(self.bytes_done)

    async def _fetch_part(self, client: aiohttp.ClientSession, index: int, fd: int) -> None:
        first, last = self.parts[index]
        headers = {"Range": f"bytes={first}-{last}"}
        if self.etag:
            headers["If-Match"] = self.etag
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            async with client.get(self.url, headers=headers) as response:
                if response.status == 412:
                    raise SourceError("RESOLVE_OBJECT_METADATA_ERROR", "The source changed")
                if response.status != 206:
                    raise aiohttp.ClientResponseError(
                        response.request_info, (), status=response.status, message="not partial"
                    )
                parsed = parse_content_range(response.headers.get("Content-Range"))
                if parsed is None or parsed[:2] != (first, last):
                    raise SourceError(
                        "UNEXPECTED_CONTENT_RANGE",
                        f"Asked for bytes {first}-{last}, got "
                        f"{response.headers.get('Content-Range')}",
                    )
                offset = first
                async for chunk in response.content.iter_chunked(256 * 1024):
                    if offset + len(chunk) > last + 1:
                        raise SourceError("UNEXPECTED_CONTENT_RANGE", "The source sent too much")
                    await asyncio.to_thread(os.pwrite, fd, chunk, offset)
                    offset += len(chunk)
                if offset != last + 1:
                    raise aiohttp.ClientPayloadError(f"part {index} ended early at {offset}")
        finally:
            self._in_flight -= 1

"""Parallel ranged downloads with CRC32C, resume journal and URL renewal.

The first request asks for the first part's range; its answer tells the size and the ETag,
and its body *is* part 0. The other parts are fetched by up to ``connections`` workers,
pinned to that ETag, each streaming into its place in a preallocated temp file beside the
destination. Part CRCs are combined into the file's CRC32C, checked, and only then is the
temp file fsynced and renamed over the destination.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import attrs

from .._session import HttpSession, StreamResponse
from ..auth import Auth
from ..errors import (
    APIConnectionError,
    APIStatusError,
    ChecksumMismatchError,
    TransferError,
)
from ..retry import Failure, FailureKind, RetryPolicy
from . import journal as jr
from ._fetch import BadRange, Inflight, PartState, SourceChanged, UrlExpired, consume, pin_headers
from ._source import RefreshUrl, UrlSource
from ._target import Target, resolve_target
from .checksum import crc32c_combine_all, crc32c_file
from .config import TransferConfig
from .plan import Part, choose_part_size, plan_parts
from .progress import Progress, ProgressCallback
from .ranges import content_range_matches, parse_content_length, parse_content_range, range_header
from .scheduler import Scheduler

log = logging.getLogger("pixop_async.transfer")


@attrs.frozen
class DownloadResult:
    """A finished download.

    ``bytes_fetched`` counts body bytes received in this call (less than ``size`` after a
    resume, more after retries); ``not_modified`` is True when ``if_none_match`` matched and
    the local file was left untouched.
    """

    path: Path
    size: int
    crc32c: int
    etag: str | None
    bytes_fetched: int
    elapsed: float
    not_modified: bool = False


def failure_of(exc: APIConnectionError | APIStatusError) -> Failure:
    """The retry policy's view of a transfer error."""
    if isinstance(exc, APIStatusError):
        return Failure(FailureKind.STATUS, exc.status, exc.headers)
    kind = FailureKind.TRANSPORT if exc.request_sent else FailureKind.CONNECT
    return Failure(kind)


class _Download:
    """State of one download call (one object version; restarted on an ETag change)."""

    def __init__(
        self,
        http: HttpSession,
        source: UrlSource,
        *,
        dest: str | os.PathLike[str],
        connections: int,
        part_size: int | None,
        expected_crc32c: int | None,
        progress: Progress,
        resume: bool,
        headers: Mapping[str, str],
        auth: Auth | None,
        if_none_match: str | None,
        identity: str,
        expected_size: int | None,
        scheduler: Scheduler,
        config: TransferConfig,
    ) -> None:
        self.http = http
        self.source = source
        self.dest = dest
        self.connections = connections
        self.requested_part_size = part_size
        self.expected = expected_crc32c
        self.progress = progress
        self.resume = resume
        self.headers = dict(headers)
        self.auth = auth
        self.if_none_match = if_none_match
        self.identity = identity
        self.expected_size = expected_size
        self.scheduler = scheduler
        self.config = config
        self.policy: RetryPolicy = config.retry or http.config.retry
        self.rand = random.Random()
        self.inflight = Inflight()
        self.fetched = 0
        # per version:
        self.size = 0
        self.etag: str | None = None
        self.parts: list[Part] = []
        self.states: dict[int, PartState] = {}
        self.journal: jr.Journal | None = None
        self.journal_lock = asyncio.Lock()
        self.target: Target | None = None
        self.fd = -1
        self.single = False

    # -- requests ---------------------------------------------------------------------

    def _request_headers(self, start: int | None, end: int | None) -> dict[str, str]:
        headers = dict(self.headers)
        if start is not None:
            headers["Range"] = range_header(start, end)
            headers.update(pin_headers(self.etag))
        return headers

    async def _retry_or_raise(
        self, exc: APIConnectionError | APIStatusError, attempt: int, waited: float
    ) -> float:
        decision = self.policy.decide(
            "GET",
            attempt,
            failure_of(exc),
            waited=waited,
            rand=self.rand.random(),
            now=time.time(),
        )
        if not decision.retry:
            log.debug("giving up on a part: %s", decision.reason)
            raise exc
        log.debug("retrying a part in %.2fs: %s", decision.delay, decision.reason)
        await asyncio.sleep(decision.delay)
        return decision.delay

    async def _check_range_answer(
        self, resp: StreamResponse, generation: int, start: int, end: int
    ) -> None:
        status = resp.status
        if status == 403 and self.source.renewable:
            raise UrlExpired(generation)
        if status == 412 or status == 200:
            raise SourceChanged("the object changed while it was being downloaded")
        if status >= 400:
            await self.http.raise_for_stream_status(resp)
        if status != 206:
            raise TransferError(f"HTTP {status} is not an answer to a range request")
        if not content_range_matches(resp.headers.get("Content-Range"), start, end, self.size):
            raise BadRange(
                f"asked for bytes {start}-{end}, got Content-Range "
                f"{resp.headers.get('Content-Range')!r}"
            )
        etag = resp.headers.get("ETag")
        if etag and self.etag and etag != self.etag:
            raise SourceChanged("the object's ETag changed while it was being downloaded")

    async def _stream_part(self, part: Part, resp: StreamResponse, generation: int) -> None:
        state = self.states[part.index]
        start = part.start + state.written
        await self._check_range_answer(resp, generation, start, part.end)
        before = state.fetched
        try:
            await consume(
                resp,
                fd=self.fd,
                offset=start,
                state=state,
                expected=part.end - start + 1,
                scheduler=self.scheduler,
                progress=self.progress,
                inflight=self.inflight,
                buffer_size=self.config.buffer_size,
            )
        finally:
            self.fetched += state.fetched - before

    async def _fetch_part(self, part: Part) -> None:
        """Fetch what is missing of ``part``, retrying and resuming from its last byte."""
        state = self.states[part.index]
        attempt, waited = 0, 0.0
        while state.written < part.length:
            before = state.written
            try:
                async with self.scheduler.connection():
                    url, generation = await self.source.get()
                    start = part.start + state.written
                    headers = self._request_headers(start, part.end)
                    async with self.http.stream(
                        "GET", url, headers=headers, auth=self.auth
                    ) as resp:
                        await self._stream_part(part, resp, generation)
            except UrlExpired as exc:
                await self.source.renew(exc.generation)
            except (APIConnectionError, APIStatusError) as exc:
                if state.written > before:
                    attempt, waited = 0, 0.0  # progress was made: a fresh budget
                attempt += 1
                waited += await self._retry_or_raise(exc, attempt, waited)
        await self._part_done(part)

    async def _part_done(self, part: Part) -> None:
        if self.journal is None or self.target is None:
            return
        self.journal.done[part.index] = self.states[part.index].crc
        async with self.journal_lock:
            payload = jr.encode(self.journal)
            await asyncio.get_running_loop().run_in_executor(
                None, jr.write, self.target.journal, payload
            )

    async def _workers(
        self,
        queue: list[Part],
        count: int,
        *,
        lead: Callable[[], Awaitable[None]] | None = None,
        on_done: Callable[[Part], bool] | None = None,
    ) -> None:
        """Run up to ``count`` workers over ``queue``; the first one runs ``lead`` first.

        The first failure cancels the other workers and is raised.
        """

        async def worker(first: Callable[[], Awaitable[None]] | None) -> None:
            if first is not None:
                await first()
            while queue:
                part = queue.pop(0)
                await self._fetch_part(part)
                if on_done is not None and on_done(part):
                    queue.clear()

        wanted = min(count, len(queue) + (1 if lead is not None else 0))
        tasks = [asyncio.ensure_future(worker(lead if i == 0 else None)) for i in range(wanted)]
        if not tasks:
            return
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- one object version -------------------------------------------------------------

    async def run(self) -> DownloadResult:
        started = time.monotonic()
        restarts = 0
        while True:
            try:
                result = await self._run_version()
            except SourceChanged:
                if restarts >= self.config.max_restarts:
                    await self._discard()
                    raise TransferError(
                        "the object kept changing during the download; nothing was saved"
                    ) from None
                restarts += 1
                log.info("the object changed during the download; starting over")
                await self._discard()
                self.progress.rollback(self.progress.done)
                continue
            return attrs.evolve(result, elapsed=time.monotonic() - started)

    async def _probe(self) -> tuple[contextlib.AsyncExitStack, StreamResponse, int]:
        """Open the first request (part 0's range), renewing the URL if it was refused."""
        first_len = choose_part_size(None, self.requested_part_size)
        attempt, waited = 0, 0.0
        while True:
            stack = contextlib.AsyncExitStack()
            try:
                await stack.enter_async_context(self.scheduler.connection())
                url, generation = await self.source.get()
                headers = self._request_headers(0, first_len - 1)
                if self.if_none_match:
                    headers["If-None-Match"] = self.if_none_match
                resp = await stack.enter_async_context(
                    self.http.stream("GET", url, headers=headers, auth=self.auth)
                )
                if resp.status == 403 and self.source.renewable:
                    await stack.aclose()
                    await self.source.renew(generation)
                    continue
                if resp.status >= 400 and resp.status != 416:
                    await self.http.raise_for_stream_status(resp)
                return stack, resp, first_len
            except (APIConnectionError, APIStatusError) as exc:
                await stack.aclose()
                attempt += 1
                waited += await self._retry_or_raise(exc, attempt, waited)
            except BaseException:
                await stack.aclose()
                raise

    async def _run_version(self) -> DownloadResult:
        self.etag = None
        self.single = False
        stack, resp, first_len = await self._probe()
        async with stack:
            self.etag = resp.headers.get("ETag")
            self.target = resolve_target(self.dest, resp.headers, self.source.url)
            if resp.status == 304:
                return await self._not_modified()
            if resp.status == 416:
                cr = parse_content_range(resp.headers.get("Content-Range"))
                if cr is not None and cr.total == 0:
                    self._check_size(0)
                    return await self._finish_empty()
                raise TransferError(f"the server refused the first range: {cr}")
            if resp.status == 200:
                return await self._single_stream(resp)
            cr = parse_content_range(resp.headers.get("Content-Range"))
            if resp.status != 206 or cr is None or cr.total is None:
                raise TransferError(f"unexpected answer to the first range: HTTP {resp.status}")
            self.size = cr.total
            self._check_size(self.size)
            await self._prepare(first_len)
            await self._ranged(stack, resp, first_len)
        return await self._complete()

    def _check_size(self, size: int) -> None:
        if self.expected_size is not None and size != self.expected_size:
            raise TransferError(
                f"the server offers {size} bytes where {self.expected_size} were expected"
            )

    async def _prepare(self, first_len: int) -> None:
        """Open the temp file and the journal, reusing a matching previous attempt."""
        assert self.target is not None
        target = self.target
        loop = asyncio.get_running_loop()
        previous = jr.load(target.journal) if self.resume else None
        fresh = True
        if previous is not None and previous.matches(self.identity, self.size, self.etag):
            fd = await loop.run_in_executor(None, target.open_existing, self.size)
            if fd is not None:
                self.fd, fresh = fd, False
                self.journal = previous
        if fresh:
            part_size = choose_part_size(self.size, self.requested_part_size)
            self.journal = jr.Journal(self.identity, self.size, self.etag, part_size, first_len)
            self.fd = await loop.run_in_executor(None, target.create, self.size)
            if self.resume and self.etag and not self.etag.startswith("W/"):
                await loop.run_in_executor(None, jr.write, target.journal, jr.encode(self.journal))
        assert self.journal is not None
        self.parts = plan_parts(self.size, self.journal.part_size, self.journal.first_len)
        self.states = {}
        for part in self.parts:
            crc = self.journal.done.get(part.index)
            self.states[part.index] = (
                PartState(written=part.length, crc=crc) if crc is not None else PartState()
            )
        self.progress.total = self.size
        self.progress.done = sum(p.length for p in self.parts if p.index in self.journal.done)
        if not fresh:
            log.info(
                "resuming: %d of %d parts already here", len(self.journal.done), len(self.parts)
            )

    async def _ranged(
        self, stack: contextlib.AsyncExitStack, resp: StreamResponse, first_len: int
    ) -> None:
        """Fetch every missing part; the open first response feeds part 0 when it fits."""
        assert self.journal is not None
        done = self.journal.done
        first = self.parts[0] if self.parts else None
        use_probe = (
            first is not None
            and first.index not in done
            and first.length == min(first_len, self.size)
        )
        if not use_probe:
            await stack.aclose()
        queue = [p for p in self.parts if p.index not in done and not (use_probe and p is first)]
        lead = None
        if use_probe and first is not None:
            part = first

            async def lead() -> None:
                await self._probe_part(part, stack, resp)

        await self._workers(queue, max(1, self.connections), lead=lead)

    async def _probe_part(
        self, part: Part, stack: contextlib.AsyncExitStack, resp: StreamResponse
    ) -> None:
        """Part 0 from the first response's body; retried like any part if it breaks."""
        try:
            await self._stream_part(part, resp, self.source.generation)
        except (APIConnectionError, APIStatusError):
            await stack.aclose()
            await self._fetch_part(part)
            return
        finally:
            await stack.aclose()
        await self._part_done(part)

    async def _complete(self) -> DownloadResult:
        """Verify the combined CRC (refetching once on a mismatch), then publish the file."""
        missing = [p.index for p in self.parts if self.states[p.index].written != p.length]
        if missing:  # a guard: publishing must never happen with holes in the file
            raise TransferError(f"parts {missing[:5]} were not fetched")
        crc = self._combined()
        if self.expected is not None and crc != self.expected:
            log.warning("CRC32C mismatch; fetching the damaged data again")
            if self.single:
                self.progress.rollback(self.size)
                await self._stream_whole(None, self.size)
                crc = self._combined()
            else:
                crc = await self._refetch_until_match()
            if crc != self.expected:
                await self._discard()
                raise ChecksumMismatchError(
                    "the downloaded bytes do not match the expected checksum",
                    expected=self.expected,
                    actual=crc,
                )
        return await self._publish(crc)

    def _combined(self) -> int:
        return crc32c_combine_all([(self.states[p.index].crc, p.length) for p in self.parts])

    async def _refetch_until_match(self) -> int:
        """Fetch parts again until the combined CRC matches; stop as soon as it does."""
        queue = list(self.parts)
        for part in queue:
            state = self.states[part.index]
            self.progress.rollback(state.written)
            self.states[part.index] = PartState()
        old = {p.index: self.journal.done.pop(p.index, 0) for p in queue} if self.journal else {}

        def fixed(_part: Part) -> bool:
            crcs = [
                (
                    self.states[p.index].crc
                    if self.states[p.index].written == p.length
                    else old.get(p.index, 0),
                    p.length,
                )
                for p in self.parts
            ]
            return crc32c_combine_all(crcs) == self.expected

        await self._workers(queue, self.connections, on_done=fixed)
        for part in self.parts:  # parts skipped after the match keep their first CRC
            if self.states[part.index].written != part.length:
                self.states[part.index] = PartState(part.length, old.get(part.index, 0))
        return self._combined()

    async def _single_stream(self, resp: StreamResponse) -> DownloadResult:
        """The server ignores ranges: one stream, restarted from zero if it breaks."""
        assert self.target is not None
        self.single = True
        size = parse_content_length(resp.headers.get("Content-Length"))
        if size is not None:
            self._check_size(size)
        loop = asyncio.get_running_loop()
        self.fd = await loop.run_in_executor(None, self.target.create, size or 0)
        self.progress.total = size
        await self._stream_whole(resp, size)
        return await self._complete()

    async def _stream_whole(self, resp: StreamResponse | None, size: int | None) -> None:
        state = PartState()
        self.states = {0: state}
        attempt, waited = 0, 0.0
        current = resp
        while True:
            try:
                if current is not None:
                    await self._consume_whole(current, state, size)
                else:
                    async with self.scheduler.connection():
                        url, _ = await self.source.get()
                        async with self.http.stream(
                            "GET", url, headers=self._request_headers(None, None), auth=self.auth
                        ) as again:
                            if again.status >= 400:
                                await self.http.raise_for_stream_status(again)
                            await self._consume_whole(again, state, size)
                break
            except (APIConnectionError, APIStatusError) as exc:
                current = None
                self.progress.rollback(state.written)
                self.states[0] = state = PartState()
                attempt += 1
                waited += await self._retry_or_raise(exc, attempt, waited)
        self.size = state.written
        self.parts = [Part(0, 0, self.size - 1)] if self.size else []

    async def _consume_whole(
        self, resp: StreamResponse, state: PartState, size: int | None
    ) -> None:
        before = state.fetched
        try:
            await consume(
                resp,
                fd=self.fd,
                offset=0,
                state=state,
                expected=size,
                scheduler=self.scheduler,
                progress=self.progress,
                inflight=self.inflight,
                buffer_size=self.config.buffer_size,
            )
        finally:
            self.fetched += state.fetched - before

    # -- endings ------------------------------------------------------------------------

    async def _publish(self, crc: int) -> DownloadResult:
        assert self.target is not None
        await self.inflight.drain()
        loop = asyncio.get_running_loop()
        fd, self.fd = self.fd, -1
        await loop.run_in_executor(None, self.target.publish, fd, self.config.fsync, self.size)
        await self.progress.finish()
        return DownloadResult(self.target.final, self.size, crc, self.etag, self.fetched, 0.0)

    async def _finish_empty(self) -> DownloadResult:
        assert self.target is not None
        loop = asyncio.get_running_loop()
        self.size, self.parts, self.progress.total = 0, [], 0
        self.fd = await loop.run_in_executor(None, self.target.create, 0)
        return await self._complete()

    async def _not_modified(self) -> DownloadResult:
        assert self.target is not None
        final = self.target.final
        size = final.stat().st_size if final.exists() else 0
        crc = (
            self.expected
            if self.expected is not None
            else (await crc32c_file(final) if final.exists() else 0)
        )
        return DownloadResult(final, size, crc, self.etag, 0, 0.0, not_modified=True)

    async def close_fd(self) -> None:
        await self.inflight.drain()
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    async def _discard(self) -> None:
        """Forget this version: close and delete the temp file and the journal."""
        await self.close_fd()
        if self.target is not None:
            self.target.discard()
        self.journal = None


async def download(
    http: HttpSession,
    url: str,
    dest: str | os.PathLike[str],
    *,
    connections: int = 8,
    part_size: int | None = None,
    expected_crc32c: int | None = None,
    progress: ProgressCallback | None = None,
    resume: bool = True,
    headers: Mapping[str, str] | None = None,
    auth: Auth | None = None,
    if_none_match: str | None = None,
    refresh_url: RefreshUrl | Callable[[], Awaitable[str]] | None = None,
    identity: str | None = None,
    scheduler: Scheduler | None = None,
    config: TransferConfig | None = None,
    url_expires_at: float | None = None,
    expected_size: int | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest`` with up to ``connections`` parallel range requests.

    ``dest`` is a file path, or an existing directory (the name then comes from the
    server's ``Content-Disposition``, else the URL path, after sanitising). The file appears
    at its final path only when complete and verified: against ``expected_crc32c`` when
    given (a mismatch refetches once, then raises :class:`ChecksumMismatchError` and leaves
    nothing behind). With ``resume`` an interrupted download continues from its journal
    (``identity`` names the object across URL changes; default: the URL).
    ``refresh_url`` is awaited for a fresh URL when the current one is refused with 403
    or reaches ``url_expires_at`` (unix time). ``expected_size`` makes a different size
    reported by the server an error before anything is written. ``progress(done, total)``
    may be sync or async. ``if_none_match`` sends that ETag; a 304 leaves the local file
    untouched and returns ``not_modified=True``.
    """
    config = config or (scheduler.config if scheduler is not None else TransferConfig())
    scheduler = scheduler or Scheduler(config)
    if part_size is not None and part_size < 1:
        raise ValueError("part_size must be >= 1")
    if expected_crc32c is not None and not 0 <= expected_crc32c <= 0xFFFFFFFF:
        raise ValueError("expected_crc32c must be an unsigned 32-bit integer")
    source = UrlSource(
        url,
        refresh_url,
        expires_at=url_expires_at,
        max_refreshes=config.max_url_refreshes,
        margin=config.url_expiry_margin,
    )
    job = _Download(
        http,
        source,
        dest=dest,
        connections=config.connections_for(connections),
        part_size=part_size if part_size is not None else config.part_size,
        expected_crc32c=expected_crc32c,
        progress=Progress(progress, interval=config.progress_interval),
        resume=resume,
        headers=headers or {},
        auth=auth,
        if_none_match=if_none_match,
        identity=identity or url,
        expected_size=expected_size,
        scheduler=scheduler,
        config=config,
    )
    try:
        return await job.run()
    finally:
        await job.close_fd()

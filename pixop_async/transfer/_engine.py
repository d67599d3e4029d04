"""The part machinery of downloads: ranged requests, retries, writing, the journal.

:class:`PartEngine` holds the state of one download of one object version (size, ETag,
parts and what is on disk of each) and fetches parts with per-part retries, resuming a
broken stream from its last written byte. The orchestration (first request, resume,
verification, publishing) lives in :mod:`.download`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from .._session import HttpSession, StreamResponse
from ..auth import Auth
from ..errors import APIConnectionError, APIStatusError, TransferError
from ..retry import Failure, FailureKind, RetryPolicy
from . import journal as jr
from ._deadline import Activity
from ._fetch import (
    BadRange,
    Inflight,
    PartState,
    PinnedRangesRefused,
    SourceChanged,
    UrlExpired,
    consume,
)
from ._pin import Validator, check_encoding, plain_request_headers
from ._source import UrlSource
from ._target import Target, open_in_thread
from .checksum import crc32c_combine_all, release_written
from .config import TransferConfig
from .plan import Part
from .progress import Progress
from .ranges import (
    content_range_matches,
    parse_content_length,
    parse_content_range,
    range_header,
)
from .scheduler import Scheduler

log = logging.getLogger("pixop_async.transfer")

#: Largest object size believed (8 EiB would not fit a file offset anyway).
MAX_SIZE = 2**62


def failure_of(exc: APIConnectionError | APIStatusError) -> Failure:
    """The retry policy's view of a transfer error."""
    if isinstance(exc, APIStatusError):
        return Failure(FailureKind.STATUS, exc.status, exc.headers)
    kind = FailureKind.TRANSPORT if exc.request_sent else FailureKind.CONNECT
    return Failure(kind)


def with_attempts(
    exc: APIConnectionError | APIStatusError, attempts: int
) -> APIConnectionError | APIStatusError:
    """``exc`` restated with the number of attempts made, for the error that is raised."""
    if attempts <= 1:
        return exc
    if isinstance(exc, APIStatusError):
        exc.attempts = attempts
        exc.args = (exc._describe(),)
        return exc
    message = str(exc).rpartition(" (after ")[0] or str(exc)
    again = type(exc)(message, attempts=attempts, request_sent=exc.request_sent)
    again.__cause__ = exc.__cause__
    return again


#: Received bytes one download holds in its pieces (one filling and one being written per
#: connection) at most, beyond which pieces shrink (never below 256 KiB): with many
#: connections, 1 MiB pieces would cost more memory than they save in thread hops.
PIECE_MEMORY = 8 * 1024 * 1024


def piece_size(config: TransferConfig, connections: int) -> int:
    """Bytes gathered per hash-and-write hop for a download with ``connections`` streams."""
    share = PIECE_MEMORY // (2 * max(1, connections))
    return min(config.buffer_for(connections), max(share, 256 * 1024))


def _settle(fd: int, part: Part | None, target: Target, payload: bytes) -> None:
    if part is not None:
        release_written(fd, part.start, part.length)
    target.save_journal(payload)


class PartEngine:
    """State of one download call and the fetching of its parts."""

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
        self.buffer_size = piece_size(config, connections)
        self.rand = random.Random()
        self.inflight = Inflight()
        self.activity = Activity(progress)
        self.fetched = 0
        # per version:
        self.size = 0
        self.etag: str | None = None
        self.validator: Validator | None = None
        self.parts: list[Part] = []
        self.states: dict[int, PartState] = {}
        self.journal: jr.Journal | None = None
        self.journal_lock = asyncio.Lock()
        self.target: Target | None = None
        self.fd = -1
        self.single = False
        #: a name for the file in a directory ``dest``, chosen by the API, not the caller
        self.suggested: str | None = None
        self.claimed: list[Target] = []  # names this call reserved, released at its end

    async def _create(self, size: int) -> int:
        assert self.target is not None
        fd = await open_in_thread(self.target.create, size)
        assert fd is not None
        return fd

    def _check_size(self, size: int) -> None:
        if size > MAX_SIZE:
            raise TransferError(f"the server claims an impossible size ({size} bytes)")
        if self.expected_size is not None and size != self.expected_size:
            raise TransferError(
                f"the server offers {size} bytes where {self.expected_size} were expected"
            )

    # -- requests ---------------------------------------------------------------------

    def _request_headers(self, start: int | None, end: int | None) -> dict[str, str]:
        headers = plain_request_headers(self.headers)
        if start is not None:
            headers["Range"] = range_header(start, end)
            if self.validator is not None:
                headers.update(self.validator.pin_headers())
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
            raise with_attempts(exc, attempt) from exc.__cause__
        log.debug("retrying a part in %.2fs: %s", decision.delay, decision.reason)
        await asyncio.sleep(decision.delay)
        return decision.delay

    def _same_whole_object(self, resp: StreamResponse) -> bool:
        """Whether a 200 is the pinned version itself: same validator, same length."""
        length = parse_content_length(resp.headers.get("Content-Length"))
        return (
            self.validator is not None
            and self.validator.same_version(resp.headers)
            and length == self.size
        )

    def _another_total(self, resp: StreamResponse) -> bool:
        """Whether a 416 shows the object now has another size (a store that ignores the
        pin, answering for a shorter replacement): a restart, not a failure."""
        cr = parse_content_range(resp.headers.get("Content-Range"))
        return cr is not None and cr.unsatisfied and cr.total != self.size

    async def _check_range_answer(
        self, resp: StreamResponse, generation: int, start: int, end: int
    ) -> None:
        status = resp.status
        if status == 403 and self.source.renewable:
            raise UrlExpired(generation)
        if status == 200 and self._same_whole_object(resp):
            raise PinnedRangesRefused("the server answers pinned ranges with the whole object")
        if status == 412 or status == 200:
            raise SourceChanged("the object changed while it was being downloaded")
        if status == 416 and self._another_total(resp):
            raise SourceChanged("the object's size changed while it was being downloaded")
        if status >= 400:
            await self.http.raise_for_stream_status(resp)
        if status != 206:
            raise TransferError(f"HTTP {status} is not an answer to a range request")
        # Another version first: a store that ignores the pin may serve a replacement of
        # another size, whose Content-Range then differs too; that is a restart, not a lie.
        if self.validator is not None and not self.validator.same_version(resp.headers):
            raise SourceChanged("the object changed while it was being downloaded")
        check_encoding(resp.headers)
        if not content_range_matches(resp.headers.get("Content-Range"), start, end, self.size):
            raise BadRange(
                f"asked for bytes {start}-{end}, got Content-Range "
                f"{resp.headers.get('Content-Range')!r}"
            )

    async def _stream_part(self, part: Part, resp: StreamResponse, generation: int) -> None:
        state = self.states[part.index]
        start = part.start + state.written
        await self._check_range_answer(resp, generation, start, part.end)
        await self._consume(resp, state, base=part.start, expected=part.end - start + 1)

    async def _consume(
        self, resp: StreamResponse, state: PartState, *, base: int, expected: int | None
    ) -> None:
        """Stream ``resp`` into the region at ``base`` described by ``state``, counting the
        body bytes it brought in ``fetched`` even when it breaks off."""
        before = state.fetched
        try:
            await consume(
                resp,
                fd=self.fd,
                base=base,
                state=state,
                expected=expected,
                scheduler=self.scheduler,
                progress=self.progress,
                inflight=self.inflight,
                buffer_size=self.buffer_size,
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
                async with self.activity.connection(self.scheduler):
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

    @property
    def resumable(self) -> bool:
        """Whether progress is journaled: asked for, and the object version is pinned."""
        return self.resume and self.validator is not None

    async def _part_done(self, part: Part) -> None:
        """Journal a finished part and start writing it back to disk."""
        if self.journal is not None:
            self.journal.done[part.index] = self.states[part.index].crc
        await self._save_journal(part)

    async def _save_journal(self, finished: Part | None = None) -> None:
        """Write the journal (with in-flight parts' progress); release a finished part."""
        loop = asyncio.get_running_loop()
        if self.journal is None or self.target is None or not self.resumable:
            if finished is not None:
                await loop.run_in_executor(
                    self.scheduler.executor,
                    release_written,
                    self.fd,
                    finished.start,
                    finished.length,
                )
            return
        journal = self.journal
        async with self.journal_lock:
            journal.partial = {
                p.index: (state.written, state.crc)
                for p in self.parts
                if p.index not in journal.done
                and 0 < (state := self.states[p.index]).written < p.length
            }
            payload = jr.encode(journal)
            future = loop.run_in_executor(
                self.scheduler.executor, _settle, self.fd, finished, self.target, payload
            )
            self.inflight.add(future)  # publishing waits for it: no stray journal after
            await asyncio.shield(future)

    async def _journal_ticker(self) -> None:
        """Save in-flight progress now and then, so a killed process loses little."""
        while True:
            await asyncio.sleep(self.config.journal_interval)
            await self._save_journal()

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
        await first_failure_cancels(tasks)

    def _combined(self) -> int:
        return crc32c_combine_all([(self.states[p.index].crc, p.length) for p in self.parts])

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


async def first_failure_cancels(tasks: Sequence[asyncio.Future[None]]) -> None:
    """Wait for every task; the first to fail cancels the others (all have ended when
    this returns or raises) and its exception is raised."""
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

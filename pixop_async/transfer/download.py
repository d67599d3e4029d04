"""Parallel ranged downloads with CRC32C, resume journal and URL renewal.

The first request asks for the first part's range; its answer tells the size and the
validator (strong ETag, else ``Last-Modified``; see :mod:`._pin`), and its body *is* part 0.
The other parts are fetched by up to ``connections`` workers, pinned to that validator,
each streaming into its place in a preallocated temp file beside the destination. With no
validator the object comes in one plain stream instead. Part CRCs are combined into the
file's CRC32C, checked, and only then is the temp file fsynced and renamed into place
(checked to still be ours, see :mod:`._localfs`). Resume: :mod:`._resume`; deadlines:
:mod:`._deadline`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
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
    LocalFileError,
    PixopError,
    TransferError,
)
from . import _record
from . import journal as jr
from ._deadline import guarded
from ._fetch import BadRange, PartState, SourceChanged
from ._inputs import download_args
from ._pin import check_encoding, validator_of
from ._rerun import Expectation, LocalState, confirm_unchanged, inspect_destination
from ._resume import ResumingEngine
from ._source import RefreshUrl, UrlSource
from ._target import named_path, read_local, resolve_target, run_to_completion
from ._whole import WholeStreamEngine
from .checksum import crc32c_combine_all
from .config import TransferConfig
from .plan import Part, choose_part_size
from .progress import Progress, ProgressCallback
from .ranges import parse_content_length, parse_content_range
from .scheduler import Scheduler

log = logging.getLogger("pixop_async.transfer")


@attrs.frozen
class DownloadResult:
    """A finished download.

    ``bytes_fetched`` counts body bytes received in this call (less than ``size`` after a
    resume, more after retries); ``not_modified`` is True when ``if_none_match`` matched and
    the local file was left untouched. ``pinned`` says how the object version was held
    fixed across requests: ``"etag"``, ``"last-modified"``, or ``None`` when the server
    offered neither (the file then came in one stream and could not have been resumed).
    ``crc32c`` is always the CRC32C of the bytes at ``path``. ``outcome`` says what this
    call did: ``"downloaded"``, ``"resumed"`` (an interrupted attempt's verified parts were
    kept) or ``"skipped"`` (the file already there is the one wanted, checked by hashing
    it; at most one conditional request was made and no body fetched).
    """

    path: Path
    size: int
    crc32c: int
    etag: str | None
    bytes_fetched: int
    elapsed: float
    not_modified: bool = False
    pinned: str | None = None
    outcome: str = "downloaded"

    @property
    def skipped(self) -> bool:
        return self.outcome == "skipped"


class _LocalStale(Exception):
    """A 304 confirmed the recorded ETag but the local file is not the recorded one."""


class _Download(ResumingEngine, WholeStreamEngine):
    """One download call: first request, resume, verification, publishing."""

    #: what the caller knows of the bytes; None: never skip an existing file
    expect: Expectation | None = None
    #: the record of the file at the destination the first request asks about
    conditional: _record.Record | None = None
    #: the whole object came in the first answer: nothing to resume, no journal
    one_request = False
    resumed = False

    @property
    def resumable(self) -> bool:
        return super().resumable and not self.one_request

    async def _inspect(self) -> DownloadResult | None:
        """Claim a file destination and skip it when it already holds the wanted bytes."""
        expect = self.expect if not self.if_none_match else None
        with self.activity.local_work():
            local: LocalState | None = await run_to_completion(
                inspect_destination, self.dest, self.claimed, expect
            )
        if local is None:
            return None
        self.target = local.target
        if local.verified is not None:
            size, crc = local.verified
            return DownloadResult(local.target.final, size, crc, None, 0, 0.0, outcome="skipped")
        if local.record is not None:
            self.conditional = local.record
            self.if_none_match = local.record.etag
        return None

    async def run(self) -> DownloadResult:
        try:
            return await self._run()
        except BaseException:
            # Only a journaled temp file is worth keeping: anything else (one stream, no
            # validator, resume off) could never be resumed and is only junk. Only a temp
            # file this call holds open is ours to delete (not one a live download holds).
            if not self.resumable and not self.activity.paused and self.fd >= 0:
                await self._discard()
            raise

    async def _run(self) -> DownloadResult:
        started = time.monotonic()
        restarts = 0
        skipped = await self._inspect()
        if skipped is not None:
            return attrs.evolve(skipped, elapsed=time.monotonic() - started)
        while True:
            try:
                result = await self._run_version()
            except _LocalStale:
                log.info("the local file is not the one recorded; downloading it again")
                self.conditional, self.if_none_match = None, None
                continue
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
                await stack.enter_async_context(self.activity.connection(self.scheduler))
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
        self.validator = None
        self.single = False
        stack, resp, first_len = await self._probe()
        async with stack:
            self.etag = resp.headers.get("ETag")
            if resp.status == 304:
                if not self.if_none_match:
                    raise TransferError("HTTP 304 answered a request that asked for no comparison")
                return await self._not_modified(resp.headers)
            if self.target is None:  # once per call: a restart keeps the name it claimed
                # (a file destination was claimed before the first request)
                self.target = await run_to_completion(
                    resolve_target,
                    self.dest,
                    resp.headers,
                    self.source.url,
                    self.suggested,
                    self.claimed,
                    jr.identity_hash(self.identity) if self.resume else None,
                )
            if resp.status == 416:
                cr = parse_content_range(resp.headers.get("Content-Range"))
                if cr is not None and cr.total == 0:
                    self._check_size(0)
                    return await self._finish_empty()
                raise TransferError(f"the server refused the first range: {cr}")
            check_encoding(resp.headers)
            if resp.status == 200:
                return await self._single_stream(resp)
            cr = parse_content_range(resp.headers.get("Content-Range"))
            if resp.status != 206 or cr is None or cr.total is None or cr.start != 0:
                raise TransferError(f"unexpected answer to the first range: HTTP {resp.status}")
            self.size = cr.total
            self._check_size(self.size)
            self.validator = validator_of(resp.headers)
            self.one_request = cr.end == self.size - 1
            if self.one_request and self.size <= self.buffer_size:
                return await self._small(stack, resp, first_len)
            if self.validator is None and self.size > first_len:
                await stack.aclose()
                return await self._unpinned()
            await self._prepare(first_len)
            self.resumed = self.progress.done > 0
            await self._ranged(stack, resp, first_len)
        return await self._complete()

    async def _small(
        self, stack: contextlib.AsyncExitStack, resp: StreamResponse, first_len: int
    ) -> DownloadResult:
        """The whole (small) object is in this answer: gather it in memory, give the
        connection back, then write, hash, verify, fsync and publish it in one worker
        hop. A broken body or a CRC mismatch falls back to the part machinery (with its
        retries), which fetches it once more."""
        assert self.target is not None
        grant = await self.scheduler.budget.acquire(self.size)
        try:
            chunks: list[bytes] = []
            received = 0
            try:
                async for chunk in resp.iter_chunks(self.buffer_size):
                    received += len(chunk)
                    if received > self.size:
                        raise BadRange(f"the server sent more than the {self.size} bytes")
                    self.fetched += len(chunk)
                    chunks.append(chunk)
                    await self.progress.advance(len(chunk))
                    await self.scheduler.throttle(len(chunk))
                if received < self.size:
                    raise APIConnectionError(
                        f"the body ended after {received} of {self.size} bytes",
                        request_sent=True,
                    )
            except (APIConnectionError, APIStatusError):
                log.debug("the first answer broke off; fetching the file again")
                self.progress.rollback(received)
                await stack.aclose()
                return await self._refetch_small(first_len)
            await stack.aclose()  # the connection serves the next request meanwhile
            self.activity.paused += 1  # publishing is never cancelled half-way
            try:
                crc, published = await run_to_completion(
                    self.target.publish_bytes,
                    chunks,
                    self.size,
                    self.expected,
                    self.config.fsync,
                    self.etag,
                )
            finally:
                self.activity.paused -= 1
        finally:
            self.scheduler.budget.release(grant)
        if not published:
            log.warning("CRC32C mismatch; fetching the damaged data again")
            self.progress.rollback(self.size)
            return await self._refetch_small(first_len)
        await self.progress.finish()
        return self._result(crc)

    async def _refetch_small(self, first_len: int) -> DownloadResult:
        """Fetch a one-request object again with the part machinery, verify it once."""
        await self._prepare(first_len)
        await self._workers(list(self.parts), 1)
        crc = self._combined()
        if self.expected is not None and crc != self.expected:
            await self._discard()
            raise ChecksumMismatchError(
                "the downloaded bytes do not match the expected checksum",
                expected=self.expected,
                actual=crc,
            )
        return await self._publish(crc)

    async def _unpinned(self) -> DownloadResult:
        """Neither an ETag nor a date pins the object: ranges could mix two versions, so
        the whole object comes in one plain request (no parallel parts, no resume)."""
        log.warning(
            "the server offers no ETag or Last-Modified: downloading in one stream, "
            "without parallel ranges or resume"
        )
        self.single = True
        self.fd = await self._create(self.size)
        self.progress.total = self.size
        await self._stream_whole(None, self.size)
        return await self._complete()

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
            and self.states[first.index].written == 0
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

        ticker = asyncio.ensure_future(self._journal_ticker()) if self.resumable else None
        try:
            await self._workers(queue, max(1, self.connections), lead=lead)
        finally:
            if ticker is not None:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)

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
        else:  # a body of unknown length (chunked): held to the size the caller expects
            size = self.expected_size
        self.fd = await self._create(size or 0)
        self.progress.total = size
        await self._stream_whole(resp, size)
        return await self._complete()

    async def _publish(self, crc: int) -> DownloadResult:
        assert self.target is not None
        await self.inflight.drain()
        self.activity.paused += 1  # from here on the file is published, whatever happens
        fd, self.fd = self.fd, -1
        etag = _record.usable_etag(self.etag)
        record = _record.Record(etag, self.size, crc) if etag else None
        await run_to_completion(self.target.publish, fd, self.config.fsync, self.size, record)
        await self.progress.finish()
        return self._result(crc)

    def _result(self, crc: int) -> DownloadResult:
        assert self.target is not None
        pinned = None if self.validator is None else self.validator.kind
        return DownloadResult(
            self.target.final,
            self.size,
            crc,
            self.etag,
            self.fetched,
            0.0,
            pinned=pinned,
            outcome="resumed" if self.resumed else "downloaded",
        )

    async def _finish_empty(self) -> DownloadResult:
        assert self.target is not None
        self.size, self.parts, self.progress.total = 0, [], 0
        self.fd = await self._create(0)
        return await self._complete()

    async def _not_modified(self, headers: Mapping[str, str]) -> DownloadResult:
        """The local copy the caller compared against, left untouched: reported as it is on
        disk (its own size and CRC32C, whatever ``expected_crc32c`` says); no such file is
        an error. In a directory ``dest`` it is the server-named file, not a numbered one.
        A 304 to the ETag recorded on the file itself (a rerun) counts only when the
        file's bytes are still those recorded and wanted."""
        if self.conditional is not None:
            assert self.target is not None and self.expect is not None
            with self.activity.local_work():
                local = await run_to_completion(
                    confirm_unchanged, self.target, self.conditional, self.expect
                )
            if local is None:
                raise _LocalStale
            size, crc = local
            return DownloadResult(
                self.target.final,
                size,
                crc,
                self.etag,
                0,
                0.0,
                not_modified=True,
                outcome="skipped",
            )
        final = named_path(self.dest, headers, self.source.url, self.suggested)
        with self.activity.local_work():
            size, crc = await run_to_completion(read_local, final)
        return DownloadResult(
            final, size, crc, self.etag, 0, 0.0, not_modified=True, outcome="skipped"
        )


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
    suggested_name: str | None = None,
    skip_unchanged: bool = True,
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
    untouched and returns ``not_modified=True`` (a 304 to a request without it is an error).
    ``suggested_name`` names the file in a directory ``dest`` instead of the server's
    header. A name not given by the caller never replaces an existing file: it gets a
    numbered alternative (``clip (1).mp4``). Bodies are asked for and accepted only
    unencoded (``Accept-Encoding: identity``). ``config`` carries the stall rule and the
    overall deadline (:class:`~pixop_async.errors.TransferStalledError`,
    :class:`~pixop_async.errors.TransferTimeoutError`).

    Reruns are cheap (``skip_unchanged``, on by default, for a file ``dest``): a file this
    engine published remembers the server's ETag, so the first request asks
    ``If-None-Match``; a 304 costs no body and, once the file's bytes are hashed and found
    to be those recorded (and ``expected_crc32c``/``expected_size``), the result has
    ``outcome == "skipped"``. A file without that record but with ``expected_crc32c`` is
    skipped without any request when its bytes have that CRC32C. Anything else is
    downloaded again.
    """
    download_args(url, dest, connections, part_size, expected_crc32c)
    config = config or (scheduler.config if scheduler is not None else TransferConfig())
    scheduler = scheduler or Scheduler(config)
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
    job.suggested = suggested_name
    if skip_unchanged:
        job.expect = Expectation(expected_crc32c, expected_size, config.verify_existing)
    try:
        return await guarded(job.run(), job.activity, config)
    except OSError as exc:
        if isinstance(exc, PixopError):
            raise
        # Network OSErrors arrive as APIConnectionError; what is left is the local disk.
        raise LocalFileError(exc, os.fspath(dest)) from exc
    finally:
        await job.close_fd()
        for target in job.claimed:
            target.release()

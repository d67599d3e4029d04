"""Parallel ranged downloads with CRC32C, resume journal and URL renewal.

The first request asks for ``bytes=0-``; its answer tells the size and the validator
(strong ETag, else ``Last-Modified``; see :mod:`._pin`), and its body feeds the first
segment. The other connections then start at once, one pinned range request each for a
run of parts, streaming into their place in a preallocated temp file beside the
destination; a connection that runs dry splits the largest remaining segment (see
:mod:`._segfetch`). With no validator the object comes in one plain stream instead. Part
CRCs are combined into the file's CRC32C, checked, and only then is the temp file fsynced
and renamed into place (checked to still be ours, see :mod:`._localfs`). Resume:
:mod:`._resume` (its first request asks for the first missing bytes, see :mod:`._probe`);
deadlines: :mod:`._deadline`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping

import attrs

from .._session import HttpSession, StreamResponse
from ..auth import Auth
from ..errors import (
    ChecksumMismatchError,
    LocalFileError,
    PixopError,
    TransferError,
)
from . import journal as jr
from ._deadline import guarded
from ._fetch import PartState, PinnedRangesRefused, SourceChanged
from ._inputs import download_args
from ._oneshot import ShortcutEngine, _LocalStale
from ._pin import check_encoding, validator_of
from ._probe import ProbingEngine
from ._rerun import Expectation
from ._result import DownloadResult
from ._resume import ResumeHint
from ._segfetch import SegmentEngine
from ._source import RefreshUrl, UrlSource
from ._target import resolve_target, run_to_completion
from ._whole import WholeStreamEngine
from .checksum import crc32c_combine_all
from .config import TransferConfig
from .plan import Part, choose_part_size
from .progress import Progress, ProgressCallback
from .ranges import parse_content_length, parse_content_range
from .scheduler import Scheduler

__all__ = ["DownloadResult", "download"]

log = logging.getLogger("pixop_async.transfer")


class _Download(ShortcutEngine, ProbingEngine, SegmentEngine, WholeStreamEngine):
    """One download call: first request, resume, verification, publishing."""

    #: the store refused pinned ranges (see :class:`PinnedRangesRefused`): one stream
    whole_only = False

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
            except PinnedRangesRefused:
                if self.whole_only:  # cannot happen in one stream; never loop on it
                    raise
                log.warning(
                    "the server answers pinned range requests with the whole object: "
                    "downloading in one stream, without parallel ranges or resume"
                )
                self.whole_only = True
                await self._discard()
                self.progress.rollback(self.progress.done)
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

    async def _run_version(self) -> DownloadResult:
        self.etag = None
        self.validator = None
        self.single = False
        hint = self._resume_hint(not (self.if_none_match or self.whole_only))
        opened = await self._open_resume(hint) if hint is not None else None
        if opened is None:
            hint = None
            opened = await self._probe()
        stack, resp = opened
        async with stack:
            self.etag = resp.headers.get("ETag")
            if hint is not None and resp.status == 206:  # the range asked for (checked)
                await self._resume_ranged(stack, resp, hint)
                return await self._complete()
            if resp.status == 304:
                if not self.if_none_match:
                    raise TransferError("HTTP 304 answered a request that asked for no comparison")
                return await self._not_modified(resp.headers)
            if self.target is None:  # once per call: a restart keeps the name it claimed
                # (a file destination was claimed before the first request)
                reused = await self._reuse(resp)
                if reused is not None:
                    return reused
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
            # An object no bigger than one part and one buffer comes whole in the first
            # answer (``bytes=0-``): one publishing hop, no journal. Anything bigger goes
            # to the segments (and is resumable part by part).
            small = min(self.buffer_size, choose_part_size(self.size, self.requested_part_size))
            self.one_request = cr.end == self.size - 1 and self.size <= small
            if self.one_request:
                return await self._small(stack, resp)
            if self.validator is None or self.whole_only:
                await stack.aclose()
                return await self._unpinned()
            await self._prepare(None)
            self.resumed = self.progress.done > 0
            await self._ranged(stack, resp, 0, cr.end if cr.end is not None else 0)
        return await self._complete()

    async def _resume_ranged(
        self, stack: contextlib.AsyncExitStack, resp: StreamResponse, hint: ResumeHint
    ) -> None:
        """Continue the journaled version; ``resp`` answers the hint's range."""
        check_encoding(resp.headers)
        self.size = hint.journal.size
        self._check_size(self.size)
        await self._prepare(None)
        self.resumed = self.progress.done > 0
        await self._ranged(stack, resp, hint.start, hint.end)

    async def _unpinned(self) -> DownloadResult:
        """Neither an ETag nor a date pins the object (ranges could mix two versions), or
        the store refuses pinned ranges: the whole object comes in one plain request (no
        parallel parts, no resume)."""
        if self.validator is None:
            log.warning(
                "the server offers no ETag or Last-Modified: downloading in one stream, "
                "without parallel ranges or resume"
            )
        self.validator = None  # nothing is journaled: a broken stream starts over
        self.single = True
        self.fd = await self._create(self.size)
        self.progress.total = self.size
        await self._stream_whole(None, self.size)
        return await self._complete()

    async def _ranged(
        self, stack: contextlib.AsyncExitStack, resp: StreamResponse, start: int, last: int
    ) -> None:
        """Fetch every missing part in segments; the first response (bytes ``start``..
        ``last``) feeds the first segment when that segment's next byte is ``start``."""
        assert self.journal is not None
        self.segments = self._plan_segments()
        first = self.segments[0] if self.segments else None
        lead = None
        if first is not None and self._next_byte(first.lo) == start:
            first.owned = True
            lead = (first, resp, start, last, stack)
        else:
            await stack.aclose()
        ticker = asyncio.ensure_future(self._journal_ticker()) if self.resumable else None
        try:
            await self._run_segments(lead)
        except BaseException:
            if self.resumable and self.fd >= 0:
                await self._save_journal()  # what is on disk now, for a later resume
            raise
        finally:
            if ticker is not None:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)

    def _next_byte(self, index: int) -> int:
        """The first byte of part ``index`` not written yet."""
        return self.parts[index].start + self.states[index].written

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

    async def _finish_empty(self) -> DownloadResult:
        assert self.target is not None
        self.size, self.parts, self.progress.total = 0, [], 0
        self.fd = await self._create(0)
        return await self._complete()


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
    ``headers`` go with every request; ``Range`` and the conditional headers are refused
    (the engine sets them: its ranges and the pins that keep them on one version).

    Cancelling the call stops it and publishes nothing, unless publishing has already
    begun: the rename is never cut half-way, so the file is then at ``dest``, whole and
    verified, although the call raises :class:`asyncio.CancelledError`.

    Reruns are cheap (``skip_unchanged``, on by default, for a file ``dest``): a file this
    engine published remembers the server's strong ETag and the object's ``identity``
    (default: the URL, so give one for URLs whose signature changes), so a download of
    that same object asks ``If-None-Match``; a 304 costs no body and, once the file's
    bytes are hashed and found to be those recorded (and ``expected_crc32c``/
    ``expected_size``), the result has
    ``outcome == "skipped"``. A file without that record but with ``expected_crc32c`` is
    skipped without any request when its bytes have that CRC32C. Anything else is
    downloaded again.
    """
    download_args(url, dest, connections, part_size, expected_crc32c, headers)
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
        job.expect = Expectation(
            expected_crc32c,
            expected_size,
            config.verify_existing,
            jr.identity_hash(identity or url),
        )
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

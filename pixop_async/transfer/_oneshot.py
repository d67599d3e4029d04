"""The short ways through a download: files that need no body or a single answer.

- **Reruns** (:mod:`._rerun`): a file destination is claimed and looked at before the first
  request; a file already holding the wanted bytes is skipped with no request, or with one
  conditional request (``If-None-Match`` with the ETag recorded on the file) answered 304.
- **Small objects**: when the first answer holds the whole object and it fits one buffer,
  the body is gathered in memory, the connection goes back to the pool at once, and the
  temp file is created, written, hashed, verified, fsynced and renamed in one worker-thread
  hop: no journal (there is nothing to resume within one request), no preallocation, and
  the durability work of one file overlaps the requests of the next ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from .._session import StreamResponse
from ..errors import APIConnectionError, APIStatusError, ChecksumMismatchError
from . import _record
from . import journal as jr
from ._fetch import BadRange
from ._rerun import (
    Expectation,
    LocalState,
    confirm_unchanged,
    inspect_destination,
    reuse_in_directory,
)
from ._result import DownloadResult
from ._resume import ResumingEngine
from ._target import named_path, publisher, read_local, run_to_completion
from .ranges import parse_content_length, parse_content_range

log = logging.getLogger("pixop_async.transfer")


class _LocalStale(Exception):
    """A 304 confirmed the recorded ETag but the local file is not the recorded one."""


class ShortcutEngine(ResumingEngine):
    """Skipping unchanged files, one-hop small files, and publishing with a record."""

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
                inspect_destination, self.dest, self.claimed, expect, self.resume
            )
        if local is None:
            return None
        self.target = local.target
        self._early_journal, self._early_read = local.journal, local.journal_read
        if local.verified is not None:
            size, crc = local.verified
            return DownloadResult(local.target.final, size, crc, None, 0, 0.0, outcome="skipped")
        if local.record is not None:
            self.conditional = local.record
            self.if_none_match = local.record.etag
        return None

    async def _reuse(self, resp: StreamResponse) -> DownloadResult | None:
        """In a directory: the copy an earlier run published of this very version (same
        ETag and size, bytes hashed), instead of a numbered new copy. Its body is left."""
        if self.expect is None or resp.status not in (200, 206):
            return None
        cr = parse_content_range(resp.headers.get("Content-Range"))
        size = (
            cr.total if cr is not None else parse_content_length(resp.headers.get("Content-Length"))
        )
        named = named_path(self.dest, resp.headers, self.source.url, self.suggested)
        with self.activity.local_work():
            found = await run_to_completion(
                reuse_in_directory, named, resp.headers.get("ETag"), size, self.expect
            )
        if found is None:
            return None
        path, size, crc = found
        return DownloadResult(path, size, crc, self.etag, 0, 0.0, outcome="skipped")

    async def _small(
        self, stack: contextlib.AsyncExitStack, resp: StreamResponse
    ) -> DownloadResult:
        """The whole (small) object is in this answer: gather it in memory, give the
        connection back, then write, hash, verify, fsync and publish it in one worker
        hop. A broken body or a CRC mismatch falls back to the part machinery (with its
        retries), which fetches it once more."""
        assert self.target is not None
        budget = self.scheduler.budget
        grant = await budget.acquire(self.size)
        loop = asyncio.get_running_loop()

        def give_back() -> None:  # once: after the write (from the thread) or at the end
            nonlocal grant
            budget.release(grant)
            grant = 0

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
                give_back()
                return await self._refetch_small()
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
                    self._source,
                    lambda: loop.call_soon_threadsafe(give_back),
                    executor=publisher(),
                )
            finally:
                self.activity.paused -= 1
        finally:
            if grant:
                give_back()
        if not published:
            log.warning("CRC32C mismatch; fetching the damaged data again")
            self.progress.rollback(self.size)
            return await self._refetch_small()
        await self.progress.finish()
        return self._result(crc)

    async def _refetch_small(self) -> DownloadResult:
        """Fetch a one-request object again with the part machinery, verify it once."""
        await self._prepare(None)
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

    async def _publish(self, crc: int) -> DownloadResult:
        assert self.target is not None
        await self.inflight.drain()
        self.activity.paused += 1  # from here on the file is published, whatever happens
        fd, self.fd = self.fd, -1
        etag = _record.usable_etag(self.etag)
        record = _record.Record(etag, self.size, crc, self._source) if etag else None
        await run_to_completion(
            self.target.publish, fd, self.config.fsync, self.size, record, executor=publisher()
        )
        await self.progress.finish()
        return self._result(crc)

    @property
    def _source(self) -> str:
        """The identity hash a published file's record names its object by."""
        return jr.identity_hash(self.identity)

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

    async def _not_modified(self, headers: Mapping[str, str]) -> DownloadResult:
        """The local copy the caller compared against, left untouched: reported as it is on
        disk (its own size and CRC32C, whatever ``expected_crc32c`` says); no such file is
        an error. In a directory ``dest`` it is the server-named file, not a numbered one.
        A 304 to the ETag recorded on the file itself (a rerun) counts only when the
        file's bytes are still those recorded and wanted, and when the 304 shows that
        very ETag (RFC 9110 makes a 304 carry the ETag a 200 would): a 304 naming another
        version, or none, cannot vouch for the recorded one."""
        if self.conditional is not None:
            assert self.target is not None and self.expect is not None
            if headers.get("ETag") != self.conditional.etag:
                log.warning("HTTP 304 for another ETag than the one asked about; downloading")
                raise _LocalStale
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

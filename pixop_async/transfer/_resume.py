"""Resuming a download: the journal proposes, the temp file on disk decides.

The journal written by an earlier attempt is used only when it describes this object
version and this part layout, and every CRC32C it lists is recomputed from the temp file
(off the event loop, in pieces of at least 1 MiB) before a part counts as done. This is
cheaper than an ``fsync`` before each journal write (a cost paid on every download, on
the hot path) and stronger: it also catches a journal that lies. A part whose bytes
differ is fetched again, so the file's CRC32C is always that of the bytes on disk.

When the destination is known before the first request (a file path), the journal is read
first (:meth:`ResumingEngine._resume_hint`): it knows the size, the validator and the parts
claimed done, so the first request asks only for the first missing segment, pinned to the
journaled version, instead of ``bytes=0-`` (whose answer would be closed unread).
"""

from __future__ import annotations

import logging

import attrs

from . import journal as jr
from ._engine import MAX_SIZE, PartEngine
from ._fetch import PartState
from ._pin import Validator, validator_from_key
from ._target import open_in_thread, run_to_completion
from .checksum import crc32c_regions
from .plan import choose_part_size, plan_parts
from .segments import first_request_span

log = logging.getLogger("pixop_async.transfer")


@attrs.frozen
class ResumeHint:
    """What a journal read before the first request proposes: the object version it pins
    and the bytes ``start``..``end`` the first request asks for."""

    journal: jr.Journal
    validator: Validator
    start: int
    end: int


def resume_hint(
    journal: jr.Journal, identity: str, requested_part_size: int | None, connections: int
) -> ResumeHint | None:
    """The first request a resume of ``journal`` makes, or None when the journal could
    not be reused anyway (another object, layout or validator, nothing done, out of
    bounds) and the download starts with ``bytes=0-`` as usual. Pure; nothing here is
    trusted beyond shaping one pinned request: the answer and the temp file decide."""
    validator = validator_from_key(journal.etag)
    size = journal.size
    if journal.identity != identity or validator is None or not 0 < size <= MAX_SIZE:
        return None
    if not (journal.done or journal.partial) or journal.first_len is not None:
        return None
    part_size = choose_part_size(size, requested_part_size)
    if journal.part_size != part_size:
        return None
    parts = plan_parts(size, part_size)
    if journal.problem(len(parts), [p.length for p in parts]) is not None:
        return None
    written = {
        p.index: journal.partial.get(p.index, (0, 0))[0]
        for p in parts
        if p.index not in journal.done
    }
    start, end = first_request_span([(p.start, p.end) for p in parts], written, connections)
    return ResumeHint(journal, validator, start, end)


class ResumingEngine(PartEngine):
    """Opens the temp file and journal of a ranged download, reusing what is proven."""

    #: the journal of a file destination, read with it before any request; used once
    _early_journal: jr.Journal | None = None
    _early_read = False
    #: the journal read before the first request, for :meth:`_prepare` (None: none there)
    _preloaded: jr.Journal | None = None
    _preload_valid = False

    def _resume_hint(self, usable: bool) -> ResumeHint | None:
        """What the journal read with the destination proposes, when ``usable`` (once: a
        restart starts from ``bytes=0-`` and reads the journal again)."""
        journal, read = self._early_journal, self._early_read
        self._early_journal, self._early_read = None, False
        self._preloaded, self._preload_valid = journal, read
        if not usable or journal is None or self.target is None or not self.resume:
            return None
        identity = jr.identity_hash(self.identity)
        return resume_hint(journal, identity, self.requested_part_size, max(1, self.connections))

    async def _prepare(self, first_len: int | None) -> None:
        """Open the temp file and the journal, reusing a matching previous attempt."""
        assert self.target is not None
        target = self.target
        # Journal reads and writes finish before a cancellation reaches the caller: no
        # thread is left holding the journal open once the CancelledError arrives.
        identity = jr.identity_hash(self.identity)
        key = self.validator.key if self.validator is not None else None
        part_size = choose_part_size(self.size, self.requested_part_size)
        self.parts = plan_parts(self.size, part_size, first_len)
        previous, known = self._preloaded, self._preload_valid
        self._preloaded, self._preload_valid = None, False
        if not self.resumable:
            previous = None
        elif not known:
            previous = await run_to_completion(target.load_journal)
        fresh = True
        if previous is not None and previous.matches(identity, self.size, key):
            problem = (
                "it was made with another part size"
                if (previous.part_size, previous.first_len) != (part_size, first_len)
                else previous.problem(len(self.parts), [p.length for p in self.parts])
            )
            if problem is not None:
                log.warning("discarding the resume journal: %s", problem)
            else:
                fd = await open_in_thread(target.open_existing, self.size)
                if fd is not None:
                    self.fd, fresh = fd, False
                    self.journal = previous
        if fresh:
            self.journal = jr.Journal(identity, self.size, key, part_size, first_len)
            self.fd = await self._create(self.size)
            if self.resumable:
                await run_to_completion(target.save_journal, jr.encode(self.journal))
        assert self.journal is not None
        self.states = {}
        if not fresh:
            await self._states_from_disk(self.journal)
        for part in self.parts:
            self.states.setdefault(part.index, PartState())
        self.progress.total = self.size
        self.progress.done = sum(state.written for state in self.states.values())

    async def _states_from_disk(self, journal: jr.Journal) -> None:
        """Believe the journal only where the temp file agrees: every CRC it lists is
        recomputed from the disk, off the event loop; a part whose bytes differ (never
        reached the disk, or a lying journal) is fetched again."""
        claims = [
            (part, journal.done.get(part.index))
            for part in self.parts
            if part.index in journal.done or part.index in journal.partial
        ]
        regions = [
            (p.start, p.length if crc is not None else journal.partial[p.index][0])
            for p, crc in claims
        ]
        with self.activity.local_work():
            actual = await run_to_completion(crc32c_regions, self.fd, regions)
        kept = 0
        for (part, crc), (_, length), found in zip(claims, regions, actual, strict=True):
            wanted = crc if crc is not None else journal.partial[part.index][1]
            if found != wanted:
                journal.done.pop(part.index, None)
                continue
            self.states[part.index] = PartState(written=length, crc=found)
            kept += 1
        if kept < len(claims):
            log.warning(
                "resume journal: %d part(s) are not on disk as recorded; fetching them again",
                len(claims) - kept,
            )
        log.info("resuming: %d of %d parts already here", len(journal.done), len(self.parts))

"""Resuming a download: the journal proposes, the temp file on disk decides.

The journal written by an earlier attempt is used only when it describes this object
version and this part layout, and every CRC32C it lists is recomputed from the temp file
(off the event loop, in pieces of at least 1 MiB) before a part counts as done. This is
cheaper than an ``fsync`` before each journal write (a cost paid on every download, on
the hot path) and stronger: it also catches a journal that lies. A part whose bytes
differ is fetched again, so the file's CRC32C is always that of the bytes on disk.
"""

from __future__ import annotations

import logging

from . import journal as jr
from ._engine import PartEngine
from ._fetch import PartState
from ._target import open_in_thread, run_to_completion
from .checksum import crc32c_regions
from .plan import choose_part_size, plan_parts

log = logging.getLogger("pixop_async.transfer")


class ResumingEngine(PartEngine):
    """Opens the temp file and journal of a ranged download, reusing what is proven."""

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
        previous = await run_to_completion(target.load_journal) if self.resumable else None
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

"""Fetching a ranged download as long segments, one request per segment.

Every connection streams one run of consecutive parts (:mod:`.segments`) with a single
range request, pinned like any other (``If-Range``/``If-Match``, the validator checked on
every answer). Bytes go through one :class:`~._fetch.PieceWriter` per stream, which moves
from part to part without waiting, so a part boundary costs no pause. A part counts as
done when its last piece is on disk; the journal ticker saves what is done and in flight.
A connection that runs dry takes the second half of the largest remaining segment; the
connection it was taken from stops at the new end (closing its response early).
A broken stream is retried from the first byte not yet written, within the retry policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from .._session import StreamResponse
from ..errors import APIConnectionError, APIStatusError
from ._engine import PartEngine, first_failure_cancels
from ._fetch import BadRange, PartState, PieceWriter, UrlExpired
from .checksum import release_written
from .plan import Part
from .segments import Segment, plan_segments, split_largest

log = logging.getLogger("pixop_async.transfer")

#: Finished parts trigger a journal save at most this often (seconds); the ticker also
#: saves in-flight progress every ``journal_interval``.
JOURNAL_GAP = 0.1

#: The first request's segment, its open response, the first and last bytes it covers,
#: and its stack.
Lead = tuple[Segment, StreamResponse, int, int, contextlib.AsyncExitStack]


class SegmentEngine(PartEngine):
    """Long segments per connection, split when a connection frees up."""

    segments: list[Segment]
    #: the part each PartState belongs to (by identity), for :meth:`_part_written`
    _part_of: dict[int, Part]
    _saving: asyncio.Future[None] | None = None
    _saved_at = 0.0

    def _plan_segments(self) -> list[Segment]:
        """Segments over the parts that are not done yet."""
        assert self.journal is not None
        done = self.journal.done
        missing = [
            (p.index, self.states[p.index].written) for p in self.parts if p.index not in done
        ]
        return plan_segments(missing, max(1, self.connections))

    def _take_segment(self) -> Segment | None:
        """An unclaimed segment, else the second half of the largest one in progress."""
        for segment in self.segments:
            if not segment.owned and segment.remaining:
                segment.owned = True
                return segment
        tail = split_largest(self.segments)
        if tail is not None:
            tail.owned = True
            self.segments.append(tail)
            log.debug("split: parts %d-%d move to a free connection", tail.lo, tail.stop - 1)
        return tail

    def _part_written(self, state: PartState) -> None:
        """Called as each piece lands: a part whose last piece landed is done."""
        part = self._part_of.get(id(state))
        if part is None or state.written != part.length:
            return
        if self.journal is not None:
            self.journal.done[part.index] = state.crc
            self._journal_soon()
        if self.fd >= 0:
            loop = asyncio.get_running_loop()
            self.inflight.add(
                loop.run_in_executor(
                    self.scheduler.executor, release_written, self.fd, part.start, part.length
                )
            )

    def _journal_soon(self) -> None:
        """Save the journal now unless a save is under way or one was made very recently,
        so a killed process loses at most about ``JOURNAL_GAP`` seconds of finished parts."""
        now = time.monotonic()
        if not self.resumable or now - self._saved_at < JOURNAL_GAP:
            return
        if self._saving is not None and not self._saving.done():
            return
        self._saved_at = now
        self._saving = asyncio.ensure_future(self._save_journal())

    async def _run_segments(self, lead: Lead | None = None) -> None:
        """Fetch every segment with up to ``connections`` workers; ``lead`` is a segment
        whose response is already open (the first request), the first and last bytes it
        covers, and the stack holding that response and its connection slot (closed once
        it is read).

        The first failure cancels the other workers and is raised.
        """
        self._part_of = {id(self.states[p.index]): p for p in self.parts}

        async def worker(first: Lead | None) -> None:
            if first is not None:
                segment, resp, start, last, stack = first
                try:
                    await self._stream_segment(resp, segment, start, last)
                except (APIConnectionError, APIStatusError) as exc:
                    log.debug("the first response broke off: %s", exc)
                finally:
                    await stack.aclose()
                await self._fetch_segment(segment)  # whatever the first response left
            while (more := self._take_segment()) is not None:
                await self._fetch_segment(more)

        tasks = [
            asyncio.ensure_future(worker(lead if i == 0 else None))
            for i in range(max(1, min(self.connections, len(self.parts))))
        ]
        try:
            await first_failure_cancels(tasks)
        finally:
            if self._saving is not None:  # no save may land after this download ends
                await asyncio.gather(self._saving, return_exceptions=True)

    async def _fetch_segment(self, segment: Segment) -> None:
        """Fetch the rest of ``segment`` in one request, retrying from where a stream broke."""
        attempt, waited = 0, 0.0
        while segment.lo < segment.stop:
            part = self.parts[segment.lo]
            mark = (segment.lo, self.states[part.index].written)
            try:
                async with self.activity.connection(self.scheduler):
                    url, generation = await self.source.get()
                    if segment.lo >= segment.stop:
                        break
                    part = self.parts[segment.lo]
                    start = part.start + self.states[part.index].written
                    end = self.parts[segment.stop - 1].end
                    headers = self._request_headers(start, end)
                    async with self.http.stream(
                        "GET", url, headers=headers, auth=self.auth
                    ) as resp:
                        await self._check_range_answer(resp, generation, start, end)
                        await self._stream_segment(resp, segment, start, end)
            except UrlExpired as exc:
                await self.source.renew(exc.generation)
            except (APIConnectionError, APIStatusError) as exc:
                if segment.lo < segment.stop:
                    now = (segment.lo, self.states[self.parts[segment.lo].index].written)
                    if now > mark:
                        attempt, waited = 0, 0.0  # progress was made: a fresh budget
                attempt += 1
                waited += await self._retry_or_raise(exc, attempt, waited)

    async def _stream_segment(
        self, resp: StreamResponse, segment: Segment, start: int, last: int
    ) -> None:
        """Write the body of ``resp`` (bytes ``start``..``last``) into the segment's parts,
        stopping early when a split has moved the segment's end."""
        parts = self.parts
        part: Part = parts[segment.lo]
        state = self.states[part.index]
        writer = PieceWriter(
            self.fd,
            part.start,
            state,
            buffer_size=self.buffer_size,
            scheduler=self.scheduler,
            inflight=self.inflight,
            on_written=self._part_written,
        )
        expected = last - start + 1
        position, received, stopped = start, 0, False
        async with writer:
            async for chunk in resp.iter_chunks(self.buffer_size):
                size = len(chunk)
                received += size
                if received > expected:
                    raise BadRange(f"the server sent more than the {expected} bytes asked for")
                used = 0
                while used < size:
                    room = part.end + 1 - position
                    piece = chunk if used == 0 and size <= room else chunk[used : used + room]
                    await writer.feed(piece)
                    used += len(piece)
                    position += len(piece)
                    if position > part.end:  # this part is complete: on to the next one
                        segment.lo += 1
                        if segment.lo >= segment.stop:
                            stopped = True
                            break
                        part = parts[segment.lo]
                        await writer.retarget(part.start, self.states[part.index])
                self.fetched += used
                await self.progress.advance(used)
                if self.scheduler.bandwidth is not None:
                    await self.scheduler.throttle(used)
                if stopped:
                    break
        if not stopped and received < expected:
            raise APIConnectionError(
                f"the body ended after {received} of {expected} bytes", request_sent=True
            )

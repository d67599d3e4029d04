"""Streaming one HTTP response body into a file region, hashing it on the way.

Received chunks are gathered into pieces of ``buffer_size`` bytes and each piece's chunks
are hashed and written with one ``os.pwritev`` in a single worker-thread hop (see
:func:`~.checksum.hash_and_pwritev`). One hop per stream is in flight while the next piece
fills, so network, hashing and disk overlap and the event loop only copies pointers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

import attrs

from .._session import StreamResponse
from ..errors import APIConnectionError, TransferError
from .checksum import hash_and_pwritev
from .progress import Progress
from .scheduler import Scheduler


@attrs.define
class PartState:
    """What is on disk for one byte range: ``written`` bytes from its start, their CRC32C."""

    written: int = 0
    crc: int = 0
    fetched: int = 0  # body bytes received for this range, across attempts


class SourceChanged(TransferError):
    """The object changed (another validator, or the server stopped honouring the pin)."""


class PinnedRangesRefused(SourceChanged):
    """A pinned range request was answered with the whole object (200) of the very version
    pinned: the store will not serve ranges under ``If-Range`` (some refuse a date that is
    not a strong validator); the object is then fetched in one stream."""


class UrlExpired(TransferError):
    """The URL was refused (403) and can be renewed; ``generation`` is the URL version used."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        super().__init__("the download URL was refused")


class BadRange(TransferError):
    """The server answered a range request with a different range."""


class Inflight:
    """Executor futures still touching a file descriptor; drained before it is closed."""

    def __init__(self) -> None:
        self.futures: set[asyncio.Future[Any]] = set()

    def add(self, future: asyncio.Future[Any]) -> None:
        self.futures.add(future)
        future.add_done_callback(self._settled)

    def _settled(self, future: asyncio.Future[Any]) -> None:
        self.futures.discard(future)
        if not future.cancelled():
            future.exception()  # seen: whoever awaited it (if anyone still does) raises it

    async def drain(self) -> None:
        while self.futures:
            await asyncio.wait(list(self.futures))


class PieceWriter:
    """Hash-and-write pipeline appending to the region described by ``state``.

    ``state.written`` and ``state.crc`` advance together, on the event loop, only after a
    piece's write has completed, so a snapshot of them (the journal) always describes bytes
    that are really in the file; ``on_written(state)`` is then called. :meth:`retarget`
    moves the writer to another region without waiting for the last piece of the old one.

    Used as ``async with writer:`` around the reading of a body: at the end everything
    received is written (:meth:`flush`), also when the stream broke off
    (:class:`~pixop_async.errors.APIConnectionError`, so a retry resumes after those
    bytes); on any other exception (a cancellation, a bad answer, a failed write) the
    write in flight is left to finish on its own (:meth:`abandon`) and nothing more is.
    """

    def __init__(
        self,
        fd: int,
        base: int,
        state: PartState,
        *,
        buffer_size: int,
        scheduler: Scheduler,
        inflight: Inflight,
        on_written: Callable[[PartState], None] | None = None,
    ) -> None:
        self._fd = fd
        self._base = base
        self._state = state
        self._buffer_size = buffer_size
        self._scheduler = scheduler
        self._inflight = inflight
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._pending: asyncio.Future[int] | None = None
        self._pending_len = 0
        self._pending_state = state
        self._grant = 0
        self._on_written = on_written

    async def feed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= self._buffer_size:
            await self._submit()

    async def _submit(self) -> None:
        chunks, size = self._chunks, self._buffered
        self._chunks = []
        self._buffered = 0
        await self._wait()
        self._grant = await self._scheduler.budget.acquire(size)
        state = self._state
        future = asyncio.get_running_loop().run_in_executor(
            self._scheduler.executor,
            hash_and_pwritev,
            self._fd,
            chunks,
            self._base + state.written,
            state.crc,
        )
        self._inflight.add(future)
        self._pending = future
        self._pending_len = size
        self._pending_state = state

    async def retarget(self, base: int, state: PartState) -> None:
        """Send what was gathered for the current region, then append to ``state`` at ``base``."""
        if self._chunks:
            await self._submit()
        self._base, self._state = base, state

    async def _wait(self) -> None:
        future = self._pending
        if future is None:
            return
        try:
            # Shielded: a cancelled transfer must not close the file under a running write.
            crc = await asyncio.shield(future)
            state = self._pending_state
            state.crc = crc
            state.written += self._pending_len
            if self._on_written is not None:
                self._on_written(state)
        finally:
            self._pending = None
            self._scheduler.budget.release(self._grant)
            self._grant = 0

    def abandon(self) -> None:
        """Give the budget back once a write nobody waits for anymore has finished."""
        future, grant = self._pending, self._grant
        if future is None:
            return
        self._pending, self._grant = None, 0
        budget = self._scheduler.budget
        future.add_done_callback(lambda _f: budget.release(grant))

    async def flush(self) -> None:
        """Write everything received so far."""
        if self._chunks:
            await self._submit()
        await self._wait()

    async def __aenter__(self) -> PieceWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, APIConnectionError):
            await self.flush()
        else:
            self.abandon()


async def consume(
    response: StreamResponse,
    *,
    fd: int,
    base: int,
    state: PartState,
    expected: int | None,
    scheduler: Scheduler,
    progress: Progress,
    inflight: Inflight,
    buffer_size: int,
) -> None:
    """Stream ``response``'s body into the file after the ``state.written`` bytes at ``base``.

    ``expected`` is how many body bytes must arrive (None: until the body ends). Whatever
    arrived before a broken stream is still written, so the retry resumes after it.
    """
    writer = PieceWriter(
        fd, base, state, buffer_size=buffer_size, scheduler=scheduler, inflight=inflight
    )
    received = 0
    async with writer:
        async for chunk in response.iter_chunks(buffer_size):
            received += len(chunk)
            if expected is not None and received > expected:
                raise BadRange(f"the server sent more than the {expected} bytes asked for")
            state.fetched += len(chunk)
            await writer.feed(chunk)
            await progress.advance(len(chunk))
            await scheduler.throttle(len(chunk))
    if expected is not None and received < expected:
        raise APIConnectionError(
            f"the body ended after {received} of {expected} bytes", request_sent=True
        )

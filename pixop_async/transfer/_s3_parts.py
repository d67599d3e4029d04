"""Reading and hashing parts of the source file for S3 uploads (worker-thread side).

A part's CRC32C must be in the request headers before its body. :class:`HashAhead` hashes the
parts in upload order in one worker thread (1 MiB reads that google-crc32c hashes without
the GIL), up to a few parts ahead of the senders, so a connection that finishes a part
starts the next one at once instead of waiting for a hash pass; it keeps only CRCs, no
bytes. Each part is then streamed in ``piece``-sized reads, hashing again what is sent: if
the two CRCs differ, the file changed under the upload and the part is refused instead of
being stored with a checksum that describes other bytes. A piece the page cache holds (the
hash pass has just read it) is read on the event loop with ``RWF_NOWAIT``, which never
blocks; only a piece that would wait for the disk costs a worker-thread hop. Memory per part
in flight is one piece (and the transport's copy of what the socket has not taken yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor

from ..errors import TransferError
from .checksum import crc32c
from .progress import Progress
from .s3_plan import PartSpec
from .scheduler import Scheduler

HASH_READ = 1024 * 1024
#: Largest read of a part being sent. The event loop's transport copies whatever a send
#: leaves unsent, so each connection holds up to two pieces: 8 connections x 2 x 256 KiB
#: is 4 MiB, where 1 MiB pieces cost 16 MiB of RSS for no measurable speed.
PIECE_MAX = 256 * 1024


class SourceChangedError(TransferError):
    """The source file changed while it was being uploaded; the upload was refused."""


def hash_range(fd: int, offset: int, length: int, stop: threading.Event) -> int:
    """CRC32C of ``length`` bytes at ``offset`` of ``fd`` (blocking; stops when ``stop`` is set)."""
    crc, done = 0, 0
    while done < length:
        if stop.is_set():
            raise asyncio.CancelledError
        data = os.pread(fd, min(HASH_READ, length - done), offset + done)
        if not data:
            raise SourceChangedError("the source file shrank while it was being uploaded")
        crc = crc32c(data, crc)
        done += len(data)
    return crc


async def hash_part(executor: Executor, fd: int, spec: PartSpec) -> int:
    """:func:`hash_range` of a part in ``executor``; cancelling stops the thread's loop."""
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(executor, hash_range, fd, spec.offset, spec.length, stop)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        # the thread stops within one read: wait for it, so the caller may close the fd
        with contextlib.suppress(BaseException):
            await asyncio.wait([future])
        if future.done() and not future.cancelled():
            future.exception()  # retrieved: no "exception was never retrieved" noise
        raise


class HashAhead:
    """CRC32Cs of the parts to send, computed in order ahead of the senders.

    The hashing runs in its own thread, in parallel with the reads of the pieces being sent.
    At most ``ahead`` hashed parts wait for a sender, so the hashing never runs far ahead
    of the network (the bytes it read are then still in the page cache for the send).
    :meth:`crc` of a part it was not given (a retry) hashes that part on the spot.
    """

    def __init__(self, fd: int, specs: Iterable[PartSpec], ahead: int):
        # a thread of its own: the shared I/O pool's thread reads the pieces being sent, and
        # a whole-part hash queued before them would hold every connection back
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="pixop-s3-hash")
        self._fd = fd
        loop = asyncio.get_running_loop()
        self._queue = [(spec, loop.create_future()) for spec in specs]
        #: the futures no sender has taken yet
        self._crcs: dict[int, asyncio.Future[int]] = {s.number: f for s, f in self._queue}
        self._room = asyncio.Semaphore(max(1, ahead))
        self._task: asyncio.Task[None] = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        for index, (spec, future) in enumerate(self._queue):
            await self._room.acquire()
            try:
                crc = await hash_part(self._executor, self._fd, spec)
            except Exception as exc:
                for _, later in self._queue[index:]:
                    if not later.done():
                        later.set_exception(exc)
                return
            if not future.done():
                future.set_result(crc)

    async def crc(self, spec: PartSpec) -> int:
        """The CRC32C of ``spec``'s bytes (each part's precomputed value is handed out once)."""
        future = self._crcs.pop(spec.number, None)
        if future is None:
            return await hash_part(self._executor, self._fd, spec)
        try:
            return await future
        finally:
            self._room.release()

    async def close(self) -> None:
        """Stop hashing; no thread keeps reading the file after this returns."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        for _, future in self._queue:
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: no "never retrieved" warning
            future.cancel()
        self._crcs.clear()
        self._queue.clear()
        self._executor.shutdown(wait=False)  # idle now: its thread exits at once


def _read_piece(fd: int, offset: int, length: int, crc: int) -> tuple[bytes, int]:
    """``length`` bytes at ``offset`` and their CRC32C continued from ``crc``. A short read
    (FUSE, network file systems) is continued; fewer bytes come back only at end of file."""
    data = os.pread(fd, length, offset)
    if 0 < len(data) < length:
        chunks = [data]
        got = len(data)
        while got < length:
            more = os.pread(fd, length - got, offset + got)
            if not more:
                break
            chunks.append(more)
            got += len(more)
        data = b"".join(chunks)
    return data, crc32c(data, crc)


_RWF_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)


class PageCacheReads:
    """Whether non-blocking page-cache reads still work for one upload's source file.

    Per upload, not per process: a file system without ``RWF_NOWAIT`` (tmpfs, some FUSE
    and network file systems) must not turn the fast path off for every later file."""

    __slots__ = ("usable",)

    def __init__(self) -> None:
        self.usable = _RWF_NOWAIT is not None


def _cached_piece(fd: int, offset: int, length: int, reads: PageCacheReads) -> bytes | None:
    """The piece when the page cache holds all of it (read without blocking, on the event
    loop: no thread hop), else ``None`` (the caller reads it in a worker thread)."""
    if not reads.usable or _RWF_NOWAIT is None:
        return None
    buf = bytearray(length)
    try:
        got = os.preadv(fd, [buf], offset, _RWF_NOWAIT)
    except BlockingIOError:
        return None
    except OSError:  # EOPNOTSUPP, EINVAL: this file's file system cannot: stop trying
        reads.usable = False
        return None
    # bytes for google-crc32c (it takes read-only buffers only)
    return bytes(buf) if got == length else None


class PartBody:
    """The body of one UploadPart attempt: an async iterable of the part's bytes.

    botocore checks that a streaming body has ``read``; aiohttp sends it by iterating.
    ``sent`` counts bytes handed to the connection (rolled back from progress on retry)
    and ``crc`` is the CRC32C of exactly those bytes.
    """

    def __init__(
        self,
        fd: int,
        spec: PartSpec,
        *,
        piece: int,
        scheduler: Scheduler,
        progress: Progress,
        reads: PageCacheReads | None = None,
    ) -> None:
        self._fd = fd
        self._reads = reads if reads is not None else PageCacheReads()
        self._spec = spec
        self._piece = piece
        self._scheduler = scheduler
        self._progress = progress
        self.sent = 0
        self.crc = 0
        #: set when a read found the file shorter than planned: the HTTP stack wraps what
        #: the body raises into a connection error, so the sender looks here, not at that
        self.source_error: SourceChangedError | None = None

    def __len__(self) -> int:
        return self._spec.length

    def read(self, _amount: int = -1) -> bytes:
        raise TypeError("PartBody is streamed asynchronously; iterate it instead")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        spec = self._spec
        while self.sent < spec.length:
            length = min(self._piece, spec.length - self.sent)
            cached = _cached_piece(self._fd, spec.offset + self.sent, length, self._reads)
            if cached is not None:
                data, crc = cached, crc32c(cached, self.crc)
            else:
                data, crc = await loop.run_in_executor(
                    self._scheduler.executor,
                    _read_piece,
                    self._fd,
                    spec.offset + self.sent,
                    length,
                    self.crc,
                )
            if len(data) != length:
                self.source_error = SourceChangedError(
                    "the source file shrank while it was being uploaded"
                )
                raise self.source_error
            await self._scheduler.throttle(length)
            self.crc = crc
            self.sent += length
            yield data
            await self._progress.advance(length)

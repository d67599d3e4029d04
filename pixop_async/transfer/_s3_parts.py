"""Reading and hashing parts of the source file for S3 uploads (worker-thread side).

A part's CRC32C must be in the request headers before its body, so each attempt first hashes
the part (one worker-thread hop, 1 MiB reads that google-crc32c hashes without the GIL),
then streams it in ``piece``-sized reads, hashing again what it sends: if the two CRCs
differ, the file changed under the upload and the part is refused instead of being stored
with a checksum that describes other bytes. Memory per part in flight is one piece.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Executor

from ..errors import TransferError
from .checksum import crc32c
from .progress import Progress
from .s3_plan import PartSpec
from .scheduler import Scheduler

HASH_READ = 1024 * 1024


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
        raise


def _read_piece(fd: int, offset: int, length: int, crc: int) -> tuple[bytes, int]:
    data = os.pread(fd, length, offset)
    return data, crc32c(data, crc)


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
    ) -> None:
        self._fd = fd
        self._spec = spec
        self._piece = piece
        self._scheduler = scheduler
        self._progress = progress
        self.sent = 0
        self.crc = 0

    def __len__(self) -> int:
        return self._spec.length

    def read(self, _amount: int = -1) -> bytes:
        raise TypeError("PartBody is streamed asynchronously; iterate it instead")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        spec = self._spec
        while self.sent < spec.length:
            length = min(self._piece, spec.length - self.sent)
            data, crc = await loop.run_in_executor(
                self._scheduler.executor,
                _read_piece,
                self._fd,
                spec.offset + self.sent,
                length,
                self.crc,
            )
            if len(data) != length:
                raise SourceChangedError("the source file shrank while it was being uploaded")
            await self._scheduler.throttle(length)
            self.crc = crc
            self.sent += length
            yield data
            await self._progress.advance(length)

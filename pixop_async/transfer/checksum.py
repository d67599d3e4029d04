"""CRC32C: the only module that imports google_crc32c.

google-crc32c releases the GIL only for ``bytes`` objects of at least 1 MiB, so whole files
are hashed in worker threads in pieces of 8 MiB; received download chunks are hashed in the
worker thread that writes them (see :func:`hash_and_pwritev`). ``crc32c_combine``
joins the CRCs of adjacent byte ranges without touching the bytes again (zlib's GF(2)
polynomial method, with the Castagnoli polynomial), which is what lets a parallel download
verify the whole file with no second pass.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading

import google_crc32c

#: Reflected Castagnoli polynomial.
_POLY = 0x82F63B78
#: Read size of :func:`crc32c_file`.
FILE_CHUNK = 8 * 1024 * 1024


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC32C of ``data``, continuing from ``crc`` (the CRC of the bytes before it)."""
    return int(google_crc32c.extend(crc, data))


def _multmodp(a: int, b: int) -> int:
    """Multiply two polynomials modulo the CRC polynomial (bit-reflected representation)."""
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


def _x2n_table() -> list[int]:
    table = []
    p = 1 << 30  # x^1
    table.append(p)
    for _ in range(1, 32):
        p = _multmodp(p, p)
        table.append(p)
    return table


_X2N = _x2n_table()


@functools.lru_cache(maxsize=256)
def _x8nmodp(length: int) -> int:
    """x^(8 * length) mod the polynomial: the operator shifting a CRC past ``length`` bytes."""
    p = 1 << 31  # x^0
    k = 3
    n = length
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32c_combine(crc_a: int, crc_b: int, len_b: int) -> int:
    """CRC32C of ``A + B`` from ``crc(A)``, ``crc(B)`` and ``len(B)``; O(log len_b)."""
    if len_b < 0:
        raise ValueError("len_b must be >= 0")
    if len_b == 0:
        return crc_a
    return _multmodp(_x8nmodp(len_b), crc_a) ^ crc_b


def crc32c_combine_all(parts: list[tuple[int, int]]) -> int:
    """CRC32C of consecutive ranges given as ``(crc, length)`` pairs, in order."""
    total = 0
    for crc, length in parts:
        total = crc32c_combine(total, crc, length)
    return total


def hash_and_pwritev(fd: int, chunks: list[bytes], offset: int, crc: int) -> int:
    """Extend ``crc`` with ``chunks`` and write them from ``offset`` of ``fd``; runs in a thread.

    One worker-thread hop does both jobs for a whole piece, and the received chunks are
    written with one ``pwritev`` instead of being joined first (no extra copy, less memory).
    Chunks of a network read are a few hundred KiB, hashed in some tens of microseconds
    each, so holding the GIL for them does not hold the event loop up noticeably.
    """
    for chunk in chunks:
        crc = int(google_crc32c.extend(crc, chunk))
    total = sum(len(c) for c in chunks)
    written = os.pwritev(fd, chunks, offset) if _HAS_PWRITEV and len(chunks) > 1 else 0
    if written < total:
        view = memoryview(b"".join(chunks) if len(chunks) > 1 else chunks[0])[written:]
        offset += written
        while view:
            done = os.pwrite(fd, view, offset)
            view = view[done:]
            offset += done
    return crc


_HAS_PWRITEV = hasattr(os, "pwritev")


def release_written(fd: int, offset: int, length: int) -> None:
    """Start writing a finished range back to disk and drop it from the page cache.

    Done as parts complete, so the final ``fsync`` has little left to wait for and a large
    download does not crowd the page cache (Linux starts the writeback asynchronously).
    """
    if hasattr(os, "posix_fadvise") and length > 0:
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def crc32c_regions(fd: int, regions: list[tuple[int, int]]) -> list[int]:
    """CRC32C of each ``(offset, length)`` region of ``fd`` as it is on disk (blocking).

    Reads in ``FILE_CHUNK`` pieces (>= 1 MiB, so google-crc32c hashes them without the GIL);
    a region cut short by the end of the file gets the CRC of what is there.
    """
    results = []
    for offset, length in regions:
        crc, end = 0, offset + length
        while offset < end:
            data = os.pread(fd, min(FILE_CHUNK, end - offset), offset)
            if not data:
                break
            crc = int(google_crc32c.extend(crc, data))
            offset += len(data)
        results.append(crc)
    return results


def _crc_file_sync(path: str | os.PathLike[str], stop: threading.Event) -> int:
    crc = 0
    with open(path, "rb", buffering=0) as handle:
        while not stop.is_set():
            data = handle.read(FILE_CHUNK)
            if not data:
                return crc
            crc = int(google_crc32c.extend(crc, data))
    raise asyncio.CancelledError


async def crc32c_file(path: str | os.PathLike[str]) -> int:
    """CRC32C of a file's contents, computed in a worker thread (never on the event loop).

    Reads in 8 MiB pieces, which google-crc32c hashes without the GIL, so the loop keeps
    running at full speed. Cancelling stops the worker at its next piece.
    """
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, _crc_file_sync, path, stop)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        raise

"""HashAhead: CRC32Cs of parts computed in order, a bounded number ahead of the senders."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from pixop_async.transfer import _s3_parts
from pixop_async.transfer._s3_parts import HashAhead, SourceChangedError
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.s3_plan import UploadPlan

PART = 64 * 1024


def _source(tmp_path: Path, size: int) -> tuple[int, bytes]:
    data = os.urandom(size)
    path = tmp_path / "src.bin"
    path.write_bytes(data)
    return os.open(path, os.O_RDONLY), data


async def test_crcs_are_those_of_the_parts_and_stay_a_bounded_number_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fd, data = _source(tmp_path, 10 * PART + 5)
    hashed: list[int] = []
    real = _s3_parts.hash_range

    def counting(fd: int, offset: int, length: int, stop: threading.Event) -> int:
        hashed.append(offset)
        return real(fd, offset, length, stop)

    monkeypatch.setattr(_s3_parts, "hash_range", counting)
    plan = UploadPlan(len(data), PART)
    specs = list(plan.parts())
    hashes = HashAhead(fd, specs, ahead=3)
    try:
        for _ in range(50):  # let it run as far as it may
            await asyncio.sleep(0.01)
        assert hashed == [0, PART, 2 * PART]  # three ahead, none taken yet
        for spec in specs:
            part = data[spec.offset : spec.offset + spec.length]
            assert await hashes.crc(spec) == crc32c(part)
        assert hashed == [spec.offset for spec in specs]
        # a part handed out already (a retry) is hashed again on the spot
        assert await hashes.crc(specs[4]) == crc32c(data[4 * PART : 5 * PART])
    finally:
        await hashes.close()
        os.close(fd)


async def test_a_failed_hash_fails_that_part_and_every_later_one(tmp_path: Path) -> None:
    fd, data = _source(tmp_path, 4 * PART)
    specs = list(UploadPlan(len(data), PART).parts())
    os.truncate(tmp_path / "src.bin", 2 * PART + 10)  # shrinks under the upload
    hashes = HashAhead(fd, specs, ahead=4)
    try:
        assert await hashes.crc(specs[0]) == crc32c(data[:PART])
        assert await hashes.crc(specs[1]) == crc32c(data[PART : 2 * PART])
        for spec in specs[2:]:
            with pytest.raises(SourceChangedError, match="shrank"):
                await asyncio.wait_for(hashes.crc(spec), 10)
    finally:
        await hashes.close()
        os.close(fd)


async def test_close_stops_hashing_and_its_thread(tmp_path: Path) -> None:
    fd, data = _source(tmp_path, 8 * PART)
    hashes = HashAhead(fd, list(UploadPlan(len(data), PART).parts()), ahead=8)
    await hashes.close()
    await hashes.close()  # idempotent
    os.close(fd)
    for _ in range(100):
        if not any(t.name.startswith("pixop-s3-hash") for t in threading.enumerate()):
            return
        await asyncio.sleep(0.05)
    pytest.fail("the hashing thread outlived close()")


@pytest.mark.parametrize("page_cache_read", [True, False])
async def test_part_body_streams_the_part_and_its_crc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page_cache_read: bool
) -> None:
    from pixop_async.transfer.config import TransferConfig
    from pixop_async.transfer.progress import Progress
    from pixop_async.transfer.scheduler import Scheduler

    if not page_cache_read:  # a system without RWF_NOWAIT: every piece via the I/O thread
        monkeypatch.setattr(_s3_parts, "_RWF_NOWAIT", None)
    hops: list[int] = []
    real = _s3_parts._read_piece

    def counting(fd: int, offset: int, length: int, crc: int) -> tuple[bytes, int]:
        hops.append(offset)
        return real(fd, offset, length, crc)

    monkeypatch.setattr(_s3_parts, "_read_piece", counting)
    fd, data = _source(tmp_path, 3 * PART + 7)
    try:
        spec = list(UploadPlan(len(data), 2 * PART).parts())[1]  # PART + 7 bytes at 2 * PART
        reads = _s3_parts.PageCacheReads()
        body = _s3_parts.PartBody(
            fd,
            spec,
            piece=PART // 4,
            scheduler=Scheduler(TransferConfig()),
            progress=Progress(None, len(data)),
            reads=reads,
        )
        got = b"".join([piece async for piece in body])
    finally:
        os.close(fd)
    assert got == data[2 * PART :]
    assert body.sent == len(got) and body.crc == crc32c(got)
    if page_cache_read and reads.usable:  # tmp_path's file system takes RWF_NOWAIT
        assert hops == []  # the file was just written: every piece came from the cache
    elif not page_cache_read:
        assert len(hops) == 5


async def test_a_file_system_without_nowait_reads_does_not_turn_them_off_for_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload from tmpfs (EOPNOTSUPP) used to switch page-cache reads off process-wide."""
    import errno

    from pixop_async.transfer.config import TransferConfig
    from pixop_async.transfer.progress import Progress
    from pixop_async.transfer.scheduler import Scheduler

    if _s3_parts._RWF_NOWAIT is None:
        pytest.skip("no RWF_NOWAIT on this platform")
    fd_a, data_a = _source(tmp_path, PART)
    (tmp_path / "b.bin").write_bytes(data_b := os.urandom(PART))
    fd_b = os.open(tmp_path / "b.bin", os.O_RDONLY)
    real_preadv = os.preadv
    nowait_on: list[int] = []

    def preadv(fd: int, buffers: list[bytearray], offset: int, flags: int = 0) -> int:
        if flags:
            nowait_on.append(fd)
            if fd == fd_a:  # a's file system cannot
                raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real_preadv(fd, buffers, offset)  # b's can (whatever tmp_path is on)

    monkeypatch.setattr(_s3_parts.os, "preadv", preadv)
    scheduler = Scheduler(TransferConfig())
    try:
        got = {}
        for fd, name in ((fd_a, "a"), (fd_b, "b")):
            spec = UploadPlan(PART, PART).part(1)
            body = _s3_parts.PartBody(
                fd, spec, piece=PART // 4, scheduler=scheduler, progress=Progress(None, PART)
            )
            got[name] = b"".join([piece async for piece in body])
    finally:
        os.close(fd_a)
        os.close(fd_b)
    assert got == {"a": data_a, "b": data_b}
    assert nowait_on.count(fd_a) == 1, "a stops trying after its file system refused once"
    assert nowait_on.count(fd_b) == 4, "b still reads from the page cache without a thread hop"


async def test_short_reads_are_continued_not_taken_for_a_shrunk_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FUSE and network file systems may return fewer bytes than asked before end of file."""
    from pixop_async.transfer.config import TransferConfig
    from pixop_async.transfer.progress import Progress
    from pixop_async.transfer.scheduler import Scheduler

    monkeypatch.setattr(_s3_parts, "_RWF_NOWAIT", None)  # every piece via pread
    real_pread = os.pread

    def short(fd: int, length: int, offset: int) -> bytes:
        return real_pread(fd, min(length, 1000), offset)

    monkeypatch.setattr(_s3_parts.os, "pread", short)
    fd, data = _source(tmp_path, 2 * PART + 3)
    try:
        spec = UploadPlan(len(data), 2 * PART).part(1)
        body = _s3_parts.PartBody(
            fd,
            spec,
            piece=PART // 2,
            scheduler=Scheduler(TransferConfig()),
            progress=Progress(None, len(data)),
        )
        got = b"".join([piece async for piece in body])
        crc = await _s3_parts.hash_part(Scheduler(TransferConfig()).executor, fd, spec)
    finally:
        os.close(fd)
    assert got == data[: 2 * PART] and body.crc == crc32c(got) == crc


async def test_cancelled_hash_leaves_no_unretrieved_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    from concurrent.futures import ThreadPoolExecutor

    fd, data = _source(tmp_path, PART)
    inside = threading.Event()
    reports: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    real = _s3_parts.hash_range

    def slow(fd: int, offset: int, length: int, stop: threading.Event) -> int:
        inside.set()
        stop.wait(30)
        return real(fd, offset, length, stop)  # raises CancelledError: stop is set

    executor = ThreadPoolExecutor(1)
    try:
        monkeypatch.setattr(_s3_parts, "hash_range", slow)
        task = asyncio.ensure_future(
            _s3_parts.hash_part(executor, fd, UploadPlan(len(data), PART).part(1))
        )
        assert await asyncio.to_thread(inside.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        del task
        for _ in range(3):
            gc.collect()
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
        executor.shutdown()
        os.close(fd)
    assert not [r for r in reports if "never retrieved" in str(r.get("message"))], reports

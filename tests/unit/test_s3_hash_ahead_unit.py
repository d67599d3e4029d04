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
        body = _s3_parts.PartBody(
            fd,
            spec,
            piece=PART // 4,
            scheduler=Scheduler(TransferConfig()),
            progress=Progress(None, len(data)),
        )
        got = b"".join([piece async for piece in body])
    finally:
        os.close(fd)
    assert got == data[2 * PART :]
    assert body.sent == len(got) and body.crc == crc32c(got)
    if page_cache_read and _s3_parts._RWF_NOWAIT is not None:
        assert hops == []  # the file was just written: every piece came from the cache
    elif not page_cache_read:
        assert len(hops) == 5

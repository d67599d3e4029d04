"""Parts are hashed ahead of the senders: once each, in their own thread, and the first ones
while CreateMultipartUpload is still in flight (moto behind tests/s3_proxy.py)."""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from pathlib import Path

import pytest

from pixop_async import RetryPolicy, TransferConfig, upload_to_s3
from pixop_async.transfer import _s3_parts
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.s3_plan import MIN_PART_SIZE
from tests.s3_fixtures import MotoS3
from tests.s3_proxy import fault_proxy

pytest.importorskip("aiobotocore")

PART = MIN_PART_SIZE
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


class _Hashes:
    """Wraps ``_s3_parts.hash_range``: counts calls per offset, names the threads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: collections.Counter[int] = collections.Counter()
        self.threads: set[str] = set()
        self.started = threading.Event()
        real = _s3_parts.hash_range

        def counting(fd: int, offset: int, length: int, stop: threading.Event) -> int:
            self.calls[offset] += 1
            self.threads.add(threading.current_thread().name)
            self.started.set()
            return real(fd, offset, length, stop)

        monkeypatch.setattr(_s3_parts, "hash_range", counting)


async def test_first_parts_are_hashed_while_the_upload_is_created(
    moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = _Hashes(monkeypatch)
    bucket = moto_s3.new_bucket()
    data = os.urandom(3 * PART + 11)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.hold_create = asyncio.Event()

        async def release_create_once_hashing_started() -> None:
            await asyncio.to_thread(hashes.started.wait, 30)
            assert proxy.hold_create is not None
            proxy.hold_create.set()

        opener = asyncio.create_task(release_create_once_hashing_started())
        # hashing only after the create was answered would never release it: a timeout
        result = await asyncio.wait_for(
            upload_to_s3(
                source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART, resume=False
            ),
            timeout=60,
        )
        await opener
    assert result.crc32c == crc32c(data)
    assert hashes.threads and all(name.startswith("pixop-s3-hash") for name in hashes.threads)
    await _no_hash_thread_left()


async def _no_hash_thread_left() -> None:
    for _ in range(100):  # the idle thread exits right after the pool's shutdown
        if not any(t.name.startswith("pixop-s3-hash") for t in threading.enumerate()):
            return
        await asyncio.sleep(0.05)
    pytest.fail("a part-hashing thread outlived its upload")


async def test_a_resent_part_is_not_hashed_again(
    moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = _Hashes(monkeypatch)
    bucket = moto_s3.new_bucket()
    data = os.urandom(3 * PART)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    async with fault_proxy(moto_s3.endpoint, corrupt_parts={2}) as (url, proxy):
        result = await upload_to_s3(
            source,
            bucket,
            "v.mp4",
            s3=moto_s3.connection(url),
            part_size=PART,
            retry=FAST_RETRY,
            config=TransferConfig(connections=2),
            resume=False,
        )
    assert proxy.bad_digests == [2] and proxy.part_puts[2] == 2
    # the pre-send hash pass reads each part once; the re-send's own CRC is what it sent
    assert hashes.calls == {0: 1, PART: 1, 2 * PART: 1}
    assert result.crc32c == crc32c(data)
    stored = moto_s3.boto3().get_object(Bucket=bucket, Key="v.mp4")["Body"].read()
    assert stored == data
    await _no_hash_thread_left()

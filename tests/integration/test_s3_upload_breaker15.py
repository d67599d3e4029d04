"""Breaker attacks on the hash-ahead S3 upload engine (moto behind tests/s3_proxy.py)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from pixop_async import RetryPolicy, TransferConfig, upload_to_s3
from pixop_async.transfer import _s3_parts
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.s3_plan import MIN_PART_SIZE
from pixop_async.transfer.s3_upload import SourceChangedError
from tests.s3_fixtures import MotoS3
from tests.s3_proxy import fault_proxy

pytest.importorskip("aiobotocore")

PART = MIN_PART_SIZE
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def _open_uploads(moto: MotoS3, bucket: str) -> list[object]:
    return list(moto.boto3().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


@pytest.mark.parametrize("via_proxy", [True, False])
async def test_part_hashed_ahead_then_edited_before_its_send_is_refused(
    moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via_proxy: bool
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(4 * PART)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    hashed: set[int] = set()
    real = _s3_parts.hash_range
    edited = threading.Event()

    def counting(fd: int, offset: int, length: int, stop: threading.Event) -> int:
        crc = real(fd, offset, length, stop)
        hashed.add(offset)
        # part 3 hashed (the sender is still on part 1 or 2): edit it, keep the mtime
        if offset == 2 * PART and not edited.is_set():
            info = os.stat(source)
            with open(source, "r+b") as handle:
                handle.seek(2 * PART + 100)
                handle.write(b"EDITED")
            os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns))
            edited.set()
        return crc

    monkeypatch.setattr(_s3_parts, "hash_range", counting)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        with pytest.raises(SourceChangedError):
            await upload_to_s3(
                source,
                bucket,
                "v.mp4",
                s3=moto_s3.connection(url if via_proxy else None),
                part_size=PART,
                retry=FAST_RETRY,
                resume=False,
                config=TransferConfig(connections=1, progress_interval=0),
            )
        assert edited.is_set()
        if via_proxy:
            assert 3 in proxy.bad_digests
    assert _open_uploads(moto_s3, bucket) == []
    assert "Contents" not in moto_s3.boto3().list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize("size", [0, 1, PART, PART + 1, 2 * PART - 1, 3 * PART])
async def test_edge_sizes_are_stored_identically(
    moto_s3: MotoS3, tmp_path: Path, size: int
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(size)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    async with fault_proxy(moto_s3.endpoint) as (url, _proxy):
        result = await upload_to_s3(
            source,
            bucket,
            "v.mp4",
            s3=moto_s3.connection(url),
            part_size=PART,
            config=TransferConfig(connections=8),
        )
    got = moto_s3.boto3().get_object(Bucket=bucket, Key="v.mp4")["Body"].read()
    assert got == data
    assert result.size == size and result.crc32c == crc32c(data)
    assert sum(p.size for p in result.parts) == size
    assert not list(tmp_path.glob(".*s3upload*"))


async def test_edge_sizes_on_tmpfs(moto_s3: MotoS3) -> None:
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    bucket = moto_s3.new_bucket()
    data = os.urandom(2 * PART + 3)
    source = Path("/dev/shm") / f"pixop-b15-{os.getpid()}.bin"
    source.write_bytes(data)
    try:
        result = await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART, resume=False
        )
    finally:
        source.unlink()
    got = moto_s3.boto3().get_object(Bucket=bucket, Key="v.mp4")["Body"].read()
    assert got == data and result.crc32c == crc32c(data)


CHILD = """
import asyncio, sys
from pixop_async import RetryPolicy, S3Connection, TransferConfig, upload_to_s3

async def main():
    endpoint, key_id, secret, bucket, source = sys.argv[1:6]
    config = TransferConfig(connections=3, bandwidth_limit=2 * int(sys.argv[6]),
                            journal_interval=0.05)
    await upload_to_s3(source, bucket, "master.mov", part_size=int(sys.argv[6]), config=config,
                       retry=RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05),
                       s3=S3Connection(endpoint_url=endpoint, access_key=key_id,
                                       secret_access_key=secret))

asyncio.run(main())
"""


async def test_bad_digests_then_kill_9_then_resume(moto_s3: MotoS3, tmp_path: Path) -> None:
    import signal
    import sys

    from pixop_async.transfer import s3_journal as sj
    from pixop_async.transfer.s3_plan import decode_crc32c

    parts = 10
    bucket = moto_s3.new_bucket()
    data = os.urandom(parts * PART)
    source = tmp_path / "master.mov"
    source.write_bytes(data)
    async with fault_proxy(moto_s3.endpoint, corrupt_parts={1, 2, 4, 5, 9}) as (url, proxy):
        conn = moto_s3.connection(url)
        journal_file = sj.journal_path(source, conn.identity(), bucket, "master.mov")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            url,
            moto_s3.access_key,
            moto_s3.secret_key,
            bucket,
            str(source),
            str(PART),
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        try:
            for _ in range(3000):
                await asyncio.sleep(0.01)
                saved = sj.load(journal_file) if journal_file.exists() else None
                if saved is not None and len(saved.parts) >= parts // 2:
                    break
            assert child.returncode is None
            os.kill(child.pid, signal.SIGKILL)
            await child.wait()
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        saved = sj.load(journal_file)
        assert saved is not None
        await asyncio.sleep(0.3)
        print("bad digests", proxy.bad_digests, "journal", sorted(saved.parts))
        listed = moto_s3.boto3().list_parts(
            Bucket=bucket, Key="master.mov", UploadId=saved.upload_id
        )
        stored = {p["PartNumber"]: p for p in listed.get("Parts", [])}
        for number, (etag, crc) in saved.parts.items():
            part = data[(number - 1) * PART : number * PART]
            assert crc == crc32c(part)
            assert stored[number]["ETag"] == etag
            assert decode_crc32c(stored[number].get("ChecksumCRC32C")) in (None, crc)
        proxy.part_puts.clear()
        proxy.corrupt_parts = {6, 7, 8, 10}
        result = await upload_to_s3(
            source, bucket, "master.mov", s3=conn, part_size=PART, retry=FAST_RETRY
        )
    print("resumed", result.parts_resumed, "sent", result.parts_sent, dict(proxy.part_puts))
    assert not set(proxy.part_puts) & set(saved.parts)
    assert result.parts_resumed + result.parts_sent == parts
    got = moto_s3.boto3().get_object(Bucket=bucket, Key="master.mov")["Body"].read()
    assert got == data and result.crc32c == crc32c(data)


async def test_cancel_while_the_hash_thread_is_mid_read(
    moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from pixop_async.transfer import s3_journal as sj

    bucket = moto_s3.new_bucket()
    data = os.urandom(6 * PART)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    real = _s3_parts.hash_range
    inside = threading.Event()
    left = threading.Event()

    def slow(fd: int, offset: int, length: int, stop: threading.Event) -> int:
        if offset == 3 * PART:
            inside.set()
            try:
                while not stop.wait(0.01):
                    os.pread(fd, 10, offset)  # still reading the fd
                raise asyncio.CancelledError
            finally:
                left.set()
        return real(fd, offset, length, stop)

    monkeypatch.setattr(_s3_parts, "hash_range", slow)
    task = asyncio.create_task(
        upload_to_s3(
            source,
            bucket,
            "v.mp4",
            s3=moto_s3.connection(),
            part_size=PART,
            config=TransferConfig(connections=2, journal_interval=0.01),
        )
    )
    assert await asyncio.to_thread(inside.wait, 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert left.is_set(), "the hash thread was still inside its read when the upload returned"
    for _ in range(100):
        if not any(t.name.startswith("pixop-s3-hash") for t in threading.enumerate()):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("hash thread left")
    [journal_file] = [p for p in tmp_path.iterdir() if p.name.endswith(".s3upload.json")]
    journal = sj.parse(json.loads(journal_file.read_text()))
    listed = moto_s3.boto3().list_parts(Bucket=bucket, Key="v.mp4", UploadId=journal.upload_id)
    stored = {p["PartNumber"]: p["ETag"] for p in listed.get("Parts", [])}
    for number, (etag, crc) in journal.parts.items():
        assert stored.get(number) == etag
        assert crc == crc32c(data[(number - 1) * PART : number * PART])
    monkeypatch.undo()
    result = await upload_to_s3(source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART)
    assert result.crc32c == crc32c(data)
    got = moto_s3.boto3().get_object(Bucket=bucket, Key="v.mp4")["Body"].read()
    assert got == data


@pytest.mark.parametrize("change", ["truncate", "replace", "append"])
async def test_source_truncated_replaced_or_grown_mid_upload_is_refused(
    moto_s3: MotoS3, tmp_path: Path, change: str
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(4 * PART)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    done_change = False

    def hook(done: int, _total: int | None) -> None:
        nonlocal done_change
        if done >= PART and not done_change:
            done_change = True
            if change == "truncate":
                os.truncate(source, 2 * PART + 17)
            elif change == "replace":
                other = tmp_path / "new.mp4"
                other.write_bytes(data)  # same bytes, another inode
                os.replace(other, source)
            else:
                with open(source, "ab") as handle:
                    handle.write(b"more")

    with pytest.raises(SourceChangedError):
        await upload_to_s3(
            source,
            bucket,
            "v.mp4",
            s3=moto_s3.connection(),
            part_size=PART,
            config=TransferConfig(connections=2, progress_interval=0),
            progress=hook,
        )
    assert done_change
    assert _open_uploads(moto_s3, bucket) == []
    assert "Contents" not in moto_s3.boto3().list_objects_v2(Bucket=bucket)
    assert not list(tmp_path.glob(".*s3upload*"))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
async def test_character_devices_are_refused(moto_s3: MotoS3, device: str) -> None:
    from pixop_async.errors import TransferError

    if not os.path.exists(device):
        pytest.skip(device)
    with pytest.raises(TransferError, match="not a regular file"):
        await asyncio.wait_for(
            upload_to_s3(device, "some-bucket", "k", s3=moto_s3.connection(), resume=False), 20
        )


async def test_part_hashed_ahead_then_cut_short_is_refused_not_retried(
    moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short read happens inside the body aiohttp streams, which reports it as a
    connection error: it used to be retried, then kept for a resume, never refused."""
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(4 * PART))
    real = _s3_parts.hash_range

    def cut_after_part_3(fd: int, offset: int, length: int, stop: threading.Event) -> int:
        crc = real(fd, offset, length, stop)
        if offset == 2 * PART:
            os.truncate(source, 2 * PART + 17)
        return crc

    monkeypatch.setattr(_s3_parts, "hash_range", cut_after_part_3)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        with pytest.raises(SourceChangedError, match="part 3"):
            await upload_to_s3(
                source,
                bucket,
                "v.mp4",
                s3=moto_s3.connection(url),
                part_size=PART,
                retry=FAST_RETRY,
                config=TransferConfig(connections=1, progress_interval=0),
            )
    assert proxy.part_puts[3] <= 1, "a source that shrank is not a transport failure"
    assert _open_uploads(moto_s3, bucket) == []
    assert not list(tmp_path.glob(".*s3upload*")), "no journal kept for a refused upload"

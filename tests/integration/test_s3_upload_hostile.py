"""S3 uploads under hostile conditions: odd sources, a store that lies or stalls, secrets
in botocore's DEBUG logs (moto behind the fault proxy of tests/s3_proxy.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path

import pytest

from pixop_async import RetryPolicy, S3Connection, TransferConfig, upload_to_s3
from pixop_async.errors import (
    ChecksumMismatchError,
    TransferError,
    TransferStalledError,
    TransferTimeoutError,
)
from pixop_async.transfer import s3_journal as sj
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.s3_journal import UploadBusyError
from pixop_async.transfer.s3_plan import MIN_PART_SIZE
from pixop_async.transfer.s3_upload import SourceChangedError
from tests.s3_fixtures import MotoS3
from tests.s3_proxy import fault_proxy

pytest.importorskip("aiobotocore")

PART = MIN_PART_SIZE
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def _open_uploads(moto: MotoS3, bucket: str) -> list[object]:
    return list(moto.boto3().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def _stored(moto: MotoS3, bucket: str, key: str) -> bytes:
    return bytes(moto.boto3().get_object(Bucket=bucket, Key=key)["Body"].read())


async def test_fifo_source_is_refused_without_blocking(moto_s3: MotoS3, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mov"
    os.mkfifo(fifo)
    with pytest.raises(TransferError, match="not a regular file"):
        await asyncio.wait_for(
            upload_to_s3(fifo, "some-bucket", "k", s3=moto_s3.connection()), timeout=20
        )


async def test_directory_source_is_refused(moto_s3: MotoS3, tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="not a regular file"):
        await upload_to_s3(tmp_path, "some-bucket", "k", s3=moto_s3.connection())


async def test_complete_answered_200_with_error_body_is_not_a_success(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(2 * PART + 3)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.complete_200_errors = 1
        result = await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART, retry=FAST_RETRY
        )
    assert proxy.complete_200_errors == 0
    assert result.crc32c == crc32c(data)
    assert await asyncio.to_thread(_stored, moto_s3, bucket, "v.mp4") == data


async def test_complete_answered_200_with_error_body_every_time_fails(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(PART + 3))
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.complete_200_errors = 100
        with pytest.raises(TransferError, match="InternalError"):
            await upload_to_s3(
                source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART,
                retry=RetryPolicy(max_attempts=2, base_delay=0.01),
            )
    listed = await asyncio.to_thread(moto_s3.boto3().list_objects_v2, Bucket=bucket)
    assert "Contents" not in listed


async def test_wrong_checksum_echoed_for_a_part_is_refused(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(PART + 3))
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.wrong_echo = True
        with pytest.raises(ChecksumMismatchError):
            await upload_to_s3(
                source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART,
                retry=FAST_RETRY,
            )
    assert await asyncio.to_thread(_open_uploads, moto_s3, bucket) == []


@pytest.mark.parametrize("rule", ["stall", "total"])
async def test_stalled_store_trips_the_transfer_deadlines(
    moto_s3: MotoS3, tmp_path: Path, rule: str
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(2 * PART))
    if rule == "stall":
        config = TransferConfig(low_speed_limit=1, low_speed_time=1.0)
        expected: type[Exception] = TransferStalledError
    else:
        config = TransferConfig(low_speed_time=None, total_timeout=1.5)
        expected = TransferTimeoutError
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.stall_parts = {2}
        with pytest.raises(expected):
            await asyncio.wait_for(
                upload_to_s3(
                    source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART,
                    config=config, retry=FAST_RETRY,
                ),
                timeout=60,
            )
    # resume is on: the upload and a truthful journal are kept for a rerun
    assert len(await asyncio.to_thread(_open_uploads, moto_s3, bucket)) == 1
    assert list(tmp_path.glob(".*s3upload*"))


async def test_source_deleted_mid_upload_is_refused_and_aborted(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(3 * PART))

    def remove(done: int, _total: int | None) -> None:
        if done >= PART and source.exists():
            source.unlink()

    with pytest.raises(SourceChangedError):
        await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART,
            config=TransferConfig(connections=1, progress_interval=0), progress=remove,
        )
    assert await asyncio.to_thread(_open_uploads, moto_s3, bucket) == []
    assert not list(tmp_path.glob(".*s3upload*"))


async def test_same_size_rewrite_with_restored_mtime_mid_upload_is_refused(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(3 * PART))
    before = os.stat(source)
    rewritten = False

    def rewrite(done: int, _total: int | None) -> None:
        nonlocal rewritten
        if done >= PART and not rewritten:
            rewritten = True
            with open(source, "r+b") as handle:  # a part already sent changes
                handle.write(b"X" * 100)
            os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))

    with pytest.raises(SourceChangedError):
        await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART,
            config=TransferConfig(connections=1, progress_interval=0), progress=rewrite,
        )
    assert rewritten
    listed = await asyncio.to_thread(moto_s3.boto3().list_objects_v2, Bucket=bucket)
    assert "Contents" not in listed


async def test_botocore_debug_logs_carry_no_credentials(
    moto_s3: MotoS3, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(1000))
    conn = S3Connection(
        endpoint_url=moto_s3.endpoint,
        access_key="AKIAHOSTILELOGS00001",
        secret_access_key=moto_s3.secret_key,
        session_token="FwoGZXIvYXdzEHostileSessionToken0001",
    )
    with caplog.at_level(logging.DEBUG):
        await upload_to_s3(source, bucket, "v.mp4", s3=conn)
    texts = [r.getMessage() for r in caplog.records]
    assert any(r.name.startswith("botocore") for r in caplog.records), "botocore logged"
    assert any("Sending http request" in t for t in texts)
    for secret in ("AKIAHOSTILELOGS00001", "HostileSessionToken0001", moto_s3.secret_key):
        assert not [t for t in texts if secret in t], secret


async def test_second_concurrent_upload_of_the_same_file_is_refused_clearly(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(4 * PART)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    started = asyncio.Event()

    async def hold(done: int, _total: int | None) -> None:
        if done >= PART and not started.is_set():
            started.set()
            await asyncio.sleep(0.5)  # keep the first upload running meanwhile

    config = TransferConfig(connections=1, progress_interval=0)
    first = asyncio.create_task(
        upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART, config=config,
            progress=hold,
        )
    )
    await asyncio.wait_for(started.wait(), 30)
    with pytest.raises(UploadBusyError, match="another upload"):
        await upload_to_s3(source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART)
    result = await first
    assert result.crc32c == crc32c(data)
    assert await asyncio.to_thread(_stored, moto_s3, bucket, "v.mp4") == data
    assert await asyncio.to_thread(_open_uploads, moto_s3, bucket) == []
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"], "no journal, no lock left"
    # the lock is free again: a rerun (same file, same object) starts and finishes
    again = await upload_to_s3(source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART)
    assert again.crc32c == result.crc32c


async def test_resume_reads_a_paginated_part_listing_and_survives_a_500(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(5 * PART + 1)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    config = TransferConfig(connections=1)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.deny_parts = {6}
        with pytest.raises(TransferError, match="AccessDenied"):
            await upload_to_s3(
                source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART,
                config=config, retry=FAST_RETRY,
            )
        proxy.deny_parts = set()
        proxy.fail_list_parts = 1
        proxy.list_parts_page = 2
        result = await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART,
            config=config, retry=FAST_RETRY,
        )
    assert proxy.fail_list_parts == 0
    assert proxy.list_parts_calls == 1 + 3  # the 500, then pages of 2, 2 and 1 parts
    assert (result.parts_resumed, result.parts_sent) == (5, 1)
    assert await asyncio.to_thread(_stored, moto_s3, bucket, "v.mp4") == data


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _server_side_sockets(port: int) -> set[str]:
    """Socket inodes whose local port is ``port``: moto runs in this process, and its side of
    a connection the client closed may linger a moment; it is not the client's."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(f"socket:[{fields[9]}]")
    return found


def _leaked_fds(before: set[str], moto_port: int) -> list[str]:
    leaked = []
    for fd in _open_fds() - before:
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:") and target in _server_side_sockets(moto_port):
                continue
            if "/#" in target:  # moto (in this process) spools stored parts to O_TMPFILE files
                continue
            leaked.append(target)
    return leaked


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
async def test_cancelled_upload_leaves_no_fd_connection_or_lying_journal(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "v.mp4"
    source.write_bytes(os.urandom(6 * PART))
    await upload_to_s3(source, bucket, "warm-up", s3=moto_s3.connection())  # lazy imports
    before = _open_fds()
    gate = asyncio.Event()

    async def stop(done: int, _total: int | None) -> None:
        if done >= 2 * PART:
            gate.set()

    task = asyncio.create_task(
        upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART,
            config=TransferConfig(connections=3, progress_interval=0, journal_interval=0.01),
            progress=stop,
        )
    )
    await asyncio.wait_for(gate.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    port = int(moto_s3.endpoint.rsplit(":", 1)[1])
    for _ in range(50):  # closed transports are released on the next loop turns
        leaked = _leaked_fds(before, port)
        if not leaked:
            break
        await asyncio.sleep(0.1)
    assert not leaked, "the source fd, the lock and the client's sockets are all closed"
    [journal_file] = [p for p in tmp_path.iterdir() if p.name.endswith(".s3upload.json")]
    journal = sj.parse(json.loads(journal_file.read_text()))
    listed = await asyncio.to_thread(
        moto_s3.boto3().list_parts, Bucket=bucket, Key="v.mp4", UploadId=journal.upload_id
    )
    stored = {p["PartNumber"]: p["ETag"] for p in listed.get("Parts", [])}
    for number, (etag, _crc) in journal.parts.items():
        assert stored.get(number) == etag, "the journal lists only parts the store holds"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".lock")]


async def test_rerun_after_a_crash_between_complete_and_journal_removal_sends_nothing(
    moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(3 * PART + 9)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        with monkeypatch.context() as patch:
            patch.setattr(sj, "remove", lambda _path: None)  # "killed" before the journal went
            first = await upload_to_s3(
                source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART
            )
        [journal_file] = [p for p in tmp_path.iterdir() if p.name.endswith(".s3upload.json")]
        assert len(sj.parse(json.loads(journal_file.read_text())).parts) == 4
        proxy.part_puts.clear()
        proxy.completed.clear()
        again = await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART
        )
    assert sum(proxy.part_puts.values()) == 0 and not proxy.completed
    assert (again.parts_sent, again.parts_resumed) == (0, 4)
    assert again.crc32c == first.crc32c == crc32c(data)
    assert not journal_file.exists()
    # the same journal, but the object was replaced since: everything is sent again
    with monkeypatch.context() as patch:
        patch.setattr(sj, "remove", lambda _path: None)
        await upload_to_s3(source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART)
    await asyncio.to_thread(moto_s3.boto3().put_object, Bucket=bucket, Key="v.mp4", Body=b"x")
    third = await upload_to_s3(source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART)
    assert (third.parts_sent, third.parts_resumed) == (4, 0)
    assert await asyncio.to_thread(_stored, moto_s3, bucket, "v.mp4") == data


async def test_journal_naming_an_upload_the_store_does_not_know_starts_over(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(2 * PART)
    source = tmp_path / "v.mp4"
    source.write_bytes(data)
    conn = moto_s3.connection()
    journal = sj.S3Journal(
        store=conn.identity(), bucket=bucket, key="v.mp4", upload_id="NoSuchUploadHere0001",
        part_size=PART, source_size=2 * PART, source_mtime_ns=os.stat(source).st_mtime_ns,
        checksum_type="FULL_OBJECT", parts={1: ('"0123456789abcdef"', 12345), 2: ('"x"', 1)},
    )
    sj.write(sj.journal_path(source, conn.identity(), bucket, "v.mp4"), sj.encode(journal))
    result = await upload_to_s3(source, bucket, "v.mp4", s3=conn, part_size=PART)
    assert (result.parts_sent, result.parts_resumed) == (2, 0)
    assert await asyncio.to_thread(_stored, moto_s3, bucket, "v.mp4") == data
    assert await asyncio.to_thread(_open_uploads, moto_s3, bucket) == []

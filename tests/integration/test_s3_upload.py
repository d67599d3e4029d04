"""S3 multipart uploads against moto's real S3 server (bytes read back and compared)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from pixop_async import RetryPolicy, S3Connection, TransferConfig, upload_to_s3
from pixop_async.errors import TransferError
from pixop_async.transfer import s3_journal as sj
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.s3_plan import MIN_PART_SIZE
from pixop_async.transfer.s3_upload import SourceChangedError
from pixop_async.transfer.scheduler import Scheduler
from tests.s3_fixtures import MotoS3
from tests.s3_proxy import fault_proxy

pytest.importorskip("aiobotocore")

PART = MIN_PART_SIZE
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _read_back(moto: MotoS3, bucket: str, key: str) -> tuple[bytes, dict[str, object]]:
    answer = moto.boto3().get_object(Bucket=bucket, Key=key)
    return answer["Body"].read(), answer


def _open_uploads(moto: MotoS3, bucket: str) -> list[object]:
    return list(moto.boto3().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


@pytest.mark.parametrize(
    "size",
    [0, 1, PART, PART + 1, 3 * PART + 12345],
    ids=["empty", "one-byte", "one-part", "part-plus-one", "multi-part"],
)
async def test_bytes_in_bucket_match_the_file(
    moto_s3: MotoS3, tmp_path: Path, size: int
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(size)
    source = _write(tmp_path / "master.mov", data)
    seen: list[tuple[int, int | None]] = []
    result = await upload_to_s3(
        source, bucket, "in/master.mov", s3=moto_s3.connection(), part_size=PART,
        progress=lambda done, total: seen.append((done, total)),
    )
    stored, _ = await asyncio.to_thread(_read_back, moto_s3, bucket, "in/master.mov")
    assert len(stored) == size == result.size
    assert crc32c(stored) == crc32c(data) == result.crc32c
    assert len(result.parts) == max(1, -(-size // PART))
    assert result.parts_sent == len(result.parts) and result.parts_resumed == 0
    assert sum(p.size for p in result.parts) == size
    assert result.checksum_type == "FULL_OBJECT"
    assert seen[-1] == (size, size)
    assert all(done <= size for done, _ in seen)
    assert not list(tmp_path.glob(".*s3upload*")), "the journal is removed after success"


async def test_corrupted_part_is_refused_and_sent_again(moto_s3: MotoS3, tmp_path: Path) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(3 * PART)
    source = _write(tmp_path / "v.mp4", data)
    async with fault_proxy(moto_s3.endpoint, corrupt_parts={2}) as (url, proxy):
        result = await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART, retry=FAST_RETRY
        )
    assert proxy.bad_digests == [2]
    assert proxy.part_puts == {1: 1, 2: 2, 3: 1}
    stored, _ = await asyncio.to_thread(_read_back, moto_s3, bucket, "v.mp4")
    assert stored == data and result.crc32c == crc32c(data)


async def test_lost_complete_answer_is_recognised_by_the_stored_object(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(2 * PART + 5)
    source = _write(tmp_path / "v.mp4", data)
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.lose_complete_answers = 1  # moto completes, the client sees a 500 and retries
        result = await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART, retry=FAST_RETRY
        )
    assert proxy.lose_complete_answers == 0
    assert result.crc32c == crc32c(data) and result.etag
    stored, _ = await asyncio.to_thread(_read_back, moto_s3, bucket, "v.mp4")
    assert stored == data


async def test_part_corrupted_every_time_gives_up_and_keeps_upload_for_resume(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = _write(tmp_path / "v.mp4", os.urandom(2 * PART))
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.always_corrupt = {1}
        with pytest.raises(TransferError) as info:
            await upload_to_s3(
                source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART,
                retry=RetryPolicy(max_attempts=2, base_delay=0.01),
            )
    assert "BadDigest" in str(info.value) and "2 attempt" in str(info.value)
    assert proxy.part_puts[1] == 2
    assert moto_s3.secret_key not in str(info.value)
    assert moto_s3.secret_key not in repr(info.value)
    assert len(_open_uploads(moto_s3, bucket)) == 1  # kept for a rerun (resume is on)
    assert list(tmp_path.glob(".*s3upload*"))


async def test_source_changed_mid_upload_is_refused_and_aborted(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = _write(tmp_path / "v.mp4", os.urandom(4 * PART))
    changed = False

    def touch(done: int, _total: int | None) -> None:
        nonlocal changed
        if done >= PART and not changed:
            changed = True
            with open(source, "r+b") as handle:
                handle.seek(3 * PART + 10)
                handle.write(b"edited")

    config = TransferConfig(connections=1, progress_interval=0)
    with pytest.raises(SourceChangedError):
        await upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART,
            config=config, progress=touch,
        )
    assert changed
    assert _open_uploads(moto_s3, bucket) == []
    assert "Contents" not in moto_s3.boto3().list_objects_v2(Bucket=bucket)
    assert not list(tmp_path.glob(".*s3upload*"))


async def test_scheduler_limits_connections(moto_s3: MotoS3, tmp_path: Path) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(6 * PART)
    source = _write(tmp_path / "v.mp4", data)
    scheduler = Scheduler(TransferConfig(max_connections=2, connections=8))
    result = await upload_to_s3(
        source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART, scheduler=scheduler
    )
    assert 1 <= scheduler.peak_connections <= 2
    assert scheduler.budget.available == scheduler.budget.capacity
    assert result.crc32c == crc32c(data)


async def test_failed_upload_without_resume_is_aborted(moto_s3: MotoS3, tmp_path: Path) -> None:
    bucket = moto_s3.new_bucket()
    source = _write(tmp_path / "v.mp4", os.urandom(2 * PART))
    async with fault_proxy(moto_s3.endpoint) as (url, proxy):
        proxy.deny_parts = {2}
        with pytest.raises(TransferError) as info:
            await upload_to_s3(
                source, bucket, "v.mp4", s3=moto_s3.connection(url), part_size=PART,
                resume=False, retry=FAST_RETRY,
            )
    assert "AccessDenied" in str(info.value)
    assert _open_uploads(moto_s3, bucket) == []
    assert not list(tmp_path.glob(".*s3upload*"))


async def test_journal_is_private_valid_and_free_of_credentials(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = _write(tmp_path / "v.mp4", os.urandom(3 * PART))
    state = tmp_path / "state"
    state.mkdir()
    gate = asyncio.Event()

    async def stop_after_first(done: int, _total: int | None) -> None:
        if done >= PART:
            gate.set()
            await asyncio.sleep(3600)

    config = TransferConfig(connections=1, progress_interval=0, journal_interval=0.01)
    task = asyncio.create_task(
        upload_to_s3(
            source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART, config=config,
            state_dir=state, progress=stop_after_first,
        )
    )
    await asyncio.wait_for(gate.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [journal_file] = list(state.iterdir())
    assert stat.S_IMODE(journal_file.stat().st_mode) == 0o600
    text = journal_file.read_text()
    assert moto_s3.secret_key not in text and moto_s3.access_key not in text
    journal = sj.parse(json.loads(text))
    assert set(journal.parts) <= {1}
    [upload] = _open_uploads(moto_s3, bucket)
    assert upload["UploadId"] == journal.upload_id  # type: ignore[index]
    result = await upload_to_s3(
        source, bucket, "v.mp4", s3=moto_s3.connection(), part_size=PART, state_dir=state
    )
    assert result.parts_resumed + result.parts_sent == 3
    assert result.parts_resumed == len(journal.parts)
    stored, _ = await asyncio.to_thread(_read_back, moto_s3, bucket, "v.mp4")
    assert crc32c(stored) == result.crc32c == crc32c(source.read_bytes())
    assert list(state.iterdir()) == []


async def test_bad_journal_is_discarded_with_a_warning(
    moto_s3: MotoS3, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = moto_s3.new_bucket()
    data = os.urandom(PART + 7)
    source = _write(tmp_path / "v.mp4", data)
    conn = moto_s3.connection()
    path = sj.journal_path(source, conn.identity(), bucket, "v.mp4")
    path.write_text('{"version": 1, "uploadId": "x", "partSize": 1}')
    with caplog.at_level(logging.WARNING, "pixop_async"):
        result = await upload_to_s3(source, bucket, "v.mp4", s3=conn, part_size=PART)
    assert "discarding S3 upload journal" in caplog.text
    assert result.parts_sent == 2 and result.crc32c == crc32c(data)


async def test_journal_symlink_is_not_followed(moto_s3: MotoS3, tmp_path: Path) -> None:
    bucket = moto_s3.new_bucket()
    source = _write(tmp_path / "v.mp4", os.urandom(10))
    conn = moto_s3.connection()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    path = sj.journal_path(source, conn.identity(), bucket, "k")
    path.symlink_to(victim)
    result = await upload_to_s3(source, bucket, "k", s3=conn)
    assert result.size == 10
    assert victim.read_text() == "keep me"
    assert not path.exists() and not path.is_symlink()


async def test_changed_source_between_runs_starts_over_and_aborts_stale_upload(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = _write(tmp_path / "v.mp4", os.urandom(2 * PART))
    conn = moto_s3.connection()
    stale = moto_s3.boto3().create_multipart_upload(Bucket=bucket, Key="v.mp4")["UploadId"]
    journal = sj.S3Journal(
        store=conn.identity(), bucket=bucket, key="v.mp4", upload_id=stale, part_size=PART,
        source_size=2 * PART, source_mtime_ns=1, checksum_type="FULL_OBJECT",
    )
    sj.write(sj.journal_path(source, conn.identity(), bucket, "v.mp4"), sj.encode(journal))
    result = await upload_to_s3(source, bucket, "v.mp4", s3=conn, part_size=PART)
    assert result.parts_resumed == 0 and result.parts_sent == 2
    assert _open_uploads(moto_s3, bucket) == []


def test_credentials_stay_out_of_reprs() -> None:
    conn = S3Connection(
        endpoint_url="http://127.0.0.1:1",
        access_key="AKIAEXAMPLEKEY123",
        secret_access_key="s3cr3t-value-xyz",
    )
    assert "s3cr3t-value-xyz" not in repr(conn)
    assert "AKIAEXAMPLEKEY123" not in repr(conn)


async def test_bad_arguments_fail_before_any_request(tmp_path: Path) -> None:
    source = _write(tmp_path / "v.mp4", b"x")
    with pytest.raises(ValueError, match="part_size"):
        await upload_to_s3(source, "bucket", "k", part_size=1024)
    with pytest.raises(ValueError, match="object_key"):
        await upload_to_s3(source, "bucket", "")
    with pytest.raises(ValueError, match="bucket"):
        await upload_to_s3(source, "", "k")

"""Local files into the emulator through the real S3 protocol (moto as the bucket store)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from pixop_async import Pixop, S3Connection
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.lifecycle import media_of
from pixop_async.errors import NotFoundError, OperationFailedError
from pixop_async.models.locations import S3BucketWithAccessKeys
from pixop_async.models.videos import OperationStatus
from pixop_async.resources.local_imports import LocalImportItem
from pixop_async.transfer.checksum import crc32c
from tests.s3_fixtures import MotoS3

from .video_helpers import FAST, fast_config

pytest.importorskip("aiobotocore")

DATA = os.urandom(6 * 1024 * 1024 + 321)


@pytest.fixture
def pixop_emulator_config(moto_s3: MotoS3) -> EmulatorConfig:
    return fast_config(s3_endpoint=moto_s3.endpoint)


def _keys(moto: MotoS3, bucket: str) -> S3BucketWithAccessKeys:
    return S3BucketWithAccessKeys(bucket, moto.access_key, moto.secret_key)


async def test_from_file_uploads_imports_and_verifies_end_to_end(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "Holiday Film.mov"
    source.write_bytes(DATA)
    seen: list[int] = []
    done = await pixop_client.imports.from_file(
        source,
        "Holiday Film",
        bucket=_keys(moto_s3, bucket),
        object_key="masters/holiday.mov",
        s3=S3Connection(endpoint_url=moto_s3.endpoint),
        wait=True,
        timeout=30,
        progress=lambda sent, _total: seen.append(sent),
        part_size=5 * 1024 * 1024,
    )
    assert done.verified
    assert done.status.upload_status == OperationStatus.DONE
    assert done.upload.crc32c == crc32c(DATA) and done.upload.size == len(DATA)
    assert len(done.upload.parts) == 2 and seen[-1] == len(DATA)
    stored = media_of(pixop_emulator.state, str(done.video_id))
    assert stored is not None
    assert Path(stored.path).read_bytes() == DATA
    obj = moto_s3.boto3().get_object(Bucket=bucket, Key="masters/holiday.mov")["Body"].read()
    assert obj == DATA
    assert moto_s3.secret_key not in repr(done)


async def test_from_file_with_a_saved_input_location(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    location = await pixop_client.input_locations.create(
        "masters", bucket, moto_s3.access_key, moto_s3.secret_key
    )
    source = tmp_path / "clip.mp4"
    source.write_bytes(DATA[:1000])
    started = await pixop_client.imports.from_file(
        source, "Clip", location_id=location.id, s3=moto_s3.connection()
    )
    assert started.upload.size == 1000 and not started.verified
    final = await pixop_client.imports.wait(started.video_id, timeout=30, intervals=FAST)
    assert final.upload_status == OperationStatus.DONE
    stored = media_of(pixop_emulator.state, str(started.video_id))
    assert stored is not None and Path(stored.path).read_bytes() == DATA[:1000]


async def test_emulator_refuses_an_object_whose_bytes_do_not_match_its_crc32c(
    pixop_client: Pixop, moto_s3: MotoS3
) -> None:
    bucket = moto_s3.new_bucket()
    wrong = base64.b64encode((crc32c(DATA) ^ 1).to_bytes(4, "big")).decode()
    moto_s3.boto3().put_object(
        Bucket=bucket, Key="bad.mov", Body=DATA, ChecksumCRC32C=wrong,
        ChecksumAlgorithm="CRC32C",
    )
    started = await pixop_client.imports.from_s3(_keys(moto_s3, bucket), "bad.mov", "Bad")
    with pytest.raises(OperationFailedError) as info:
        await pixop_client.imports.wait(started.video_id, timeout=30, intervals=FAST)
    assert info.value.error_code == "CHECKSUM_MISMATCH"


async def test_missing_object_is_key_not_found(pixop_client: Pixop, moto_s3: MotoS3) -> None:
    bucket = moto_s3.new_bucket()
    with pytest.raises(NotFoundError) as info:
        await pixop_client.imports.from_s3(_keys(moto_s3, bucket), "nothing.mov", "Nothing")
    assert info.value.error_code == "KEY_NOT_FOUND"
    with pytest.raises(NotFoundError) as info:
        await pixop_client.imports.from_s3(_keys(moto_s3, "no-such-bucket-x"), "a.mov", "A")
    assert info.value.error_code == "BUCKET_NOT_FOUND"


async def test_export_puts_the_video_into_the_s3_endpoint(
    pixop_client: Pixop, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    source = tmp_path / "master.mp4"
    source.write_bytes(DATA)
    done = await pixop_client.imports.from_file(
        source, "Master", bucket=_keys(moto_s3, bucket), s3=moto_s3.connection(), wait=True,
        timeout=30,
    )
    out_bucket = moto_s3.new_bucket()
    await pixop_client.exports.to_s3(done.video_id, _keys(moto_s3, out_bucket), "exported")
    await pixop_client.exports.wait(done.video_id, timeout=30, intervals=FAST)
    listed = moto_s3.boto3().list_objects_v2(Bucket=out_bucket)["Contents"]
    [entry] = listed
    assert entry["Key"].startswith("exported/")
    body = moto_s3.boto3().get_object(Bucket=out_bucket, Key=entry["Key"])["Body"].read()
    assert body == DATA


async def test_from_files_reports_each_item(
    pixop_client: Pixop, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    first = tmp_path / "a.mp4"
    first.write_bytes(DATA[:5000])
    second = tmp_path / "b.mp4"
    second.write_bytes(DATA[5000:9000])
    reports = await pixop_client.imports.from_files(
        [first, LocalImportItem(second, "Bee", "custom/b.mp4"), tmp_path / "missing.mp4"],
        bucket=_keys(moto_s3, bucket),
        s3=moto_s3.connection(),
    )
    assert [r.ok for r in reports] == [True, True, False]
    assert reports[0].result is not None and reports[0].result.upload.key == "a.mp4"
    assert reports[1].result is not None and reports[1].result.upload.key == "custom/b.mp4"
    assert reports[2].error is not None and "missing.mp4" in reports[2].error


async def test_cli_import_file_json_and_human_output(
    pixop_emulator: EmulatorServer, moto_s3: MotoS3, tmp_path: Path
) -> None:
    from .cli_helpers import run_cli

    bucket = moto_s3.new_bucket()
    first = tmp_path / "first.mp4"
    first.write_bytes(DATA)
    second = tmp_path / "second.mov"
    second.write_bytes(DATA[:777])
    env = {"PIXOP_S3_SECRET_ACCESS_KEY": moto_s3.secret_key}
    run = await run_cli(
        pixop_emulator, "import", "file", str(first), str(second), "--bucket", bucket,
        "--access-key", moto_s3.access_key, "--endpoint-url", moto_s3.endpoint,
        "--key-prefix", "in/", "--wait", "--poll-interval", "0.05", "--json", env=env,
    )
    assert run.code == 0, run.err
    entries = json.loads(run.out)
    assert [e["objectKey"] for e in entries] == ["in/first.mp4", "in/second.mov"]
    assert [e["crc32c"] for e in entries] == [crc32c(DATA), crc32c(DATA[:777])]
    assert all(e["verified"] and e["ok"] for e in entries)
    assert moto_s3.secret_key not in run.out + run.err
    human = await run_cli(
        pixop_emulator, "import", "file", str(second), "--name", "Second", "--bucket", bucket,
        "--access-key", moto_s3.access_key, "--endpoint-url", moto_s3.endpoint,
        "--no-progress", env=env,
    )
    assert human.code == 0, human.err
    assert "CRC32C" in human.out and f"s3://{bucket}/second.mov" in human.out
    missing = await run_cli(
        pixop_emulator, "import", "file", str(first), "--bucket", bucket, "--endpoint-url",
        moto_s3.endpoint, env=env,
    )
    assert missing.code != 0 and "--access-key" in missing.err


async def test_from_files_rerun_skips_files_already_imported(
    pixop_client: Pixop, moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    first = tmp_path / "a.mp4"
    first.write_bytes(DATA[:3000])
    second = tmp_path / "b.mp4"
    state = tmp_path / "imports.state.json"
    options = {"bucket": _keys(moto_s3, bucket), "s3": moto_s3.connection(), "state_file": state}
    run1 = await pixop_client.imports.from_files([first, second], **options)
    assert [r.ok for r in run1] == [True, False]  # b.mp4 does not exist yet
    second.write_bytes(DATA[3000:5000])
    run2 = await pixop_client.imports.from_files([first, second], **options)
    assert run2[0].imported_before == str(run1[0].result.video_id)  # type: ignore[union-attr]
    assert run2[0].result is None
    assert run2[1].result is not None and run2[1].imported_before is None
    assert (state.stat().st_mode & 0o777) == 0o600
    first.write_bytes(DATA[:3001])  # a new version of a.mp4 is imported again
    run3 = await pixop_client.imports.from_files([first], **options)
    assert run3[0].result is not None
    state.write_text("not json")
    run4 = await pixop_client.imports.from_files([second], **options)
    assert run4[0].result is not None  # a bad state file is ignored, not trusted

"""Exports against the emulator: S3 stand-in buckets, failures, restarts, download URLs."""

from __future__ import annotations

import os
import shutil

import aiohttp
import google_crc32c
import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer, buckets
from pixop_async.errors import ConflictError, NotFoundError, OperationFailedError
from pixop_async.models.locations import S3BucketWithAccessKeys
from pixop_async.models.videos import OperationStatus

from .video_helpers import FAST, Events, fast_config, ingested_video, serve

DATA = os.urandom(1_200_000)
OUT = S3BucketWithAccessKeys("out-bucket", "AKIAOUTPUT99", "output-secret")


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return fast_config()


def _bucket(emu: EmulatorServer) -> None:
    buckets.create_bucket(
        emu.state, OUT.bucket, access_key=OUT.access_key, secret_access_key=OUT.secret_access_key
    )


async def test_export_writes_object_and_refuses_conflicts(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    _bucket(pixop_emulator)
    events = Events(pixop_emulator)
    video = ingested_video(pixop_emulator, DATA, name="result.mp4")
    started = await pixop_client.exports.to_s3(video["id"], OUT, "exports/")
    assert started.status == OperationStatus.IN_PROGRESS
    with pytest.raises(ConflictError) as running:
        await pixop_client.exports.to_s3(video["id"], OUT, "elsewhere")
    assert running.value.error_code == "VIDEO_ALREADY_BEING_COPIED_TO_OUTPUT_LOCATION"
    done = await pixop_client.exports.wait(video["id"], timeout=10, intervals=FAST)
    assert done.status == OperationStatus.DONE
    assert done.output.state is not None and done.output.state.progress_percentage == 100
    written = buckets.object_path(pixop_emulator.state, OUT.bucket, "exports/result.mp4")
    assert written.read_bytes() == DATA
    assert events.of(video["id"]) == ["video_out.started", "video_out.done"]

    with pytest.raises(ConflictError) as exists:
        await pixop_client.exports.to_s3(video["id"], OUT, "exports")
    assert exists.value.error_code == "OBJECT_ALREADY_EXISTS"
    missing = S3BucketWithAccessKeys("missing-bucket", "AKIA", "secret")
    with pytest.raises(NotFoundError) as no_bucket:
        await pixop_client.exports.to_s3(video["id"], missing, "exports")
    assert no_bucket.value.error_code == "BUCKET_NOT_FOUND"

    location = await pixop_client.output_locations.create(
        "archive", OUT.bucket, OUT.access_key, OUT.secret_access_key
    )
    await pixop_client.exports.to_s3_location(video["id"], location.id, "")
    await pixop_client.exports.wait(video["id"], timeout=10, intervals=FAST)
    top = buckets.object_path(pixop_emulator.state, OUT.bucket, "result.mp4")
    assert top.read_bytes() == DATA


async def test_failed_export_restart_and_abandon(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    _bucket(pixop_emulator)
    video = ingested_video(pixop_emulator, DATA)
    vid = video["id"]
    for call in (pixop_client.exports.restart, pixop_client.exports.abandon):
        with pytest.raises(ConflictError) as idle:
            await call(vid)
        assert idle.value.error_code == "VIDEO_OUT_OPERATION_NOT_FAILED"
    await pixop_client.exports.to_s3(vid, OUT, "a")
    # The bucket disappears while the copy runs: the export fails when it writes.
    shutil.rmtree(buckets.bucket_path(pixop_emulator.state, OUT.bucket))
    with pytest.raises(OperationFailedError) as failed:
        await pixop_client.exports.wait(vid, timeout=10, intervals=FAST)
    assert failed.value.state.status == OperationStatus.FAILED
    assert "no longer exists" in failed.value.state.output.state.error_message
    _bucket(pixop_emulator)
    with pytest.raises(ConflictError) as pending:
        await pixop_client.exports.to_s3(vid, OUT, "b")
    assert pending.value.error_code == "ONGOING_COPY_TO_OUTPUT_NEEDS_TO_BE_RESTARTED_OR_ABANDONED"
    restarted = await pixop_client.exports.restart(vid)
    assert restarted.status == OperationStatus.IN_PROGRESS
    await pixop_client.exports.wait(vid, timeout=10, intervals=FAST)
    assert buckets.object_path(pixop_emulator.state, OUT.bucket, "a/clip.mp4").exists()

    # Fail again (the key is taken meanwhile), then abandon: a new export may start.
    await pixop_client.exports.to_s3(vid, OUT, "c")
    buckets.put_object(pixop_emulator.state, OUT.bucket, "c/clip.mp4", b"someone else")
    with pytest.raises(OperationFailedError):
        await pixop_client.exports.wait(vid, timeout=10, intervals=FAST)
    await pixop_client.exports.abandon(vid)
    assert (await pixop_client.exports.status(vid)).output.state is None
    await pixop_client.exports.to_s3(vid, OUT, "d")
    await pixop_client.exports.wait(vid, timeout=10, intervals=FAST)


async def test_download_url_serves_ranges_with_real_checksum(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    video = ingested_video(pixop_emulator, DATA, name="final.mov")
    link = await pixop_client.exports.download_url(video["id"], duration_minutes=2)
    assert link.file_size == len(DATA)
    assert link.crc32c_checksum == google_crc32c.value(DATA)
    assert (link.mime_type, link.file_extension) == ("video/quicktime", "mov")
    assert link.suggested_file_name == "final.mov"
    assert link.presigned_url not in repr(link)
    lifetime = link.expires_at.timestamp() - pixop_emulator.state.clock.time()
    assert 100 < lifetime <= 120
    async with aiohttp.ClientSession() as http:
        async with http.get(link.presigned_url, headers={"Range": "bytes=1000-1999"}) as part:
            assert part.status == 206
            assert part.headers["Accept-Ranges"] == "bytes"
            assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(DATA)}"
            assert await part.read() == DATA[1000:2000]
            etag = part.headers["ETag"]
        async with http.head(link.presigned_url) as head:
            assert int(head.headers["Content-Length"]) == len(DATA)
        async with http.get(link.presigned_url, headers={"If-None-Match": etag}) as cached:
            assert cached.status == 304
        pixop_emulator.state.clock.advance(121)
        async with http.get(link.presigned_url) as expired:
            assert expired.status == 403


async def test_exports_refused_until_the_video_is_ready(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    _bucket(pixop_emulator)
    async with serve(DATA) as source:
        source.gate.clear()  # the import cannot finish
        started = await pixop_client.imports.from_https(
            source.url, "pending", allow_loopback_http=True
        )
        with pytest.raises(ConflictError) as not_ready:
            await pixop_client.exports.download_url(started.video_id)
        assert not_ready.value.error_code == "VIDEO_PROCESSING_NOT_DONE"
        with pytest.raises(ConflictError):
            await pixop_client.exports.to_s3(started.video_id, OUT, "x")
        source.gate.set()
        await pixop_client.imports.wait(started.video_id, timeout=10, intervals=FAST)
    link = await pixop_client.exports.download_url(started.video_id)
    assert link.file_size == len(DATA)

"""``px.downloads``: Pixop videos through the transfer engine, against the emulator."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from pixop_async import Pixop, TransferConfig
from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.media import MediaFault
from pixop_async.errors import ChecksumMismatchError, InvalidRequestError, NotFoundError
from pixop_async.transfer.bulk import ItemStatus
from pixop_async.transfer.checksum import crc32c

from .download_helpers import KiB, controls
from .video_helpers import ingested_video

DATA = os.urandom(2 * 1024 * KiB + 77)


async def test_download_names_verifies_and_renews_expired_urls(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    video = ingested_video(pixop_emulator, DATA, name="../Final Cut?.mov")
    ctl = controls(pixop_emulator)
    ctl.add(MediaFault("expire", skip=2))  # the pre-signed URL dies mid-download
    seen: list[int] = []
    async with Pixop(
        pixop_emulator.api_key,
        base_url=pixop_emulator.base_url,
        transfer=TransferConfig(part_size=256 * KiB, progress_interval=0),
    ) as px:
        result = await px.downloads.download(
            video["id"], tmp_path, connections=4, progress=lambda done, total: seen.append(done)
        )
    assert result.path == tmp_path / "Final Cut_.mov"
    assert result.path.read_bytes() == DATA
    assert result.crc32c == crc32c(DATA)
    assert result.size == len(DATA)
    assert seen[-1] == len(DATA)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Final Cut_.mov"]
    # a second issued URL means the expired one was renewed through the API
    assert len(pixop_emulator.state.presigned) == 2


async def test_download_to_explicit_path_and_damage_is_refused(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    video = ingested_video(pixop_emulator, DATA)
    target = tmp_path / "mine.bin"
    ok = await pixop_client.downloads.download(video["id"], target)
    assert ok.path == target and target.read_bytes() == DATA
    controls(pixop_emulator).add(MediaFault("corrupt", after=1000, times=50))
    with pytest.raises(ChecksumMismatchError):
        await pixop_client.downloads.download(video["id"], tmp_path / "bad.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.bin"]


async def test_download_validates_before_sending(pixop_client: Pixop, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="video_id"):
        await pixop_client.downloads.download("not-a-uuid", tmp_path)
    with pytest.raises(InvalidRequestError, match="duration_minutes"):
        await pixop_client.downloads.download(uuid.uuid4(), tmp_path, duration_minutes=61)
    with pytest.raises(InvalidRequestError, match="connections"):
        await pixop_client.downloads.download(uuid.uuid4(), tmp_path, connections=0)
    assert list(tmp_path.iterdir()) == []


async def test_download_many_videos(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    videos = [
        ingested_video(pixop_emulator, DATA[: 100 * KiB + i], name=f"v{i}.mp4") for i in range(3)
    ]
    (tmp_path / "v0.mp4").write_bytes(DATA[: 100 * KiB])  # already here and intact
    unknown = str(uuid.uuid4())
    ids = [v["id"] for v in videos] + [unknown]
    report = await pixop_client.downloads.download_many(ids, tmp_path)
    assert [r.status for r in report.items] == [
        ItemStatus.SKIPPED,
        ItemStatus.DONE,
        ItemStatus.DONE,
        ItemStatus.FAILED,
    ]
    assert isinstance(report.failed[0].error, NotFoundError)
    for i in range(3):
        assert (tmp_path / f"v{i}.mp4").read_bytes() == DATA[: 100 * KiB + i]


async def test_rerunning_download_many_with_one_suggested_name_adds_no_copy(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    videos = [
        ingested_video(pixop_emulator, DATA[: 100 * KiB + i], name="same.mp4") for i in range(2)
    ]
    ids = [v["id"] for v in videos]
    first = await pixop_client.downloads.download_many(ids, tmp_path)
    assert first.summary() == "2 done, 0 skipped, 0 failed"
    # the second video's copy is "same (1).mp4": a rerun used to look only at "same.mp4",
    # miss it and download the video again as "same (2).mp4", once more on every rerun
    again = await pixop_client.downloads.download_many(ids, tmp_path)
    assert again.summary() == "0 done, 2 skipped, 0 failed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same (1).mp4", "same.mp4"]


async def test_existing_copy_finds_only_a_complete_regular_file(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    # The public check the CLI's bulk download uses before fetching (it used to reach into
    # the resource's private helpers).
    videos = [
        ingested_video(pixop_emulator, DATA[: 100 * KiB + i], name="same.mp4") for i in range(2)
    ]
    records = [await pixop_client.exports.download_url(v["id"]) for v in videos]
    downloads = pixop_client.downloads
    directory = tmp_path / "dir"
    assert await downloads.existing_copy(records[0], directory) is None
    assert not directory.exists()  # a check creates nothing
    await downloads.download_many([v["id"] for v in videos], directory)
    # the two items run at once: which one claims "same.mp4" first is not fixed (b16: this
    # test assumed the first item always did, and failed now and then under load)
    found = [
        await downloads.existing_copy(records[0], directory),
        await downloads.existing_copy(records[1], f"{directory}/"),
    ]
    assert sorted(p.name for p in found if p is not None) == ["same (1).mp4", "same.mp4"]
    assert [p.read_bytes() for p in found if p is not None] == [
        DATA[: 100 * KiB + i] for i in range(2)
    ]
    single = tmp_path / "one.bin"
    assert await downloads.existing_copy(records[0], single) is None
    single.write_bytes(DATA[: 100 * KiB])
    assert await downloads.existing_copy(records[0], single) == single
    assert await downloads.existing_copy(records[1], single) is None  # size differs
    single.write_bytes(bytes(100 * KiB))  # right size, wrong bytes
    assert await downloads.existing_copy(records[0], single) is None
    link = tmp_path / "link.bin"
    link.symlink_to(directory / "same.mp4")
    assert await downloads.existing_copy(records[0], link) is None  # a link is not a copy


async def test_download_many_into_a_directory_that_does_not_exist_yet(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    # It used to write the first video as a file named like the directory and refuse the
    # others ("another download is already writing to new").
    videos = [
        ingested_video(pixop_emulator, DATA[: 10 * KiB + i], name=f"n{i}.mp4") for i in range(2)
    ]
    report = await pixop_client.downloads.download_many([v["id"] for v in videos], tmp_path / "new")
    assert report.summary() == "2 done, 0 skipped, 0 failed"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["n0.mp4", "n1.mp4"]


async def test_downloading_a_video_again_to_its_file_costs_no_media_request(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    video = ingested_video(pixop_emulator, DATA)
    target = tmp_path / "mine.bin"
    first = await pixop_client.downloads.download(video["id"], target)
    assert first.outcome == "downloaded"
    ctl = controls(pixop_emulator)
    before, sent = ctl.requests, ctl.bytes_sent
    again = await pixop_client.downloads.download(video["id"], target)
    # the file carries the API's CRC32C and size: hashed, then skipped; at most one
    # conditional media request (answered 304), no body
    assert again.outcome == "skipped" and again.bytes_fetched == 0
    assert again.crc32c == crc32c(DATA) and target.read_bytes() == DATA
    assert ctl.requests - before <= 1 and ctl.bytes_sent == sent
    with target.open("r+b") as handle:  # damaged in place: fetched again
        handle.write(b"\0\0\0")
    fixed = await pixop_client.downloads.download(video["id"], target)
    assert fixed.outcome == "downloaded" and target.read_bytes() == DATA

"""``download_many`` / ``upload_many``: shared limits, per-item reports, failures isolated."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import InvalidRequestError, NotFoundError
from pixop_async.transfer.bulk import (
    DownloadItem,
    ItemStatus,
    UploadItem,
    download_many,
    upload_many,
)
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.scheduler import Scheduler

from .download_helpers import KiB, config, http, serve
from .test_upload import Receiver, receiver

__all__ = ["http", "receiver"]


async def test_download_many_reports_done_failed_and_skipped(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    sources = [serve(pixop_emulator, os.urandom(100 * KiB + i)) for i in range(6)]
    missing = serve(pixop_emulator, b"gone")
    missing.path.unlink()
    (tmp_path / "f0").write_bytes(sources[0].data)  # already complete: skipped
    (tmp_path / "f1").write_bytes(b"stale")  # wrong CRC: downloaded again
    items = [
        DownloadItem(s.url, tmp_path / f"f{i}", expected_crc32c=s.crc)
        for i, s in enumerate(sources)
    ]
    items.insert(3, DownloadItem(missing.url, tmp_path / "missing"))
    finished: list[int] = []
    scheduler = Scheduler(config(max_connections=3, max_concurrent_files=2))
    report = await download_many(
        http,
        items,
        part_size=32 * KiB,
        progress=lambda done, total: finished.append(done),
        scheduler=scheduler,
    )
    statuses = [r.status for r in report.items]
    assert statuses == [
        ItemStatus.SKIPPED,
        ItemStatus.DONE,
        ItemStatus.DONE,
        ItemStatus.FAILED,
        ItemStatus.DONE,
        ItemStatus.DONE,
        ItemStatus.DONE,
    ]
    assert isinstance(report.failed[0].error, NotFoundError)
    assert not report.ok
    assert report.summary() == "5 done, 1 skipped, 1 failed"
    for i, s in enumerate(sources):
        assert (tmp_path / f"f{i}").read_bytes() == s.data
    assert not (tmp_path / "missing").exists()
    assert finished == list(range(1, 8))
    assert scheduler.peak_connections <= 3


async def test_download_many_accepts_pairs(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    sources = [serve(pixop_emulator, os.urandom(10 * KiB), name=f"n{i}.bin") for i in range(3)]
    report = await download_many(http, [(s.url, tmp_path) for s in sources], config=config())
    assert report.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n0.bin", "n1.bin", "n2.bin"]


async def test_upload_many_keeps_going_past_failures(
    receiver: Receiver, http: HttpSession, tmp_path: Path
) -> None:
    paths = []
    for i in range(4):
        path = tmp_path / f"u{i}.bin"
        path.write_bytes(os.urandom(50 * KiB + i))
        paths.append(path)
    items = [UploadItem(receiver.base + "/upload", p) for p in paths]
    items.insert(1, UploadItem(receiver.base + "/upload", tmp_path / "does-not-exist"))
    report = await upload_many(http, items, config=config(max_concurrent_files=2))
    assert [r.status for r in report.items] == [
        ItemStatus.DONE,
        ItemStatus.FAILED,
        ItemStatus.DONE,
        ItemStatus.DONE,
        ItemStatus.DONE,
    ]
    assert isinstance(report.failed[0].error, FileNotFoundError)
    for item in report.done:
        assert item.result is not None
        assert item.result.json()["file"]["crc"] == crc32c(Path(item.item.path).read_bytes())


async def test_standalone_bulk_functions_need_no_session(
    pixop_emulator: EmulatorServer, receiver: Receiver, tmp_path: Path
) -> None:
    """``pixop_async.download_many`` / ``upload_many`` open and close their own session."""
    import pixop_async

    sources = [serve(pixop_emulator, os.urandom(20 * KiB + i), name=f"s{i}.bin") for i in range(3)]
    downloads = await pixop_async.download_many(
        [pixop_async.DownloadItem(s.url, tmp_path, expected_crc32c=s.crc) for s in sources],
        config=config(max_connections=2),
    )
    assert downloads.ok and downloads.summary() == "3 done, 0 skipped, 0 failed"
    for i, s in enumerate(sources):
        assert (tmp_path / f"s{i}.bin").read_bytes() == s.data
    again = await pixop_async.download_many(
        [(s.url, tmp_path / f"s{i}.bin") for i, s in enumerate(sources)]
    )
    assert [r.status for r in again.items] == [ItemStatus.SKIPPED] * 3
    uploads = await pixop_async.upload_many(
        [pixop_async.UploadItem(receiver.base + "/upload", tmp_path / "s0.bin")],
        config=config(),
    )
    assert uploads.ok
    assert uploads.done[0].result is not None
    assert uploads.done[0].result.json()["file"]["crc"] == sources[0].crc


async def test_download_many_checks_headers_before_sending(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    good = serve(pixop_emulator, os.urandom(4 * KiB), name="good.bin")
    bad = serve(pixop_emulator, os.urandom(4 * KiB), name="bad.bin")
    # shared headers are refused before any request
    with pytest.raises(InvalidRequestError, match="headers: 'X-A' must not contain CR, LF"):
        await download_many(http, [(good.url, tmp_path)], headers={"X-A": "a\nb"}, config=config())
    # an item's own bad header fails that item alone, as an InvalidRequestError naming it
    items = [
        DownloadItem(good.url, tmp_path / "good.bin"),
        DownloadItem(bad.url, tmp_path / "bad.bin", headers={"X-A": "a\x00b"}),
    ]
    report = await download_many(http, items, config=config())
    assert [r.status for r in report.items] == [ItemStatus.DONE, ItemStatus.FAILED]
    error = report.items[1].error
    assert isinstance(error, InvalidRequestError) and error.field == "item.headers"
    assert not (tmp_path / "bad.bin").exists()


async def test_upload_many_checks_headers_per_item_and_shared(
    receiver: Receiver, http: HttpSession, tmp_path: Path
) -> None:
    path = tmp_path / "u.bin"
    path.write_bytes(os.urandom(10 * KiB))
    url = receiver.base + "/upload"
    # shared headers are refused before any request
    with pytest.raises(InvalidRequestError) as caught:
        await upload_many(http, [UploadItem(url, path)], headers={"Content-Type": "x/y"})
    assert caught.value.field == "headers"
    # an item's headers that are not a mapping, or name a framing header, fail that item alone
    items = [
        UploadItem(url, path, headers={"X-Trace": "1"}),
        UploadItem(url, path, headers=[("X-A", "1")]),  # type: ignore[arg-type]
        UploadItem(url, path, headers={"Content-Length": "5"}),
    ]
    report = await upload_many(http, items, config=config())
    assert [r.status for r in report.items] == [
        ItemStatus.DONE,
        ItemStatus.FAILED,
        ItemStatus.FAILED,
    ]
    for failed in report.failed:
        assert isinstance(failed.error, InvalidRequestError)
        assert failed.error.field == "item.headers"

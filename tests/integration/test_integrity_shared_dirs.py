"""Issue 10: shared directories and names the caller did not choose.

Another local user plants links where our temp file or journal will be, swaps the temp
file or the directory mid-download, or a server offers names of other files. Nothing may
be written through a link, no file the caller did not name is replaced, and every
"done" is true to the disk.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from typing import Any

import pytest

from pixop_async import errors
from pixop_async._session import HttpSession
from pixop_async.errors import PathBusyError, PathSwappedError
from pixop_async.transfer import DownloadItem
from pixop_async.transfer.bulk import download_many
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, http
from .integrity_server import Store, store

PART = 64 * KiB
DATA = os.urandom(4 * PART + 5)
VICTIM = b"precious bytes of another file"

__all__ = ["http"]


async def _get(http: HttpSession, server: Store, dest: Path, **kwargs: Any) -> Any:
    settings: dict[str, Any] = {"part_size": PART, "connections": 2, "config": config()}
    settings.update(kwargs)
    return await download(http, server.url, dest, **settings)


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.mkdir(exist_ok=True)
    path = victim / "data.bin"
    path.write_bytes(VICTIM)
    return path


@pytest.mark.parametrize(
    "planted", [".pixop-part", ".pixop-part.journal", ".pixop-part.journal.tmp"]
)
async def test_symlinks_planted_beside_the_destination_are_never_followed(
    http: HttpSession, tmp_path: Path, planted: str
) -> None:
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / ("f" + planted)).symlink_to(victim)
    async with store(DATA) as server:
        result = await _get(http, server, out / "f")
    assert victim.read_bytes() == VICTIM
    assert (out / "f").read_bytes() == DATA and result.crc32c == crc32c(DATA)
    assert sorted(p.name for p in out.iterdir()) == ["f"]


async def test_a_hard_link_planted_as_the_temp_file_is_not_reused(
    http: HttpSession, tmp_path: Path
) -> None:
    victim = _victim(tmp_path)
    victim.write_bytes(bytes(len(DATA)))  # the size a resume would look for
    out = tmp_path / "out"
    out.mkdir()
    os.link(victim, out / "f.pixop-part")
    async with store(DATA) as server:
        await _get(http, server, out / "f")
    assert victim.read_bytes() == bytes(len(DATA))
    assert (out / "f").read_bytes() == DATA


async def test_a_temp_file_swapped_before_publishing_is_not_published(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    temp = tmp_path / "f.pixop-part"
    swapped = False

    def progress(done: int, total: int | None) -> None:
        nonlocal swapped
        if not swapped and total and done >= total // 2:
            swapped = True
            temp.rename(tmp_path / "moved-away")
            temp.write_bytes(b"planted")

    async with store(DATA) as server:
        with pytest.raises(PathSwappedError):
            await _get(http, server, dest, progress=progress)
    assert swapped and not dest.exists()


async def test_a_destination_directory_swapped_for_a_link_gets_nothing(
    http: HttpSession, tmp_path: Path
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    swapped = False

    def progress(done: int, total: int | None) -> None:
        nonlocal swapped
        if not swapped and total and done >= total // 2:
            swapped = True
            out.rename(tmp_path / "out.old")
            out.symlink_to(elsewhere)

    async with store(DATA) as server:
        with pytest.raises(PathSwappedError):
            await _get(http, server, out / "f", progress=progress)
    assert swapped and list(elsewhere.iterdir()) == []


# -- names the caller did not choose ------------------------------------------------------


async def test_a_server_name_never_replaces_an_existing_file(
    http: HttpSession, tmp_path: Path
) -> None:
    (tmp_path / "clip.mp4").write_bytes(VICTIM)
    async with store(DATA, extra={"Content-Disposition": 'attachment; filename="clip.mp4"'}) as s:
        result = await _get(http, s, tmp_path)
    assert result.path == tmp_path / "clip (1).mp4"
    assert (tmp_path / "clip.mp4").read_bytes() == VICTIM
    assert result.path.read_bytes() == DATA and result.crc32c == crc32c(DATA)


@pytest.mark.parametrize(
    "offered", ["other.mp4.pixop-part", "other.mp4.pixop-part.journal", "x.pixop-part.journal.tmp"]
)
async def test_a_server_name_cannot_be_one_of_our_temp_files(
    http: HttpSession, tmp_path: Path, offered: str
) -> None:
    (tmp_path / "other.mp4.pixop-part").write_bytes(VICTIM)  # another item's temp file
    disposition = f'attachment; filename="{offered}"'
    async with store(DATA, extra={"Content-Disposition": disposition}) as server:
        result = await _get(http, server, tmp_path)
    assert not result.path.name.endswith((".pixop-part", ".journal", ".tmp"))
    assert (tmp_path / "other.mp4.pixop-part").read_bytes() == VICTIM
    assert result.path.read_bytes() == DATA


async def test_a_caller_path_named_like_a_temp_file_is_refused(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(DATA) as server:
        with pytest.raises(PathBusyError):
            await _get(http, server, tmp_path / "x.mp4.pixop-part")
    assert list(tmp_path.iterdir()) == []


async def test_bulk_items_with_one_server_name_get_one_file_each(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(DATA, extra={"Content-Disposition": 'attachment; filename="a.mp4"'}) as s:
        report = await download_many(
            http, [DownloadItem(s.url, tmp_path)] * 3, part_size=PART, config=config()
        )
    assert report.summary() == "3 done, 0 skipped, 0 failed"
    paths = {r.result.path for r in report.done if r.result is not None}
    assert paths == {tmp_path / "a.mp4", tmp_path / "a (1).mp4", tmp_path / "a (2).mp4"}
    for r in report.done:
        assert r.result is not None and crc32c(r.result.path.read_bytes()) == r.result.crc32c


async def test_two_downloads_to_one_path_never_report_two_successes(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(DATA, drip=8 * KiB, drip_delay=0.005) as server:
        outcomes = await asyncio.gather(
            _get(http, server, dest), _get(http, server, dest), return_exceptions=True
        )
        report = await download_many(
            http,
            [DownloadItem(server.url, tmp_path / "g")] * 2,
            part_size=PART,
            skip_existing=False,
            config=config(),
        )
    assert sorted(type(o).__name__ for o in outcomes) == ["DownloadResult", "PathBusyError"]
    assert dest.read_bytes() == DATA
    assert report.summary() == "1 done, 0 skipped, 1 failed"
    assert isinstance(report.failed[0].error, errors.TransferError)


async def test_a_temp_file_locked_by_another_process_is_left_alone(
    http: HttpSession, tmp_path: Path
) -> None:
    temp = tmp_path / "f.pixop-part"
    temp.write_bytes(VICTIM)
    with open(temp, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another process's live download would
        async with store(DATA) as server:
            with pytest.raises(PathBusyError):
                await _get(http, server, tmp_path / "f")
    assert temp.read_bytes() == VICTIM and not (tmp_path / "f").exists()

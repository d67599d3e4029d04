"""Break-10 review: cases the first integrity pass missed (each one failed before its fix).

304s that vouch for a file that is not there, weak ETags that reveal a same-second
replacement, bodies of unknown length, junk left by downloads that cannot resume.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from pixop_async import RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.transfer import DownloadItem
from pixop_async.transfer.bulk import download_many
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from tests.servers import serve

from .download_helpers import KiB, config, http, leftovers
from .integrity_server import Store, store

PART = 64 * KiB
V1 = os.urandom(5 * PART + 77)
V2 = os.urandom(len(V1))
DATE1 = "Wed, 21 Oct 2026 07:28:00 GMT"
NO_RETRY = RetryPolicy(max_attempts=1)

__all__ = ["http"]


async def _get(http: HttpSession, server: Store, dest: Path, **kwargs: object) -> object:
    settings = {"part_size": PART, "connections": 3, "config": config()}
    settings.update(kwargs)
    return await download(http, server.url, dest, **settings)  # type: ignore[arg-type]


# -- 304 -------------------------------------------------------------------------------------


async def test_a_304_never_reports_the_expected_crc_for_other_bytes(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    dest.write_bytes(b"local, not V1")
    async with store(V1, first_status=304) as server:
        result = await _get(http, server, dest, if_none_match='"v1"', expected_crc32c=crc32c(V1))
    assert result.crc32c == crc32c(b"local, not V1")  # type: ignore[attr-defined]


async def test_a_304_for_a_file_that_is_not_there_is_an_error(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(V1, first_status=304) as server:
        with pytest.raises(errors.TransferError, match="304"):
            await _get(http, server, tmp_path / "f", if_none_match='"v1"')
    assert leftovers(tmp_path) == []


async def test_a_304_into_a_directory_names_the_existing_file(
    http: HttpSession, tmp_path: Path
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"local")
    async with store(V1, first_status=304) as server:
        result = await _get(http, server, tmp_path, if_none_match='"v1"')
    assert result.path == tmp_path / "clip.mp4"  # type: ignore[attr-defined]
    assert result.crc32c == crc32c(b"local")  # type: ignore[attr-defined]
    assert leftovers(tmp_path) == ["clip.mp4"]


# -- weak ETag + Last-Modified ------------------------------------------------------------------


async def test_a_weak_etag_that_changes_reveals_a_same_second_replacement(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(V1, etag='W/"v1"', last_modified=DATE1) as server:

        def before(server: Store, count: int) -> None:
            if count == 2:
                server.replace(V2, 'W/"v2"', DATE1)  # same second, same size

        server.before = before
        try:
            result = await _get(http, server, dest)
        except errors.TransferError:
            assert not dest.exists()
            return
    assert dest.read_bytes() in (V1, V2)
    assert result.crc32c == crc32c(dest.read_bytes())  # type: ignore[attr-defined]


# -- bodies of unknown length ------------------------------------------------------------------


async def test_no_junk_after_a_failed_single_stream(http: HttpSession, tmp_path: Path) -> None:
    async with store(V1, etag=None) as server:

        def before(server: Store, count: int) -> None:
            server.partial_always = count >= 1

        server.before = before
        with pytest.raises(errors.TransferError, match="206"):
            await _get(http, server, tmp_path / "f", config=config(retry=NO_RETRY))
    assert leftovers(tmp_path) == []


async def test_no_junk_after_a_failed_unpinned_stream(http: HttpSession, tmp_path: Path) -> None:
    # no validator: the whole object in one plain request, which fails
    async with store(V1, etag=None, fail_from=1) as server:
        with pytest.raises(errors.APIStatusError):
            await _get(http, server, tmp_path / "f", config=config(retry=NO_RETRY))
    assert leftovers(tmp_path) == []


async def test_no_junk_after_a_failed_download_without_resume(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(V1, fail_from=2) as server:
        with pytest.raises(errors.APIStatusError):
            await _get(http, server, tmp_path / "f", resume=False, config=config(retry=NO_RETRY))
    assert leftovers(tmp_path) == []


async def test_a_resumable_failure_keeps_its_temp_file_and_journal(
    http: HttpSession, tmp_path: Path
) -> None:
    # the first answer breaks off after parts 0 and 1; the retry gets a 503
    async with store(V1, break_at=2 * PART, fail_from=1) as server:
        with pytest.raises(errors.APIStatusError):
            await _get(http, server, tmp_path / "f", connections=1, config=config(retry=NO_RETRY))
        server.break_at, server.fail_from = None, None
        result = await _get(http, server, tmp_path / "f")
    assert (tmp_path / "f").read_bytes() == V1
    assert result.crc32c == crc32c(V1)  # type: ignore[attr-defined]
    assert result.bytes_fetched < len(V1)  # type: ignore[attr-defined]


# -- another process's live download ---------------------------------------------------------


@pytest.mark.parametrize("etag", ['"v1"', None])
async def test_a_live_download_keeps_its_journal_and_temp_file(
    http: HttpSession, tmp_path: Path, etag: str | None
) -> None:
    import fcntl

    temp, journal = tmp_path / "f.pixop-part", tmp_path / "f.pixop-part.journal"
    temp.write_bytes(b"theirs")
    journal.write_bytes(b"their journal")
    with open(temp, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another process's live download would
        async with store(V1, etag=etag) as server:
            with pytest.raises(errors.PathBusyError):
                await _get(http, server, tmp_path / "f")
    assert temp.read_bytes() == b"theirs" and journal.read_bytes() == b"their journal"
    assert leftovers(tmp_path) == ["f.pixop-part", "f.pixop-part.journal"]


# -- a body of unknown length ---------------------------------------------------------------


@pytest.mark.parametrize("served", [V1[:1000], V1])
async def test_a_chunked_body_is_held_to_the_expected_size(
    http: HttpSession, tmp_path: Path, served: bytes
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()  # no Content-Length: the size is unknown
        await response.prepare(request)
        for i in range(0, len(served), 4096):
            await response.write(served[i : i + 4096])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/o/clip.mp4", handler)
    async with serve(app) as root:
        with pytest.raises(errors.PixopError):
            await download(
                http,
                root + "/o/clip.mp4",
                tmp_path / "f",
                expected_size=len(V1) // 2,
                config=config(retry=NO_RETRY),
            )
        result = await download(http, root + "/o/clip.mp4", tmp_path / "g", config=config())
    assert (tmp_path / "g").read_bytes() == served and result.size == len(served)
    assert leftovers(tmp_path) == ["g"]


# -- bulk items naming one file ------------------------------------------------------------


@pytest.mark.parametrize("files", [1, 4])
async def test_bulk_items_naming_one_file_are_never_reported_skipped_or_done_twice(
    http: HttpSession, tmp_path: Path, files: int
) -> None:
    (tmp_path / "sub").mkdir()
    seen: list[tuple[int, int]] = []
    async with store(V1) as first, store(V2, etag='"v2"') as second:
        report = await download_many(
            http,
            [
                DownloadItem(first.url, tmp_path / "g"),
                DownloadItem(second.url, tmp_path / "sub" / ".." / "g"),  # the same file
                DownloadItem(second.url, tmp_path / "h"),
            ],
            part_size=PART,
            config=config(max_concurrent_files=files),
            progress=lambda done, total: seen.append((done, total)),
        )
    # one at a time, the second item used to be "skipped" with V1's bytes at its path
    assert [r.status.value for r in report.items] == ["done", "failed", "done"]
    assert isinstance(report.items[1].error, errors.PathBusyError)
    assert (tmp_path / "g").read_bytes() == V1 and (tmp_path / "h").read_bytes() == V2
    assert report.items[0].result is not None
    assert report.items[0].result.crc32c == crc32c(V1)
    assert seen[-1] == (3, 3)


# -- a journal that cannot be written ------------------------------------------------------


@pytest.mark.parametrize("where", ["f.pixop-part.journal.tmp", "f.pixop-part.journal"])
async def test_a_journal_that_cannot_be_written_does_not_fail_the_download(
    http: HttpSession, tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    # a directory planted where the journal (or its temp copy) goes: every journal write
    # fails, like on a disk with room for the file but not for its journal (a full tmpfs
    # failed the download and left a half-written .journal.tmp); after publishing, removing
    # the journal failed and the published download was reported as an error
    planted = tmp_path / where
    planted.mkdir()
    (planted / "keep").write_bytes(b"x")
    async with store(V1) as server:
        result = await _get(http, server, tmp_path / "f")
    assert (tmp_path / "f").read_bytes() == V1
    assert result.crc32c == crc32c(V1)  # type: ignore[attr-defined]
    assert (planted / "keep").read_bytes() == b"x"
    assert leftovers(tmp_path) == sorted(["f", where])
    assert "could not save the resume journal" in caplog.text


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs the right to mount; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_a_full_disk_with_room_for_the_file_but_not_its_journal(
    http: HttpSession, small_disk: Path
) -> None:
    data = os.urandom(2 * 1024 * 1024 - 4096)  # fits, leaving no page for the journal
    async with store(data) as server:
        result = await _get(http, server, small_disk / "f")
    assert (small_disk / "f").read_bytes() == data
    assert result.crc32c == crc32c(data)  # type: ignore[attr-defined]
    assert leftovers(small_disk) == ["f"]


@pytest.mark.parametrize("etag", ['"v1"', None])
async def test_a_full_disk_leaves_nothing_behind(
    http: HttpSession, small_disk: Path, etag: str | None
) -> None:
    async with store(os.urandom(3 * 1024 * 1024), etag=etag) as server:
        with pytest.raises(errors.LocalFileError) as caught:
            await _get(http, server, small_disk / "f")
    assert caught.value.errno == errno.ENOSPC
    assert leftovers(small_disk) == []


# -- a directory destination resumes ------------------------------------------------------


async def test_a_download_into_a_directory_resumes_under_its_name(
    http: HttpSession, tmp_path: Path
) -> None:
    # the temp file of the first attempt used to make the rerun pick "clip (1).mp4",
    # fetch everything again and leave the old temp file and journal behind for good
    # one connection: parts 0 to 2 arrive, then the answer breaks off and the retry fails
    async with store(V1, break_at=3 * PART, fail_from=1) as server:
        with pytest.raises(errors.APIStatusError):
            await _get(http, server, tmp_path, connections=1, config=config(retry=NO_RETRY))
        assert leftovers(tmp_path) == ["clip.mp4.pixop-part", "clip.mp4.pixop-part.journal"]
        server.break_at, server.fail_from = None, None
        result = await _get(http, server, tmp_path)
    assert result.path == tmp_path / "clip.mp4"  # type: ignore[attr-defined]
    assert result.bytes_fetched < len(V1)  # type: ignore[attr-defined]
    assert result.crc32c == crc32c(V1) and result.path.read_bytes() == V1  # type: ignore[attr-defined]
    assert leftovers(tmp_path) == ["clip.mp4"]


async def test_another_objects_unfinished_attempt_is_left_alone(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(V1, fail_from=3) as other:
        with pytest.raises(errors.APIStatusError):
            await _get(http, other, tmp_path, config=config(retry=NO_RETRY))
    before = (tmp_path / "clip.mp4.pixop-part").read_bytes()
    async with store(V2, etag='"v2"') as server:  # another object, the same server name
        result = await _get(http, server, tmp_path)
    assert result.path == tmp_path / "clip (1).mp4"  # type: ignore[attr-defined]
    assert result.path.read_bytes() == V2  # type: ignore[attr-defined]
    assert (tmp_path / "clip.mp4.pixop-part").read_bytes() == before
    assert leftovers(tmp_path) == [
        "clip (1).mp4",
        "clip.mp4.pixop-part",
        "clip.mp4.pixop-part.journal",
    ]


async def test_a_link_planted_at_a_bulk_destination_is_not_reported_skipped(
    http: HttpSession, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"not the download")
    (tmp_path / "g").symlink_to(elsewhere)
    async with store(V1) as server:
        report = await download_many(
            http, [DownloadItem(server.url, tmp_path / "g")], part_size=PART, config=config()
        )
    assert report.summary() == "1 done, 0 skipped, 0 failed"
    assert not (tmp_path / "g").is_symlink() and (tmp_path / "g").read_bytes() == V1
    assert elsewhere.read_bytes() == b"not the download"


async def test_a_part_without_the_pinned_etag_is_not_trusted(
    http: HttpSession, tmp_path: Path
) -> None:
    # a store ignoring If-Match that replaces the object and drops the ETag: later parts
    # were taken as the pinned version and a mix of both was published
    dest = tmp_path / "f"
    async with store(V1, honour_preconditions=False) as server:

        def before(server: Store, count: int) -> None:
            if count == 2:
                server.replace(V2, None, None)

        server.before = before
        result = await _get(http, server, dest)
    assert dest.read_bytes() == V2  # wholly the new version, in one stream
    assert result.crc32c == crc32c(V2)  # type: ignore[attr-defined]

"""Issue 10: the final path holds exactly the verified bytes, or nothing.

Hostile answers against a real local store (:mod:`.integrity_server`): encoded bodies,
objects replaced mid-download with and without validators, stray 304s, sizes and ranges
that do not add up. Each ends in the exact bytes or a typed error with nothing published.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pixop_async import RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.errors import EncodedBodyError
from pixop_async.transfer import DownloadItem
from pixop_async.transfer.bulk import download_many
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, http, leftovers
from .integrity_server import Store, store

PART = 64 * KiB
V1 = os.urandom(5 * PART + 77)
V2 = os.urandom(len(V1))  # the same size: only validators can tell the versions apart
DATE1 = "Wed, 21 Oct 2026 07:28:00 GMT"
DATE2 = "Thu, 22 Oct 2026 07:28:00 GMT"
NO_RETRY = RetryPolicy(max_attempts=1)

__all__ = ["http"]


async def _get(http: HttpSession, server: Store, dest: Path, **kwargs: object) -> object:
    settings = {"part_size": PART, "connections": 3, "config": config()}
    settings.update(kwargs)
    return await download(http, server.url, dest, **settings)  # type: ignore[arg-type]


def _replace_after(n: int, data: bytes, etag: str | None, date: str | None):  # type: ignore[no-untyped-def]
    def before(server: Store, count: int) -> None:
        if count == n:
            server.replace(data, etag, date)

    return before


# -- Content-Encoding -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["all", "later"])
async def test_encoded_bodies_are_refused_and_nothing_is_published(
    http: HttpSession, tmp_path: Path, mode: str
) -> None:
    dest = tmp_path / "f"
    async with store(V1, gzip=mode) as server:
        with pytest.raises(EncodedBodyError, match="gzip"):
            await _get(http, server, dest, headers={"Accept-Encoding": "gzip, br"})
    assert not dest.exists()
    assert all(h["Accept-Encoding"] == "identity" for h in server.seen)
    assert not [n for n in leftovers(tmp_path) if not n.endswith((".pixop-part", ".journal"))]


async def test_encoded_whole_body_of_a_server_ignoring_ranges_is_refused(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(V1, gzip="all", partial_always=False) as server:
        server.etag = None
        with pytest.raises(EncodedBodyError):
            await _get(http, server, tmp_path / "f")
    assert leftovers(tmp_path) == []


# -- object identity ---------------------------------------------------------------------


async def test_last_modified_pins_parts_and_a_replaced_object_restarts_whole(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(V1, etag=None, last_modified=DATE1) as server:
        server.before = _replace_after(2, V2, None, DATE2)
        result = await _get(http, server, dest)
    assert dest.read_bytes() == V2  # never a mix of both versions
    assert result.crc32c == crc32c(V2)  # type: ignore[attr-defined]
    assert result.pinned == "last-modified"  # type: ignore[attr-defined]
    pinned = [h for h in server.seen if "If-Range" in h]
    assert pinned and all(h["If-Unmodified-Since"] == h["If-Range"] for h in pinned)
    assert len(server.seen) - len(pinned) == 2  # one probe per version


async def test_a_store_ignoring_preconditions_is_caught_by_its_last_modified(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(V1, etag=None, last_modified=DATE1, honour_preconditions=False) as server:
        server.before = _replace_after(2, V2, None, DATE2)
        await _get(http, server, dest)
    assert dest.read_bytes() == V2


async def test_without_validators_one_stream_and_never_a_mixed_file(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(V1, etag=None) as server:
        server.before = _replace_after(1, V2, None, None)  # replaced right after the probe
        result = await _get(http, server, dest)
    assert dest.read_bytes() == V2
    assert result.pinned is None and result.crc32c == crc32c(V2)  # type: ignore[attr-defined]
    assert len(server.seen) == 2 and "Range" not in server.seen[1]
    assert leftovers(tmp_path) == ["f"]


async def test_without_validators_a_broken_stream_is_not_resumed(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(V1, etag=None, drip=PART, cut_after=2 * PART) as server:
        with pytest.raises(errors.APIConnectionError):
            await _get(http, server, dest, config=config(retry=NO_RETRY))
    assert not dest.exists()
    assert not any(n.endswith(".journal") for n in leftovers(tmp_path))


async def test_etag_pinned_part_of_another_version_restarts(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(V1, honour_preconditions=False) as server:
        server.before = _replace_after(2, V2, '"v2"', None)
        await _get(http, server, dest)
    assert dest.read_bytes() == V2


# -- 304 ---------------------------------------------------------------------------------


async def test_a_304_nobody_asked_for_is_an_error(http: HttpSession, tmp_path: Path) -> None:
    async with store(V1, first_status=304) as server:
        with pytest.raises(errors.TransferError, match="304"):
            await _get(http, server, tmp_path / "f")
        server.seen.clear()
        report = await download_many(
            http, [DownloadItem(server.url, tmp_path / "g")], part_size=PART, config=config()
        )
    assert [r.status.value for r in report.items] == ["failed"]
    assert leftovers(tmp_path) == []


async def test_a_304_to_if_none_match_leaves_the_file(http: HttpSession, tmp_path: Path) -> None:
    dest = tmp_path / "f"
    dest.write_bytes(b"local")
    async with store(V1, first_status=304) as server:
        result = await _get(http, server, dest, if_none_match='"v1"')
    assert result.not_modified and dest.read_bytes() == b"local"  # type: ignore[attr-defined]
    assert result.crc32c == crc32c(b"local")  # type: ignore[attr-defined]


# -- sizes and ranges that do not add up -----------------------------------------------------


async def test_an_impossible_size_is_refused_before_anything_is_written(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(V1, shown_total=2**70) as server:
        with pytest.raises(errors.TransferError, match="impossible size"):
            await _get(http, server, tmp_path / "f")
    assert leftovers(tmp_path) == []


async def test_a_206_to_a_plain_request_is_refused(http: HttpSession, tmp_path: Path) -> None:
    # no validators: the engine asks for the whole object, and gets a "partial" answer
    async with store(V1, etag=None) as server:

        def before(server: Store, count: int) -> None:
            server.partial_always = count >= 1

        server.before = before
        with pytest.raises(errors.TransferError, match="206"):
            await _get(http, server, tmp_path / "f", config=config(retry=NO_RETRY))
    assert not (tmp_path / "f").exists()


async def test_a_part_claiming_another_total_size_is_refused(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(V1) as server:
        server.before = _replace_after(2, V1 + b"x", '"v1"', None)  # same ETag, new size
        with pytest.raises(errors.TransferError):
            await _get(http, server, tmp_path / "f", config=config(max_restarts=0))
    assert not (tmp_path / "f").exists()

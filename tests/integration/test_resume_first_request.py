"""Issue 12: a resumed download's first request asks for the first missing byte on.

The journal is read with the destination, before any request, so the first request of a
resume is pinned to the journaled version (``If-Range`` + ``If-Match`` or
``If-Unmodified-Since``) and asks only for missing bytes: no ``bytes=0-`` answer is
opened and closed unread. The store records every request and the body bytes it sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pixop_async import RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, http, leftovers
from .integrity_server import Store, store

__all__ = ["http"]

PART = 64 * KiB
BUFFER = 64 * KiB
DATA = os.urandom(8 * PART - 1000)
DONE = 4  # parts the interrupted attempt finished
NO_RETRY = RetryPolicy(max_attempts=1)
DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


async def _get(http: HttpSession, server: Store, dest: Path, **kwargs: Any) -> Any:
    settings: dict[str, Any] = {"part_size": PART, "connections": 1, "config": config()}
    settings.update(kwargs)
    return await download(http, server.url, dest, **settings)


async def _interrupt(http: HttpSession, server: Store, dest: Path, at: int = DONE * PART) -> None:
    """The first answer breaks off at byte ``at`` and every later request gets a 503: the
    parts before it are journaled (and the bytes of the part it cuts), the rest missing."""
    server.break_at, server.fail_from = at, 1
    with pytest.raises(errors.ServerError):
        await _get(http, server, dest, config=config(retry=NO_RETRY))
    server.break_at, server.fail_from = None, None
    saved = jr.load(Target.for_path(dest).journal)
    assert saved is not None and sorted(saved.done) == list(range(at // PART))
    server.seen.clear()
    server.sent.clear()


async def _resumed(
    http: HttpSession,
    dest: Path,
    change: Callable[[Store], None] = lambda server: None,
    at: int = DONE * PART,
    knobs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[Store, Any]:
    """Interrupt a download at ``at``, ``change`` the store, resume; the store (with what
    it saw and sent during the resume) and the result."""
    async with store(DATA, **(knobs or {})) as server:
        await _interrupt(http, server, dest, at)
        change(server)
        result = await _get(http, server, dest, **kwargs)
    return server, result


def _ranges(server: Store) -> list[str]:
    return [h.get("Range", "") for h in server.seen]


@pytest.mark.parametrize("connections", [1, 4])
async def test_a_resume_asks_only_for_missing_bytes_pinned_to_the_journaled_version(
    http: HttpSession, tmp_path: Path, connections: int
) -> None:
    dest = tmp_path / "f"
    missing = len(DATA) - DONE * PART
    server, result = await _resumed(http, dest, connections=connections)
    assert dest.read_bytes() == DATA and result.crc32c == crc32c(DATA)
    assert result.outcome == "resumed" and result.bytes_fetched == missing
    ranges = _ranges(server)
    assert "bytes=0-" not in ranges
    assert all(int(r[6:].partition("-")[0]) >= DONE * PART for r in ranges)
    assert ranges[0] == (
        f"bytes={DONE * PART}-{len(DATA) - 1}"
        if connections == 1
        else f"bytes={DONE * PART}-{(DONE + 1) * PART - 1}"  # the first of four segments
    )
    assert all(h.get("If-Match") == '"v1"' and h.get("If-Range") == '"v1"' for h in server.seen)
    assert len(server.seen) == min(connections, 8 - DONE)
    assert sum(server.sent) <= missing + BUFFER
    assert leftovers(tmp_path) == ["f"]


async def test_a_resume_mid_part_starts_at_the_first_byte_not_on_disk(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    cut = DONE * PART + 5000
    server, result = await _resumed(http, dest, at=cut, connections=2)
    assert dest.read_bytes() == DATA and result.bytes_fetched == len(DATA) - cut
    assert _ranges(server)[0].startswith(f"bytes={cut}-")
    assert sum(server.sent) <= len(DATA) - cut + BUFFER


async def test_a_date_pinned_resume_asks_for_the_missing_bytes_with_the_date(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    server, result = await _resumed(http, dest, knobs={"etag": None, "last_modified": DATE})
    assert dest.read_bytes() == DATA and result.pinned == "last-modified"
    assert _ranges(server) == [f"bytes={DONE * PART}-{len(DATA) - 1}"]
    assert server.seen[0].get("If-Range") == DATE
    assert server.seen[0].get("If-Unmodified-Since") == DATE


@pytest.mark.parametrize("honour", [True, False], ids=["412", "ignores-pin"])
async def test_an_object_changed_before_the_resume_restarts_cleanly(
    http: HttpSession, tmp_path: Path, honour: bool
) -> None:
    dest = tmp_path / "f"
    new = os.urandom(len(DATA) + 777)

    def change(server: Store) -> None:
        server.replace(new, '"v2"', None)
        server.honour_preconditions = honour

    server, result = await _resumed(http, dest, change, connections=2)
    assert dest.read_bytes() == new and result.crc32c == crc32c(new)
    assert result.outcome == "downloaded" and result.etag == '"v2"'
    ranges = _ranges(server)
    # the pinned resume request is refused (412) or shows another version: start over
    assert ranges[:2] == [f"bytes={DONE * PART}-{6 * PART - 1}", "bytes=0-"]
    assert server.seen[0].get("If-Match") == '"v1"' and "If-Match" not in server.seen[1]
    assert leftovers(tmp_path) == ["f"]


async def test_a_resume_of_a_store_now_ignoring_ranges_is_one_stream_in_one_request(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"

    def ignore_ranges(server: Store) -> None:
        server.ignore_ranges = True

    server, result = await _resumed(http, dest, ignore_ranges)
    assert dest.read_bytes() == DATA and result.pinned is None
    assert len(server.seen) == 1 and server.sent == [len(DATA)]
    assert leftovers(tmp_path) == ["f"]


async def test_a_journal_of_another_layout_is_not_used_for_the_first_request(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    server, result = await _resumed(http, dest, part_size=2 * PART)
    assert dest.read_bytes() == DATA and result.outcome == "downloaded"
    assert _ranges(server)[0] == "bytes=0-"

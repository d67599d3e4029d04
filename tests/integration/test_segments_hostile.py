"""Hostile stores against the segment engine (found by a breaker; real servers)."""

from __future__ import annotations

import os
from pathlib import Path

from pixop_async._session import HttpSession
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, http, leftovers
from .integrity_server import Store, store

__all__ = ["http"]

PART = 64 * KiB
DATA = os.urandom(8 * PART + 123)


async def test_a_replacement_of_another_size_behind_an_ignored_pin_restarts(
    http: HttpSession, tmp_path: Path
) -> None:
    # The store ignores If-Match/If-Range and the object is replaced by a bigger one after
    # the first request: the segment answers carry the new ETag *and* a new total. That is
    # another version (start over on it), not a lying Content-Range (a fatal error).
    new = os.urandom(len(DATA) + PART + 7)

    def replace_on_second(server: Store, count: int) -> None:
        if count == 1:
            server.replace(new, '"v2"', None)

    async with store(DATA, honour_preconditions=False) as server:
        server.before = replace_on_second
        result = await download(
            http, server.url, tmp_path / "f", connections=4, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == new
    assert result.etag == '"v2"' and result.size == len(new) and result.crc32c == crc32c(new)
    assert leftovers(tmp_path) == ["f"]

"""Breaker b17d: a cancel that lands while the file is being published, made certain (the
publish step waits in its thread until the cancel has been delivered). The call raises
CancelledError; the file is whole, carries its record (size, CRC32C, ETag), nothing of the
attempt (temp file, journal) is left beside it, nothing is open, and a rerun skips it
without fetching a byte. Both publishing paths: ranged parts, and the one-hop small file."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.transfer import _record
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, http, leftovers, serve
from .test_fault_cancel import acquired_connections, open_files_under

__all__ = ["http"]

PART = 64 * KiB


@pytest.mark.parametrize("size", [12 * PART + 99, 5 * KiB], ids=["ranged", "small"])
@pytest.mark.parametrize("resume", [True, False])
async def test_cancel_while_publishing_leaves_the_whole_file_and_nothing_else(
    pixop_emulator: EmulatorServer,
    http: HttpSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: int,
    resume: bool,
) -> None:
    data = os.urandom(size)
    src = serve(pixop_emulator, data)
    dest = tmp_path / "video.mp4"
    entered, go_on = threading.Event(), threading.Event()
    original = Target.publish

    def slow_publish(self: Target, *args: Any, **kwargs: Any) -> None:
        entered.set()
        assert go_on.wait(10)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Target, "publish", slow_publish)
    kwargs: dict[str, Any] = {
        "connections": 4,
        "part_size": PART,
        "expected_crc32c": crc32c(data),
        "resume": resume,
        "config": config(journal_interval=0.01),
    }
    run = asyncio.ensure_future(download(http, src.url, dest, **kwargs))
    while not entered.is_set():
        assert not run.done()
        await asyncio.sleep(0.005)
    run.cancel()
    await asyncio.sleep(0.05)  # the cancel is delivered while the thread still waits
    assert not run.done()  # publishing is never cut half-way
    go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert dest.read_bytes() == data
    assert leftovers(tmp_path) == ["video.mp4"]
    assert acquired_connections(http) == 0
    assert open_files_under(tmp_path) == []
    dir_fd = os.open(tmp_path, os.O_RDONLY)
    try:
        found = _record.read("video.mp4", dir_fd)
    finally:
        os.close(dir_fd)
    assert found is not None and found[1] is not None
    assert (found[1].size, found[1].crc32c) == (size, crc32c(data))
    monkeypatch.setattr(Target, "publish", original)
    again = await download(http, src.url, dest, **kwargs)
    assert again.outcome == "skipped" and again.bytes_fetched == 0
    assert leftovers(tmp_path) == ["video.mp4"]

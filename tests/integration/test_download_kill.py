"""``kill -9`` in the middle of a download, then resume: only in-flight parts are refetched."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, controls, http, serve

__all__ = ["http"]

PART = 1024 * KiB
CONNECTIONS = 4
#: ``python -c CHILD URL DEST CONNECTIONS PART_SIZE [JOURNAL_INTERVAL [BUFFER_SIZE]]``
CHILD = """
import asyncio, sys
from pixop_async._session import HttpSession
from pixop_async.transfer.config import TransferConfig
from pixop_async.transfer.download import download

async def main():
    http = HttpSession()
    try:
        interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.1
        buffer = int(sys.argv[6]) if len(sys.argv) > 6 else 128 * 1024
        config = TransferConfig(journal_interval=interval, buffer_size=buffer)
        await download(http, sys.argv[1], sys.argv[2], connections=int(sys.argv[3]),
                       part_size=int(sys.argv[4]), config=config)
    finally:
        await http.close()

asyncio.run(main())
"""


async def test_kill_9_then_resume_refetches_at_most_in_flight_parts(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(6 * PART))
    ctl = controls(pixop_emulator)
    ctl.rate_limit = 2 * PART  # per connection: each part takes the child half a second
    dest = tmp_path / "video.mp4"
    target = Target.for_path(dest)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        src.url,
        str(dest),
        str(CONNECTIONS),
        str(PART),
    )
    try:
        saved = None
        for _ in range(1000):
            await asyncio.sleep(0.01)
            saved = jr.load(target.journal)
            if saved is not None and sum(w for w, _ in saved.partial.values()) >= PART:
                break
        assert child.returncode is None, "the child finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        assert await child.wait() == -signal.SIGKILL
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    await asyncio.sleep(0.05)  # let the server notice the dead connections
    sent_before = ctl.bytes_sent
    saved = jr.load(target.journal)
    assert saved is not None and len(saved.done) < 6
    kept = len(saved.done) * PART + sum(w for w, _ in saved.partial.values())
    assert kept >= PART  # parts in flight kept their progress: the resume continues mid-part
    assert not dest.exists()
    ctl.rate_limit = None
    result = await download(
        http,
        src.url,
        dest,
        connections=CONNECTIONS,
        part_size=PART,
        expected_crc32c=src.crc,
        config=config(),
    )
    assert dest.read_bytes() == src.data
    assert result.crc32c == src.crc
    refetched = sent_before + result.bytes_fetched - len(src.data)
    assert 0 <= refetched <= CONNECTIONS * PART
    assert result.bytes_fetched == len(src.data) - kept

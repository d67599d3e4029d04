"""Breaker b17a: a FIFO planted where a journal is read must not block the reader.

``open(O_RDONLY)`` of a FIFO waits for a writer; a journal loader running in a worker
thread that the transfer waits for (even on cancellation) would then hang forever. Each
loader runs in a thread here; a watchdog opens the FIFO's write end after a generous
delay so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pixop_async.transfer import journal as jr
from pixop_async.transfer import s3_journal


def _load_without_blocking(load: Callable[[Path], Any], path: Path) -> Any:
    out: list[Any] = []
    reader = threading.Thread(target=lambda: out.append(load(path)), daemon=True)
    reader.start()
    reader.join(30)
    blocked = reader.is_alive()
    if blocked:
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(30)
    assert not blocked, f"{load.__module__}.load blocked on a FIFO"
    return out[0]


@pytest.mark.parametrize("load", [jr.load, s3_journal.load], ids=["download", "s3"])
def test_a_fifo_journal_is_refused_at_once(tmp_path: Path, load: Callable[[Path], Any]) -> None:
    path = tmp_path / "x.journal"
    os.mkfifo(path)
    assert _load_without_blocking(load, path) is None

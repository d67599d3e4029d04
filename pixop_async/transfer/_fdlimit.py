"""Bulk transfers sized to the file descriptors the process may still open.

A bulk download holds, per file, its temp file plus a journal or hashing descriptor now
and then, and one socket per connection. ``RLIMIT_NOFILE`` minus what is already open
(and some headroom for the rest of the program) bounds how many files and connections
may run at once; above it items would fail with ``EMFILE`` for no fault of their own.
"""

from __future__ import annotations

import logging
import os
import sys

import attrs

from .config import TransferConfig

if sys.platform != "win32":
    import resource

log = logging.getLogger("pixop_async.transfer")

#: Descriptors left for the rest of the program.
HEADROOM = 48
#: Descriptors one file of a bulk download may hold besides its sockets.
PER_FILE = 3


def _open_count() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 64  # a guess where /proc is not available


def fd_budget() -> int | None:
    """Descriptors a bulk run may use (None: no limit known)."""
    if sys.platform == "win32":  # pragma: no cover - no RLIMIT_NOFILE there
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return soft - _open_count() - HEADROOM


@attrs.frozen
class BulkLimits:
    """How many files move at once and how many connections each may open."""

    files: int
    connections: int


def bulk_limits(
    config: TransferConfig, connections: int, budget: int | None, files: int | None = None
) -> BulkLimits:
    """Fit ``files`` at once (default: ``config``'s limit for bulk operations) with
    ``connections`` each into ``budget`` descriptors (pure)."""
    files = files or config.file_limit
    if budget is None or files * (PER_FILE + connections) <= budget:
        return BulkLimits(files, connections)
    budget = max(budget, PER_FILE + 1)
    files = max(1, min(files, budget // (PER_FILE + 1)))
    per_file = max(1, min(connections, budget // files - PER_FILE))
    return BulkLimits(files, per_file)


def fitted(config: TransferConfig, connections: int, files: int | None = None) -> BulkLimits:
    wanted = files or config.file_limit
    limits = bulk_limits(config, connections, fd_budget(), wanted)
    if (limits.files, limits.connections) != (wanted, connections):
        log.info(
            "few file descriptors left: %d files at once, %d connections each",
            limits.files,
            limits.connections,
        )
    return limits

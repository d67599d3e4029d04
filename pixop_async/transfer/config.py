"""``TransferConfig``: the knobs of the transfer engine."""

from __future__ import annotations

from typing import Any

import attrs

from ..retry import RetryPolicy

MiB = 1024 * 1024
#: Files moved at once by bulk uploads when ``max_concurrent_files`` is not set.
DEFAULT_FILES = 8


def _positive_or_none(
    _instance: object, attribute: attrs.Attribute[Any], value: float | None
) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be > 0 or None")


@attrs.frozen
class TransferConfig:
    """How transfers run.

    ``connections`` is the default number of parallel range requests per download, never
    more than ``max_connections_per_transfer``; ``max_connections`` caps the connections
    of all transfers of one client together (the HTTP connector should allow at least as
    many). ``part_size`` fixes the size of download parts, the units that are journaled,
    verified on resume and split between connections (``None`` picks 2 MiB, more for huge
    files; an explicit size grows too when a file would have more than 10,000 parts); each
    connection fetches a run of parts with one request. ``buffer_size`` is
    how many received bytes are gathered before one hash-and-write hop to a worker thread
    (larger buffers mean fewer hops; one download keeps about 8 MiB of them in flight).
    ``memory_budget`` bounds the bytes held in such buffers across all transfers; a
    transfer with many connections uses smaller buffers (down to 256 KiB) to stay in it.
    ``bandwidth_limit`` (bytes per second, ``None`` = unlimited) caps all transfers
    together. ``retry`` overrides the client's retry policy for part requests.
    ``max_concurrent_files`` is how many files ``download_many``/``upload_many`` move at once;
    ``None`` (the default) lets ``download_many`` keep the connection budget busy (one and
    a half times ``max_connections`` files, so the next files' requests overlap the last
    ones' fsync and rename) and other bulk operations move ``DEFAULT_FILES`` at once.
    ``low_speed_limit``/``low_speed_time`` is the stall rule (like curl's
    ``--speed-limit``/``--speed-time``): a transfer moving fewer than ``low_speed_limit``
    bytes per second for ``low_speed_time`` seconds fails with
    :class:`~pixop_async.errors.TransferStalledError` (``None`` turns it off); retry waits
    count as no progress, waiting for a shared connection slot does not.
    ``total_timeout`` (seconds, ``None`` = none) bounds one whole download or upload
    (:class:`~pixop_async.errors.TransferTimeoutError`). Nothing is published on either.
    ``verify_existing`` makes bulk downloads hash files already at their destination (when
    an expected CRC32C is known) before skipping them.
    """

    connections: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    max_connections_per_transfer: int = attrs.field(default=32, validator=attrs.validators.ge(1))
    max_connections: int = attrs.field(default=32, validator=attrs.validators.ge(1))
    part_size: int | None = attrs.field(default=None, validator=_positive_or_none)
    buffer_size: int = attrs.field(default=1 * MiB, validator=attrs.validators.ge(64 * 1024))
    memory_budget: int = attrs.field(default=16 * MiB, validator=attrs.validators.ge(MiB))
    bandwidth_limit: float | None = attrs.field(default=None, validator=_positive_or_none)
    retry: RetryPolicy | None = None
    max_concurrent_files: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(1))
    )
    progress_interval: float = attrs.field(default=0.1, validator=attrs.validators.ge(0))
    #: Fresh pre-signed URLs fetched at most this many times per download.
    max_url_refreshes: int = attrs.field(default=8, validator=attrs.validators.ge(0))
    #: Whole restarts allowed when the source changes (new ETag) mid-download.
    max_restarts: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    #: Refresh a URL this many seconds before its known expiry.
    url_expiry_margin: float = attrs.field(default=5.0, validator=attrs.validators.ge(0))
    verify_existing: bool = True
    #: Worker threads that hash and write received data (shared by the whole process).
    io_threads: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    #: Seconds between journal saves of in-flight progress (parts are journaled when done).
    journal_interval: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))
    fsync: bool = True
    low_speed_limit: int = attrs.field(default=1024, validator=attrs.validators.ge(0))
    low_speed_time: float | None = attrs.field(default=60.0, validator=_positive_or_none)
    total_timeout: float | None = attrs.field(default=None, validator=_positive_or_none)

    @property
    def file_limit(self) -> int:
        """Files a bulk operation other than ``download_many`` moves at once."""
        return self.max_concurrent_files or DEFAULT_FILES

    @property
    def download_files(self) -> int:
        """Files ``download_many`` has in flight at once: set, or sized to the connections
        (requests of the next files run while the last ones are made durable)."""
        return self.max_concurrent_files or max(1, self.max_connections * 3 // 2)

    def buffer_for(self, connections: int) -> int:
        """Piece size for a transfer with ``connections`` streams (each fills one piece
        while the previous one is being written)."""
        share = self.memory_budget // (2 * max(1, connections))
        floor = min(self.buffer_size, 256 * 1024)
        return max(floor, min(self.buffer_size, share))

    def connections_for(self, requested: int | None) -> int:
        """Connections one transfer may open given the caller's request."""
        wanted = self.connections if requested is None else requested
        if wanted < 1:
            raise ValueError("connections must be >= 1")
        return min(wanted, self.max_connections_per_transfer, self.max_connections)

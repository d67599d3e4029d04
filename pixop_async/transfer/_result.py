"""What a download call reports."""

from __future__ import annotations

from pathlib import Path

import attrs


@attrs.frozen
class DownloadResult:
    """A finished download.

    ``bytes_fetched`` counts body bytes received in this call (less than ``size`` after a
    resume, more after retries); ``not_modified`` is True when ``if_none_match`` matched and
    the local file was left untouched. ``pinned`` says how the object version was held
    fixed across requests: ``"etag"``, ``"last-modified"``, or ``None`` when the server
    offered neither (the file then came in one stream and could not have been resumed).
    ``crc32c`` is always the CRC32C of the bytes at ``path``. ``outcome`` says what this
    call did: ``"downloaded"``, ``"resumed"`` (an interrupted attempt's verified parts were
    kept) or ``"skipped"`` (the file already there is the one wanted, checked by hashing
    it; at most one conditional request was made and no body fetched).
    """

    path: Path
    size: int
    crc32c: int
    etag: str | None
    bytes_fetched: int
    elapsed: float
    not_modified: bool = False
    pinned: str | None = None
    outcome: str = "downloaded"

    @property
    def skipped(self) -> bool:
        return self.outcome == "skipped"

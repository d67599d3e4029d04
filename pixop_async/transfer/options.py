"""The per-download options, declared once and passed through as one object.

Entry points that end in :func:`~pixop_async.transfer.download.download` —
:func:`pixop_async.download_url`, :func:`pixop_async.download_many` and the legacy media
downloads — take these as keyword arguments (``**options: Unpack[DownloadOptions]``), so a
type checker knows every name and type, and hand the same mapping on instead of re-declaring
and forwarding each keyword. A dict built ahead of time works too:
``opts: DownloadOptions = {"connections": 4}; await download_url(url, dest, **opts)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast

from .. import validation as v
from ..errors import InvalidRequestError
from ._inputs import MAX_CRC32C, download_headers
from .bulk import BulkProgress
from .progress import ProgressCallback


class DownloadOptions(TypedDict, total=False):
    """How one download runs; every key is optional and the engine's default applies.

    ``connections`` is not among them: its default differs between entry points, so each
    declares it."""

    part_size: int | None
    """Bytes per range request (default: the transfer config's)."""
    expected_crc32c: int | None
    """The file's CRC32C: a mismatch refetches once, then raises ``ChecksumMismatchError``."""
    progress: ProgressCallback | None
    """``progress(done, total)``, sync or async."""
    resume: bool
    """Continue an interrupted download from its journal (default True)."""
    headers: Mapping[str, str] | None
    """Extra request headers."""
    if_none_match: str | None
    """A known ETag: a 304 leaves the local file untouched (``not_modified=True``)."""


class BulkDownloadOptions(TypedDict, total=False):
    """How a batch of downloads runs (:func:`pixop_async.download_many`)."""

    connections: int | None
    """Connections per file (default: the transfer config's)."""
    part_size: int | None
    """Bytes per range request."""
    resume: bool
    """Continue interrupted downloads from their journals (default True)."""
    skip_existing: bool
    """Skip a file already complete at its destination (default True)."""
    headers: Mapping[str, str] | None
    """Extra request headers for every item (an item's own headers win)."""
    progress: BulkProgress | None
    """``progress(finished, total)`` counting items."""


def checked_download_options(options: Mapping[str, Any]) -> DownloadOptions:
    """``options`` after the checks a download makes before any request: unknown names are
    a ``TypeError`` (as for any keyword argument), bad values an
    :class:`~pixop_async.errors.InvalidRequestError` naming the option."""
    unknown = sorted(set(options) - set(DownloadOptions.__annotations__))
    if unknown:
        raise TypeError(f"unexpected download option(s): {', '.join(unknown)}")
    v.optional_integer("part_size", options.get("part_size"), minimum=1)
    v.optional_integer(
        "expected_crc32c", options.get("expected_crc32c"), minimum=0, maximum=MAX_CRC32C
    )
    v.boolean("resume", options.get("resume", True))
    etag = v.optional_text("if_none_match", options.get("if_none_match"), min_len=1, max_len=1024)
    if etag is not None:
        v.header_value("if_none_match", "If-None-Match", etag)
    progress = options.get("progress")
    if progress is not None and not callable(progress):
        raise InvalidRequestError("progress", "must be callable")
    checked = dict(options)
    if options.get("headers") is not None:
        checked["headers"] = download_headers("headers", options["headers"])
    return cast(DownloadOptions, checked)

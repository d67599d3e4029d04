"""HTTP byte ranges (pure): ``Range`` requests and ``Content-Range`` answers."""

from __future__ import annotations

import re

import attrs

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*/\s*(\d+|\*)\s*\Z", re.IGNORECASE)


@attrs.frozen
class ContentRange:
    """A parsed ``Content-Range``: inclusive ``start``/``end`` (None for ``*``), ``total``."""

    start: int | None
    end: int | None
    total: int | None

    @property
    def unsatisfied(self) -> bool:
        """The ``bytes */N`` form of a 416 answer."""
        return self.start is None


def range_header(start: int, end: int | None = None) -> str:
    """``Range`` value for bytes ``start``..``end`` inclusive (open-ended when ``end`` is None)."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range {start}-{end}")
    return f"bytes={start}-" if end is None else f"bytes={start}-{end}"


def parse_content_range(value: str | None) -> ContentRange | None:
    """Parse a ``Content-Range`` header; None when absent or malformed."""
    if value is None:
        return None
    match = _CONTENT_RANGE.match(value)
    if not match:
        return None
    first, last, total = match.groups()
    size = None if total == "*" else int(total)
    if first is None:
        return None if size is None else ContentRange(None, None, size)
    start, end = int(first), int(last)
    if end < start or (size is not None and end >= size):
        return None
    return ContentRange(start, end, size)


def content_range_matches(value: str | None, start: int, end: int, total: int | None) -> bool:
    """Whether a 206 answer's ``Content-Range`` covers exactly the range asked for.

    ``total`` is the size learnt earlier (None when not yet known).
    """
    parsed = parse_content_range(value)
    if parsed is None or parsed.unsatisfied:
        return False
    if parsed.start != start or parsed.end != end:
        return False
    return total is None or parsed.total is None or parsed.total == total


def parse_content_length(value: str | None) -> int | None:
    """A non-negative ``Content-Length``; None when absent or malformed."""
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        return None
    return int(value)

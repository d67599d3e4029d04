"""Part planning for ranged downloads (pure)."""

from __future__ import annotations

import attrs

MiB = 1024 * 1024
#: Smallest automatic part size. Parts are the units a download journals, verifies on
#: resume and splits between connections; one request fetches a run of them, so small
#: parts cost no extra requests and let a split balance the tail finely.
MIN_AUTO_PART = 2 * MiB
#: Largest automatic part size; bigger parts make a resume refetch more.
MAX_AUTO_PART = 64 * MiB
#: Parts per file beyond which the automatic part size grows.
MAX_PARTS = 10_000


@attrs.frozen
class Part:
    """One byte range of a file: ``start`` to ``end`` inclusive."""

    index: int
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def choose_part_size(size: int | None, requested: int | None = None) -> int:
    """The part size for a file of ``size`` bytes (unknown: ``None``).

    An explicit ``requested`` size wins while the file has at most ``MAX_PARTS`` parts of
    it; beyond, it grows to the smallest size that fits (the size comes from the server:
    a claimed 32 TiB must not make billions of parts in memory). Otherwise parts are
    2 MiB, grown (up to 64 MiB, then beyond only as needed) within ``MAX_PARTS`` parts.
    """
    if requested is not None:
        if requested < 1:
            raise ValueError("part_size must be >= 1")
        return requested if size is None else max(requested, -(-size // MAX_PARTS))
    if size is None or size <= MIN_AUTO_PART * MAX_PARTS:
        return MIN_AUTO_PART
    needed = -(-size // MAX_PARTS)
    rounded = -(-needed // MiB) * MiB
    return rounded if rounded > MAX_AUTO_PART else max(rounded, MIN_AUTO_PART)


def plan_parts(size: int, part_size: int, first_len: int | None = None) -> list[Part]:
    """Split ``size`` bytes into consecutive parts of ``part_size`` bytes.

    ``first_len`` makes the first part a different length (the probe request's range); the
    last part holds the remainder. An empty file has no parts.
    """
    if size < 0:
        raise ValueError("size must be >= 0")
    if part_size < 1:
        raise ValueError("part_size must be >= 1")
    parts: list[Part] = []
    start = 0
    if first_len is not None and size > 0:
        if first_len < 1:
            raise ValueError("first_len must be >= 1")
        end = min(first_len, size) - 1
        parts.append(Part(0, 0, end))
        start = end + 1
    while start < size:
        end = min(start + part_size, size) - 1
        parts.append(Part(len(parts), start, end))
        start = end + 1
    return parts

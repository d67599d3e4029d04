"""Segments of a ranged download (pure): which parts one request fetches, and splitting.

A download's parts (see :mod:`.plan`) are the units that are journaled and hashed; a
*segment* is a run of consecutive missing parts fetched by one request. Each connection
starts with one long segment, so first-byte latency is paid about once per connection
instead of once per part. When a connection runs out of work it takes the largest
remaining segment's second half (aria2c's way), so no connection idles at the tail while
another still has much to fetch. Segment boundaries always fall on part boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.define(eq=False)
class Segment:
    """Parts ``lo`` .. ``stop - 1``; ``lo`` is the part being (or next to be) fetched.

    A worker streaming a segment advances ``lo`` as parts complete and stops at ``stop``,
    which a split may lower at any time (never to ``lo`` or below).
    """

    lo: int
    stop: int
    owned: bool = False

    @property
    def remaining(self) -> int:
        """Parts still to fetch, the one in progress included."""
        return max(0, self.stop - self.lo)


def plan_segments(missing: Iterable[tuple[int, int]], count: int) -> list[Segment]:
    """At most ``count`` segments covering the ``missing`` parts, in order.

    ``missing`` lists ``(part index, bytes of it already written)`` for every part not done,
    in index order. A run of consecutive missing parts forms a segment; a partly written
    part starts a new one (a request resumes only its first part). The largest segments
    are then halved until there are ``count`` (or nothing can be split).
    """
    if count < 1:
        raise ValueError("count must be >= 1")
    segments: list[Segment] = []
    for index, written in missing:
        if segments and segments[-1].stop == index and written == 0:
            segments[-1].stop = index + 1
        else:
            segments.append(Segment(index, index + 1))
    while len(segments) < count:
        extra = split_largest(segments)
        if extra is None:
            break
        segments.append(extra)
    segments.sort(key=lambda s: s.lo)
    return segments


def split_largest(segments: Iterable[Segment]) -> Segment | None:
    """Cut the segment with the most parts left in two and return its second half.

    The first half keeps the part in progress; a segment with fewer than two parts left
    is not split. Returns None when no segment can be.
    """
    victim: Segment | None = None
    for segment in segments:
        if segment.remaining >= 2 and (victim is None or segment.remaining > victim.remaining):
            victim = segment
    if victim is None:
        return None
    mid = victim.stop - victim.remaining // 2
    tail = Segment(mid, victim.stop)
    victim.stop = mid
    return tail


def first_request_span(
    part_bounds: list[tuple[int, int]], written: dict[int, int], count: int
) -> tuple[int, int]:
    """The bytes the first request of a resumed download asks for: the first segment
    :func:`plan_segments` would give the missing parts, from its first byte not written.

    ``part_bounds`` holds every part's ``(start, end)`` (inclusive), ``written`` the bytes
    already written of each part not done (a part absent from it is done). With nothing
    missing it is the last byte, which still proves the version unchanged.
    """
    missing = [(index, written[index]) for index in range(len(part_bounds)) if index in written]
    if not missing:
        last = part_bounds[-1][1]
        return last, last
    first = plan_segments(missing, count)[0]
    return part_bounds[first.lo][0] + written[first.lo], part_bounds[first.stop - 1][1]

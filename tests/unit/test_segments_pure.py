"""Segments of a ranged download: planning and splitting (pure)."""

from __future__ import annotations

import pytest

from pixop_async.transfer.segments import Segment, plan_segments, split_largest


def _spans(segments: list[Segment]) -> list[tuple[int, int]]:
    return [(s.lo, s.stop) for s in segments]


def test_runs_of_missing_parts_become_segments_split_to_the_connection_count() -> None:
    missing = [(i, 0) for i in range(16)]
    assert _spans(plan_segments(missing, 1)) == [(0, 16)]
    assert _spans(plan_segments(missing, 4)) == [(0, 4), (4, 8), (8, 12), (12, 16)]
    # more connections than parts: one part each, never an empty segment
    assert _spans(plan_segments([(0, 0), (1, 0)], 8)) == [(0, 1), (1, 2)]


def test_done_parts_and_partly_written_parts_break_runs() -> None:
    # parts 0-1 and 5 are done; part 3 was half written: a request resumes only its first part
    missing = [(2, 0), (3, 500), (4, 0), (6, 0), (7, 0)]
    assert _spans(plan_segments(missing, 1)) == [(2, 3), (3, 5), (6, 8)]
    assert plan_segments([], 4) == []


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_segments_cover_every_missing_part_exactly_once(count: int) -> None:
    missing = [(i, 0) for i in range(3, 40) if i % 7]
    covered = [i for s in plan_segments(missing, count) for i in range(s.lo, s.stop)]
    assert covered == [i for i, _ in missing]


def test_split_takes_the_second_half_of_the_largest_and_keeps_the_part_in_progress() -> None:
    small, big = Segment(0, 3), Segment(10, 20)
    tail = split_largest([small, big])
    assert tail is not None and (tail.lo, tail.stop) == (15, 20)
    assert (big.lo, big.stop) == (10, 15)
    # two parts left: the one in progress stays, the other moves
    pair = Segment(7, 9)
    moved = split_largest([pair])
    assert moved is not None and (pair.lo, pair.stop, moved.lo, moved.stop) == (7, 8, 8, 9)


def test_nothing_to_split_when_every_segment_is_down_to_its_part_in_progress() -> None:
    assert split_largest([Segment(4, 5), Segment(9, 9)]) is None
    assert split_largest([]) is None


def test_repeated_splits_never_lose_or_duplicate_a_part() -> None:
    segments = [Segment(0, 100)]
    while (tail := split_largest(segments)) is not None:
        segments.append(tail)
        segments[0].lo += 1  # the first one makes progress meanwhile
    parts = sorted(i for s in segments for i in range(s.lo, s.stop))
    assert parts == sorted(set(parts))
    assert set(parts) | set(range(segments[0].lo)) == set(range(100))


def test_bad_count_is_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        plan_segments([(0, 0)], 0)

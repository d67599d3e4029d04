"""Part planning against sizes a server claims (pure)."""

from __future__ import annotations

from pixop_async.transfer.plan import MAX_PARTS, choose_part_size, plan_parts

KiB = 1024


def test_an_explicit_part_size_cannot_make_a_claimed_huge_size_billions_of_parts() -> None:
    # the size comes from the first answer's Content-Range: 32 TiB with the caller's 64 KiB
    # parts used to build 5e8 Part objects (a MemoryError after minutes, or the OOM killer)
    size = 2**45
    part = choose_part_size(size, 64 * KiB)
    assert part == -(-size // MAX_PARTS)
    assert len(plan_parts(size, part)) == MAX_PARTS
    # within the bound the caller's size is used as given
    assert choose_part_size(64 * KiB * MAX_PARTS, 64 * KiB) == 64 * KiB
    assert choose_part_size(64 * KiB * MAX_PARTS + 1, 64 * KiB) == 64 * KiB + 1
    assert choose_part_size(None, 64 * KiB) == 64 * KiB

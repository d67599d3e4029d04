"""Pure transfer logic: part planning, Range/Content-Range parsing, CRC32C combine, names."""

from __future__ import annotations

import itertools
import os
import zlib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pixop_async.transfer import checksum
from pixop_async.transfer.journal import Journal
from pixop_async.transfer.naming import (
    filename_from_disposition,
    filename_from_url,
    sanitize_filename,
)
from pixop_async.transfer.plan import MIN_AUTO_PART, choose_part_size, plan_parts
from pixop_async.transfer.ranges import (
    content_range_matches,
    parse_content_length,
    parse_content_range,
    range_header,
)


@given(
    size=st.integers(min_value=0, max_value=10**7),
    part_size=st.integers(min_value=1, max_value=10**6),
    first=st.one_of(st.none(), st.integers(min_value=1, max_value=10**6)),
)
def test_plan_covers_file_exactly(size: int, part_size: int, first: int | None) -> None:
    assume(size // part_size < 2000)
    parts = plan_parts(size, part_size, first)
    if size == 0:
        assert parts == []
        return
    assert parts[0].start == 0
    assert parts[-1].end == size - 1
    for index, (a, b) in enumerate(itertools.pairwise(parts)):
        assert a.index == index
        assert b.start == a.end + 1
    assert sum(p.length for p in parts) == size
    inner = parts[1:-1] if first is not None else parts[:-1]
    assert all(p.length == part_size for p in inner)
    if first is not None:
        assert parts[0].length == min(first, size)


def test_plan_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        plan_parts(-1, 10)
    with pytest.raises(ValueError):
        plan_parts(10, 0)


@given(size=st.integers(min_value=0, max_value=2**45))
def test_auto_part_size_bounds_part_count(size: int) -> None:
    part = choose_part_size(size)
    assert part >= MIN_AUTO_PART
    assert -(-size // part) <= 10_000
    # an explicit size is kept unless it would make more than 10,000 parts
    explicit = choose_part_size(size, 12345)
    assert explicit == (12345 if size <= 12345 * 10_000 else -(-size // 10_000))
    assert -(-size // explicit) <= 10_000


@given(
    start=st.integers(min_value=0, max_value=2**40),
    length=st.integers(min_value=1, max_value=2**40),
    extra=st.integers(min_value=0, max_value=2**40),
)
def test_content_range_round_trip(start: int, length: int, extra: int) -> None:
    end = start + length - 1
    total = end + 1 + extra
    header = f"bytes {start}-{end}/{total}"
    parsed = parse_content_range(header)
    assert parsed is not None
    assert (parsed.start, parsed.end, parsed.total) == (start, end, total)
    assert content_range_matches(header, start, end, total)
    assert not content_range_matches(header, start + 1, end, total)
    assert not content_range_matches(header, start, end, total + 1)
    assert range_header(start, end) == f"bytes={start}-{end}"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "bytes",
        "bytes 5-4/10",
        "bytes 0-10/10",
        "items 0-1/2",
        "bytes -1-2/3",
        "bytes */*",
    ],
)
def test_content_range_rejects_malformed(value: str | None) -> None:
    assert parse_content_range(value) is None


def test_content_range_forms() -> None:
    unsatisfied = parse_content_range("bytes */0")
    assert unsatisfied is not None and unsatisfied.unsatisfied and unsatisfied.total == 0
    open_total = parse_content_range("bytes 0-9/*")
    assert open_total is not None and open_total.total is None
    assert content_range_matches("bytes 0-9/*", 0, 9, 100)
    assert parse_content_length(" 42 ") == 42
    assert parse_content_length("-1") is None
    assert parse_content_length("4x") is None
    with pytest.raises(ValueError):
        range_header(5, 4)


@given(data=st.binary(max_size=4096), cuts=st.lists(st.integers(min_value=0, max_value=4096)))
def test_combine_over_any_split_equals_whole(data: bytes, cuts: list[int]) -> None:
    points = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    pieces = [data[a:b] for a, b in itertools.pairwise(points)]
    combined = checksum.crc32c_combine_all([(checksum.crc32c(p), len(p)) for p in pieces])
    assert combined == checksum.crc32c(data)


@given(a=st.binary(max_size=2048), b=st.binary(max_size=2048))
def test_combine_pair(a: bytes, b: bytes) -> None:
    assert checksum.crc32c_combine(checksum.crc32c(a), checksum.crc32c(b), len(b)) == (
        checksum.crc32c(a + b)
    )


def test_combine_large_lengths_and_known_vector() -> None:
    # RFC 3720 test vector: CRC32C of 32 zero bytes.
    assert checksum.crc32c(bytes(32)) == 0x8A9136AA
    assert checksum.crc32c(b"123456789") == 0xE3069283
    big = os.urandom(3 * 1024 * 1024 + 7)
    half = len(big) // 2
    assert checksum.crc32c_combine(
        checksum.crc32c(big[:half]), checksum.crc32c(big[half:]), len(big) - half
    ) == checksum.crc32c(big)
    assert checksum.crc32c(b"abc") != zlib.crc32(b"abc")  # Castagnoli, not zlib's polynomial
    with pytest.raises(ValueError):
        checksum.crc32c_combine(0, 0, -1)


async def test_crc32c_file_matches_in_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(checksum.FILE_CHUNK + 12345)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert await checksum.crc32c_file(path) == checksum.crc32c(data)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert await checksum.crc32c_file(empty) == 0


def test_hash_and_pwritev_writes_and_extends(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "out"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        crc = checksum.hash_and_pwritev(fd, [b"hello "], 0, 0)
        crc = checksum.hash_and_pwritev(fd, [b"wor", b"ld"], 6, crc)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"hello world"
    assert crc == checksum.crc32c(b"hello world")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.exe", "evil.exe"),
        ("..", "download"),
        (".hidden", "hidden"),
        ("a\x00b\nc.mp4", "a_b_c.mp4"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ('we"ird<>|?*.mov', "we_ird_____.mov"),
        ("  video.mp4. ", "video.mp4"),
        ("", "download"),
        (None, "download"),
    ],
)
def test_sanitize_filename(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_sanitize_filename_limits_length_and_keeps_extension() -> None:
    name = sanitize_filename("é" * 300 + ".mp4")
    assert name.endswith(".mp4")
    assert len(name.encode()) <= 200


def test_names_from_headers_and_urls() -> None:
    assert filename_from_disposition('attachment; filename="clip.mp4"') == "clip.mp4"
    assert filename_from_disposition("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.mp4") == (
        "résumé.mp4"
    )
    assert filename_from_disposition(None) is None
    assert filename_from_url("https://h/x/y/my%20clip.mov?sig=1") == "my clip.mov"
    assert filename_from_url("https://h/") is None


def test_journal_round_trip_and_rejects_garbage() -> None:
    journal = Journal("id", 100, '"e"', 10, 5, {0: 1, 3: 2})
    again = Journal.from_json(journal.to_json())
    assert again == journal
    assert again is not None and again.matches("id", 100, '"e"')
    assert not again.matches("id", 101, '"e"')
    assert not again.matches("id", 100, '"f"')
    assert not Journal("id", 100, None, 10, None).matches("id", 100, None)
    assert Journal.from_json({"version": 99}) is None
    assert Journal.from_json({"version": 1, "identity": "x"}) is None
    assert Journal.from_json([1, 2]) is None

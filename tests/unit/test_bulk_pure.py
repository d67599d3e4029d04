"""Pure parts of bulk downloads: the file record, the rerun expectation, bulk sizing."""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import pytest

from pixop_async.transfer import _record
from pixop_async.transfer._fdlimit import bulk_limits
from pixop_async.transfer._rerun import Expectation, inspect_destination
from pixop_async.transfer.config import DEFAULT_FILES, TransferConfig
from pixop_async.transfer.journal import identity_hash

SOURCE = identity_hash("https://example.test/a")


def test_records_round_trip_and_hostile_ones_are_refused() -> None:
    record = _record.Record('"abc-1"', 10, 0xFFFFFFFF, SOURCE)
    assert _record.decode(record.encode()) == record
    # without the object's identity (as the first records were written), or a malformed one
    assert _record.decode(b'{"etag": "\\"a\\"", "size": 1, "crc32c": 1}') is None
    assert _record.decode(attrs.evolve(record, source="blake2b:12").encode()) is None
    for raw in (
        b"",
        b"[]",
        b"{",
        b'{"etag": 1, "size": 1, "crc32c": 1}',
        b'{"etag": "x", "size": -1, "crc32c": 1}',
        b'{"etag": "x", "size": true, "crc32c": 1}',
        b'{"etag": "x", "size": 1, "crc32c": 4294967296}',
        b'{"etag": "x", "size": 1.5, "crc32c": 1}',
        b'{"etag": "\\u00e9", "size": 1, "crc32c": 1}',
        b'{"etag": "a\\nb", "size": 1, "crc32c": 1}',
        b"[" * 100_000,
    ):
        assert _record.decode(raw) is None, raw
    assert _record.usable_etag("x" * (_record.MAX_ETAG + 1)) is None
    assert _record.usable_etag(None) is None and _record.usable_etag('"a-1"') == '"a-1"'


def test_only_one_strong_entity_tag_is_recorded() -> None:
    """A weak tag says "equivalent", not "the same bytes"; anything outside the grammar
    could make ``If-None-Match`` a list or a wildcard matching every version (b16: weak
    tags and ``"x", *`` used to be recorded and a 304 to them skipped a stale file)."""
    for etag in ('W/"a"', '"x", *', "*", "abc", '"a"b"', '"a" ', ' "a"', '"a', '""x'):
        assert _record.usable_etag(etag) is None, etag
        assert _record.decode(_record.Record(etag, 1, 1, SOURCE).encode()) is None, etag
    assert _record.usable_etag('""') == '""'


def test_expectation_checks_size_then_crc() -> None:
    wanted = Expectation(crc32c=7, size=10)
    assert wanted.accepts(10, None) and wanted.accepts(10, 7)
    assert not wanted.accepts(9, None) and not wanted.accepts(10, 8)
    assert Expectation(None, None).accepts(123, 456)


def test_a_linked_destination_is_not_inspected_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"data")
    os.setxattr(real, _record.ATTRIBUTE, _record.Record('"e"', 4, 0, SOURCE).encode())
    link = tmp_path / "dest"
    link.symlink_to(real)
    claimed: list = []  # type: ignore[type-arg]
    state = inspect_destination(link, claimed, Expectation(None, None))
    try:
        assert state is not None and state.record is None and state.verified is None
    finally:
        for target in claimed:
            target.release()


def test_bulk_downloads_are_sized_by_the_connection_budget() -> None:
    default = TransferConfig()
    assert default.max_concurrent_files is None
    assert default.download_files == default.max_connections * 3 // 2
    assert default.file_limit == DEFAULT_FILES
    fixed = TransferConfig(max_concurrent_files=3)
    assert fixed.download_files == fixed.file_limit == 3
    fitted = bulk_limits(default, 8, 200, default.download_files)
    assert fitted.files * (3 + fitted.connections) <= 200
    with pytest.raises(ValueError):
        TransferConfig(max_concurrent_files=0)

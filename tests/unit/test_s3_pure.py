"""Pure parts of S3 uploads: part sizing, checksum encodings, journal validation, failures."""

from __future__ import annotations

import base64
import builtins
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pixop_async.retry import FailureKind, RetryPolicy
from pixop_async.transfer import s3_journal as sj
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.s3_client import S3ExtraMissingError, failure_of, require_aiobotocore
from pixop_async.transfer.s3_plan import (
    DEFAULT_PART_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    MiB,
    S3PlanError,
    UploadPlan,
    check_key,
    choose_part_size,
    composite_checksum,
    decode_crc32c,
    encode_crc32c,
    plan_upload,
    whole_crc32c,
)

GiB = 1024 * MiB


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, DEFAULT_PART_SIZE),
        (1, DEFAULT_PART_SIZE),
        (50 * GiB, DEFAULT_PART_SIZE),  # 6,400 parts of 8 MiB
        (MAX_PARTS * DEFAULT_PART_SIZE, DEFAULT_PART_SIZE),
        (MAX_PARTS * DEFAULT_PART_SIZE + 1, 9 * MiB),
        (500 * 1000**3, 48 * MiB),
        (MAX_PARTS * MAX_PART_SIZE, MAX_PART_SIZE),
    ],
)
def test_part_size_obeys_s3_rules(size: int, expected: int) -> None:
    part = choose_part_size(size)
    assert part == expected
    assert MIN_PART_SIZE <= part <= MAX_PART_SIZE
    assert UploadPlan(size, part).count <= MAX_PARTS


def test_plan_covers_the_file_exactly() -> None:
    plan = plan_upload(3 * MIN_PART_SIZE + 7, MIN_PART_SIZE)
    parts = plan.parts()
    assert [p.number for p in parts] == [1, 2, 3, 4]
    assert parts[-1].length == 7
    assert sum(p.length for p in parts) == plan.size
    assert all(a.offset + a.length == b.offset for a, b in itertools.pairwise(parts))
    empty = plan_upload(0)
    assert empty.count == 1 and empty.parts()[0].length == 0


@pytest.mark.parametrize(
    ("size", "requested", "field"),
    [
        (10, MIN_PART_SIZE - 1, "part_size"),
        (10, MAX_PART_SIZE + 1, "part_size"),
        (MAX_PARTS * MIN_PART_SIZE + 1, MIN_PART_SIZE, "part_size"),
        (MAX_PARTS * MAX_PART_SIZE + 1, None, "size"),
        (-1, None, "size"),
    ],
)
def test_bad_plans_name_the_field(size: int, requested: int | None, field: str) -> None:
    with pytest.raises(S3PlanError, match=field):
        choose_part_size(size, requested)


def test_keys_are_checked() -> None:
    assert check_key("a/b.mp4") == "a/b.mp4"
    for bad in ("", "x" * 1025, "a\nb", None):
        with pytest.raises(S3PlanError, match="object_key"):
            check_key(bad)


def test_crc_encodings_round_trip_and_refuse_junk() -> None:
    assert encode_crc32c(0) == "AAAAAA=="
    assert decode_crc32c(encode_crc32c(0xDEADBEEF)) == 0xDEADBEEF
    for junk in ("", "AAAAAA=", "AAAAAAAA", "!!!!!!==", "AAAAAA==-2", None, 5):
        assert decode_crc32c(junk) is None


def test_whole_crc_from_parts_and_composite_value() -> None:
    data = bytes(range(256)) * 1000
    parts = [data[:100_000], data[100_000:200_000], data[200_000:]]
    assert whole_crc32c([(crc32c(p), len(p)) for p in parts]) == crc32c(data)
    crcs = [crc32c(p) for p in parts]
    joined = b"".join(c.to_bytes(4, "big") for c in crcs)
    expected = base64.b64encode(crc32c(joined).to_bytes(4, "big")).decode() + "-3"
    assert composite_checksum(crcs) == expected


def _journal_json(**changes: Any) -> dict[str, Any]:
    data = sj.S3Journal(
        store="http://127.0.0.1:9",
        bucket="b",
        key="k",
        upload_id="upload-1",
        part_size=MIN_PART_SIZE,
        source_size=3 * MIN_PART_SIZE,
        source_mtime_ns=5,
        checksum_type="FULL_OBJECT",
        parts={1: ('"etag1"', 7)},
    ).to_json()
    data.update(changes)
    return data


def test_journal_round_trips() -> None:
    journal = sj.parse(json.loads(json.dumps(_journal_json())))
    assert journal.parts == {1: ('"etag1"', 7)} and journal.upload_id == "upload-1"
    assert "upload-1" not in repr(journal)


@pytest.mark.parametrize(
    "changes",
    [
        {"version": 2},
        {"partSize": 1},
        {"sourceSize": -1},
        {"uploadId": ""},
        {"uploadId": "a b"},
        {"checksumType": "MD5"},
        {"parts": {"4": ['"e"', 1]}},  # beyond the 3 parts of the plan
        {"parts": {"1": ['"e"', 2**32]}},
        {"parts": {"1": ["bad\netag", 1]}},
        {"parts": {"x": ['"e"', 1]}},
        {"parts": []},
        {"sourceMtimeNs": True},
    ],
)
def test_journal_validation_rejects(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        sj.parse(_journal_json(**changes))


def test_journal_load_discards_junk(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_bytes(b"\xff not json")
    assert sj.load(path) is None
    assert not path.exists()
    assert sj.load(tmp_path / "absent.json") is None


def test_journal_write_is_private_and_does_not_follow_planted_links(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    sj.write(path, b"{}")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["j.json"]


class _ClientError(Exception):
    def __init__(self, code: str, status: int, headers: dict[str, str] | None = None) -> None:
        self.response = {
            "Error": {"Code": code},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
        }


def test_failures_map_onto_the_retry_policy() -> None:
    policy = RetryPolicy()
    bad_digest = failure_of(_ClientError("BadDigest", 400))
    assert bad_digest is not None and bad_digest.kind is FailureKind.TRANSPORT
    assert policy.decide("PUT", 1, bad_digest).retry
    slow = failure_of(_ClientError("SlowDown", 503, {"Retry-After": "2"}))
    assert slow is not None and slow.status == 503
    decision = policy.decide("PUT", 1, slow, rand=0.0)
    assert decision.retry and decision.delay == 2.0
    denied = failure_of(_ClientError("AccessDenied", 403))
    assert denied is not None and not policy.decide("PUT", 1, denied).retry
    assert failure_of(ConnectionResetError()) is not None
    assert failure_of(RuntimeError("bug")) is None


def test_missing_extra_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_aiobotocore(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("aiobotocore"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_aiobotocore)
    for module in [m for m in sys.modules if m.startswith("aiobotocore")]:
        monkeypatch.delitem(sys.modules, module)
    with pytest.raises(S3ExtraMissingError, match=r"pixop-async\[s3\]"):
        require_aiobotocore()


async def test_demo_leg_says_in_one_line_that_it_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pixop_async.cli import demo_local
    from pixop_async.cli.common import console

    monkeypatch.setattr(demo_local, "missing_requirement", lambda: "the [s3] extra")
    with console.capture() as captured:
        await demo_local.local_file_step(tmp_path / "none.mp4", 10.0)
    lines = [line for line in captured.get().splitlines() if "skipped" in line]
    assert len(lines) == 1 and "[s3]" in lines[0]


def test_journal_moves_to_the_cache_when_the_source_directory_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "v.mp4"
    assert sj.fallback_dir(source) is None  # a writable directory keeps its journals
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(sj.os, "access", lambda *_a, **_k: False)
    where = sj.fallback_dir(source)
    assert where == tmp_path / "cache" / "pixop-async" / "s3-uploads"
    assert where.is_dir() and (where.stat().st_mode & 0o777) == 0o700

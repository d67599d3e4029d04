"""Poll specs of imports, ingestion and exports, and the emulator's part planning."""

from __future__ import annotations

import itertools

from pixop_async.emulator.fetcher import PART_MIN, parse_content_range, plan_parts
from pixop_async.models.converter import structure
from pixop_async.models.videos import VideoInStatus, VideoOutStatus
from pixop_async.resources._video_polls import EXPORT, IMPORT, INGESTION

VID = "5b1f6a52-3f36-4a55-9f0e-0e1c8f1b8a11"


def _in(upload: str, ingestion: str | None = None, error: dict | None = None) -> VideoInStatus:
    data: dict = {
        "videoId": VID,
        "upload": {
            "uploadState": {"uploadStatus": upload, "progressPercentage": 40, "error": error}
        },
    }
    if ingestion:
        data["ingestion"] = {
            "ingestionState": {"ingestionStatus": ingestion, "progressPercentage": 70},
            "metadata": {},
            "qualityAssessment": {},
        }
    return structure(data, VideoInStatus)


def test_import_spec() -> None:
    assert not IMPORT.is_terminal(_in("IN_PROGRESS"))
    assert IMPORT.is_terminal(_in("DONE"))
    failed = _in("FAILED", error={"code": "CHECKSUM_MISMATCH", "message": "bad crc"})
    failure = IMPORT.failure_of(failed)
    assert failure is not None and failure.error_code == "CHECKSUM_MISMATCH"
    assert "bad crc" in failure.message
    assert IMPORT.failure_of(_in("DONE")) is None
    assert IMPORT.progress_of(_in("IN_PROGRESS")) == 40


def test_ingestion_spec_spans_copy_and_ingestion() -> None:
    assert not INGESTION.is_terminal(_in("DONE"))  # copied, not yet ingested
    assert not INGESTION.is_terminal(_in("DONE", "IN_PROGRESS"))
    assert INGESTION.is_terminal(_in("DONE", "DONE"))
    assert INGESTION.is_terminal(_in("FAILED"))  # ingestion never starts
    assert INGESTION.failure_of(_in("DONE", "FAILED")) is not None
    assert INGESTION.progress_of(_in("IN_PROGRESS")) == 20
    assert INGESTION.progress_of(_in("DONE", "IN_PROGRESS")) == 70


def test_export_spec() -> None:
    def out(status: str) -> VideoOutStatus:
        state = {"status": status, "progressPercentage": 10, "errorMessage": "disk full"}
        return structure({"videoId": VID, "output": {"state": state}}, VideoOutStatus)

    assert not EXPORT.is_terminal(out("IN_PROGRESS")) and EXPORT.is_terminal(out("DONE"))
    failure = EXPORT.failure_of(out("FAILED"))
    assert failure is not None and "disk full" in failure.message
    assert EXPORT.progress_of(out("IN_PROGRESS")) == 10


def test_plan_parts_covers_every_byte_once() -> None:
    for size, connections in ((1, 4), (PART_MIN * 3 + 7, 2), (10**8, 10), (5_000_000, 1)):
        parts = plan_parts(size, connections)
        assert parts[0][0] == 0 and parts[-1][1] == size - 1
        assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(parts))
    assert len(plan_parts(10**8, 10)) >= 10
    assert plan_parts(0, 4) == []


def test_parse_content_range() -> None:
    assert parse_content_range("bytes 0-9/100") == (0, 9, 100)
    assert parse_content_range("bytes 5-9/*") == (5, 9, None)
    assert parse_content_range("bytes */100") is None
    assert parse_content_range(None) is None

"""Every video, import, export, location and billing call checks its input before sending."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from aioresponses import aioresponses

from pixop_async import Pixop
from pixop_async.errors import InvalidRequestError
from pixop_async.models.locations import S3BucketWithAccessKeys

VID = "5b1f6a52-3f36-4a55-9f0e-0e1c8f1b8a11"
URL = "https://cdn.example.com/film.mp4"
GOOD = S3BucketWithAccessKeys("good-bucket", "AKIA1234", "secret-key")

Call = Callable[[Pixop], Any]

CASES: list[tuple[str, Call, str, str]] = [
    # (case, call, field, rule fragment)
    ("bad url", lambda px: px.imports.from_https("http://x.com/a", "n"), "url", "https"),
    ("name empty", lambda px: px.imports.from_https(URL, ""), "name", "between 1 and 255"),
    ("name long", lambda px: px.imports.from_https(URL, "n" * 256), "name", "between 1 and 255"),
    (
        "description long",
        lambda px: px.imports.from_https(URL, "n", description="d" * 512),
        "description",
        "between 0 and 511",
    ),
    (
        "connections 0",
        lambda px: px.imports.from_https(URL, "n", max_concurrent_connections=0),
        "max_concurrent_connections",
        "between 1 and 20",
    ),
    (
        "connections 21",
        lambda px: px.imports.from_https(URL, "n", max_concurrent_connections=21),
        "max_concurrent_connections",
        "between 1 and 20",
    ),
    ("crc negative", lambda px: px.imports.from_https(URL, "n", crc32c=-1), "crc32c", "between"),
    ("crc too big", lambda px: px.imports.from_https(URL, "n", crc32c=2**32), "crc32c", "between"),
    (
        "full ingestion not bool",
        lambda px: px.imports.from_https(URL, "n", full_ingestion="yes"),
        "full_ingestion",
        "bool",
    ),
    (
        "project id",
        lambda px: px.imports.from_https(URL, "n", project_id="p1"),
        "project_id",
        "UUID",
    ),
    (
        "file name empty",
        lambda px: px.imports.from_https(URL, "n", file_name=""),
        "file_name",
        "between 1 and 255",
    ),
    (
        "team id",
        lambda px: px.imports.from_https(URL, "n", select_team_id="t"),
        "select_team_id",
        "UUID",
    ),
    ("object key empty", lambda px: px.imports.from_s3(GOOD, "", "n"), "object_key", "between 1"),
    (
        "object key long",
        lambda px: px.imports.from_s3(GOOD, "k" * 1025, "n"),
        "object_key",
        "between 1 and 1024",
    ),
    (
        "bucket upper case",
        lambda px: px.imports.from_s3(S3BucketWithAccessKeys("Bad_Bucket", "a", "b"), "k", "n"),
        "s3_bucket.bucket",
        "DNS-compliant",
    ),
    (
        "bucket short",
        lambda px: px.imports.from_s3(S3BucketWithAccessKeys("ab", "a", "b"), "k", "n"),
        "s3_bucket.bucket",
        "between 3 and 63",
    ),
    (
        "bucket as ip",
        lambda px: px.imports.from_s3(S3BucketWithAccessKeys("10.0.0.1", "a", "b"), "k", "n"),
        "s3_bucket.bucket",
        "IP address",
    ),
    (
        "empty secret",
        lambda px: px.imports.from_s3(S3BucketWithAccessKeys("good-bucket", "a", ""), "k", "n"),
        "s3_bucket.secret_access_key",
        "non-empty",
    ),
    ("bucket type", lambda px: px.imports.from_s3("bucket", "k", "n"), "s3_bucket", "S3Bucket"),
    (
        "location id",
        lambda px: px.imports.from_s3_location("nope", "k", "n"),
        "input_location_id",
        "UUID",
    ),
    ("status id", lambda px: px.imports.status("nope"), "video_id", "UUID"),
    (
        "restart flag",
        lambda px: px.imports.restart(VID, skip_checksum_validation=1),
        "skip_checksum_validation",
        "bool",
    ),
    ("abandon id", lambda px: px.imports.abandon(12), "video_id", "UUID"),
    (
        "duration 0",
        lambda px: px.exports.download_url(VID, duration_minutes=0),
        "duration_minutes",
        "between 1 and 60",
    ),
    (
        "duration 61",
        lambda px: px.exports.download_url(VID, duration_minutes=61),
        "duration_minutes",
        "between 1 and 60",
    ),
    (
        "prefix long",
        lambda px: px.exports.to_s3(VID, GOOD, "p" * 1025),
        "object_key_prefix",
        "between 0 and 1024",
    ),
    (
        "output location",
        lambda px: px.exports.to_s3_location(VID, "x", "p"),
        "output_location_id",
        "UUID",
    ),
    ("export restart id", lambda px: px.exports.restart("x"), "video_id", "UUID"),
    ("video get", lambda px: px.videos.get("x"), "video_id", "UUID"),
    ("video update empty", lambda px: px.videos.update(VID), "name", "give name"),
    ("video rename", lambda px: px.videos.update(VID, name=""), "name", "between 1 and 255"),
    (
        "expected ids",
        lambda px: px.videos.delete(VID, expected_derived_ids=["x"]),
        "expected_derived_ids[0]",
        "UUID",
    ),
    (
        "expected ids string",
        lambda px: px.videos.delete(VID, expected_derived_ids=VID),
        "expected_derived_ids",
        "not a string",
    ),
    (
        "compare target",
        lambda px: px.videos.compare_with(VID, "x"),
        "target_video_id",
        "UUID",
    ),
    ("location name", lambda px: px.input_locations.create("", "bucket", "a", "b"), "name", "1"),
    (
        "location bucket",
        lambda px: px.output_locations.create("n", "-bad-", "a", "b"),
        "bucket",
        "DNS-compliant",
    ),
    (
        "location update empty",
        lambda px: px.output_locations.update(VID),
        "name",
        "at least one",
    ),
    (
        "period dates",
        lambda px: px.billing.stripe.list_billing_periods(
            from_date=dt.date(2025, 2, 1), to_date=dt.date(2025, 1, 1)
        ),
        "to_date",
        "not be before",
    ),
    (
        "period date type",
        lambda px: px.billing.stripe.list_billing_periods(from_date=dt.datetime(2025, 1, 1)),
        "from_date",
        "date",
    ),
    (
        "ended mode",
        lambda px: px.billing.stripe.list_billing_periods(ended_mode="SOME"),
        "ended_mode",
        "one of",
    ),
    (
        "tx datetime",
        lambda px: px.billing.stripe.transactions(VID, from_date_time="2025-01-01"),
        "from_date_time",
        "datetime",
    ),
    (
        "usage mode",
        lambda px: px.billing.aws_marketplace.credits_usage(processing_credits_usage_mode="x"),
        "processing_credits_usage_mode",
        "one of",
    ),
    (
        "agreement",
        lambda px: px.billing.aws_marketplace.get_subscription("../x"),
        "agreement_id",
        "letters",
    ),
    ("page size", lambda px: px.videos.list(page_size=101), "page_size", "between 1 and 100"),
    ("clip mode", lambda px: px.videos.list(clip_mode="MAYBE"), "clip_mode", "one of"),
]


@pytest.mark.parametrize(("case", "call", "field", "rule"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_input_fails_before_any_request(
    case: str, call: Call, field: str, rule: str
) -> None:
    async with Pixop("pxk_test_key_123456", base_url="https://api.example.test/api") as px:
        with aioresponses() as mocked:
            with pytest.raises(InvalidRequestError) as refused:
                result = call(px)
                if hasattr(result, "__await__"):
                    await result
            assert mocked.requests == {}
    assert refused.value.field == field
    assert rule in str(refused.value)
    assert "secret-key" not in str(refused.value)

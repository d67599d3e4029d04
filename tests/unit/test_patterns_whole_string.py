"""Every validating pattern matches the whole value: ``$`` also matched before a final
newline, so ``"name\\n"`` passed checks meant to keep values single-line and exact."""

from __future__ import annotations

import importlib
import re

import pytest

CASES = [
    ("pixop_async.pipeline.bulk_state", "_JOB", "job-1"),
    ("pixop_async.pipeline.bulk_state", "_KEY", "0" * 32),
    ("pixop_async.pipeline.policy", "_NAME", "pixop:jobs"),
    ("pixop_async.pipeline.policy", "_ENTRY_ID", "1-0"),
    ("pixop_async.pipeline.policy", "_KEY", "{tag}jobs"),
    ("pixop_async.emulator.media", "_RANGE", "bytes=0-1"),
    ("pixop_async.emulator.fetcher", "_CONTENT_RANGE", "bytes 0-1/2"),
    ("pixop_async.emulator.routes.locations", "_BUCKET", "bucket"),
    ("pixop_async.cli.tables", "_UUID", "12345678-1234-1234-1234-123456789abc"),
    ("pixop_async.resources.local_imports", "_UUID", "12345678-1234-1234-1234-123456789abc"),
    ("pixop_async.resources._video_args", "_BUCKET", "bucket"),
    ("pixop_async.webhooks.signature", "_TIMESTAMP_RE", "1700000000"),
    ("pixop_async.validation", "_HEADER_NAME", "X-Trace"),
    ("pixop_async.transfer.s3_plan", "_BUCKET", "bucket"),
    ("pixop_async.transfer.s3_client", "_REGION", "eu-west-1"),
    ("pixop_async.transfer.s3_journal", "_ETAG", '"abc"'),
    ("pixop_async.transfer.s3_journal", "_UPLOAD_ID", "upload-1"),
]


@pytest.mark.parametrize(("module", "name", "good"), CASES, ids=[f"{m}.{n}" for m, n, _ in CASES])
def test_a_trailing_newline_is_not_part_of_a_valid_value(module: str, name: str, good: str) -> None:
    pattern = getattr(importlib.import_module(module), name)
    assert isinstance(pattern, re.Pattern)
    assert pattern.match(good)
    assert not pattern.match(good + "\n")

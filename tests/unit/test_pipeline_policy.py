"""Pure decisions of the stream worker and the distributed bulk keys."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pixop_async.cli.manifest import DownloadItem, ImportItem
from pixop_async.pipeline import WorkerSettings, backoff, redacted
from pixop_async.pipeline.bulk_state import check_job, item_from_spec, item_key, spec_of
from pixop_async.pipeline.policy import Next, check_fields, check_name, on_failure, on_receipt


def test_backoff_doubles_with_jitter_and_stays_below_half_the_idle_timeout() -> None:
    s = WorkerSettings(backoff_base=1.0, backoff_cap=100.0, idle_timeout=30.0)
    assert backoff(s, 1, rand=1.0) == 1.0
    assert backoff(s, 3, rand=1.0) == 4.0
    assert backoff(s, 3, rand=0.0) == 2.0  # jitter keeps at least half
    assert backoff(s, 20, rand=1.0) == 15.0  # idle_timeout / 2, not the cap
    assert backoff(WorkerSettings(backoff_cap=3.0), 20, rand=1.0) == 3.0


def test_dead_letter_after_max_deliveries() -> None:
    s = WorkerSettings(max_deliveries=3)
    assert [on_failure(s, n) for n in (1, 2, 3)] == [Next.RETRY, Next.RETRY, Next.DEAD]
    assert on_receipt(s, 3) is Next.RUN and on_receipt(s, 4) is Next.DEAD


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("concurrency", 0),
        ("max_deliveries", 0),
        ("idle_timeout", 0),
        ("block", -1),
        ("backoff_base", -1),
        ("claim_interval", 0),
    ],
)
def test_settings_refuse_bad_values_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        WorkerSettings(**{field: value})  # type: ignore[arg-type]


def test_names_and_fields_from_redis_are_checked() -> None:
    assert check_name("pixop:bulk:a.b-c_1", "stream") == "pixop:bulk:a.b-c_1"
    for bad in ("", " x", "a b", "x\n", "é", 5, "a" * 200):
        with pytest.raises(ValueError, match="stream"):
            check_name(bad, "stream")
    assert check_fields({"a": "1"}) == {"a": "1"}
    for bad_fields in ([("a", "1")], {"a": 1}, {1: "a"}):
        with pytest.raises(ValueError):
            check_fields(bad_fields)
    with pytest.raises(ValueError, match="job name"):
        check_job("../x")


def test_item_keys_are_stable_and_specs_round_trip_through_validation() -> None:
    a = ImportItem("https://example.com/a.mp4", "film a", None, 123)
    assert item_key(a) == item_key(ImportItem("https://example.com/a.mp4", "film a", None, 123))
    assert item_key(a) != item_key(ImportItem("https://example.com/a.mp4", "film b"))
    assert len(item_key(a)) == 32
    import json

    assert item_from_spec(json.dumps(spec_of(a))) == a
    d = DownloadItem("6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1", "x.mp4")
    assert item_from_spec(json.dumps(spec_of(d))) == d
    with pytest.raises(Exception, match="unexpected"):
        item_from_spec(json.dumps({"url": "https://e.com/a", "name": "n", "evil": "1"}))
    with pytest.raises(ValueError, match="JSON"):
        item_from_spec("{not json")


def test_redacted_hides_the_password() -> None:
    assert redacted("redis://:s3cret@h:6379/0") == "redis://***@h:6379/0"
    assert redacted("redis://u:s3cret@h:6379/0") == "redis://u:***@h:6379/0"
    assert redacted("redis://h:6379/0") == "redis://h:6379/0"


def test_importing_the_sdk_does_not_import_redis() -> None:
    code = (
        "import sys, pixop_async, pixop_async.webhooks, pixop_async.cli.main;"
        "assert not [m for m in sys.modules if m == 'redis' or m.startswith('redis.')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_redis_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['redis'] = None; sys.modules['redis.asyncio'] = None\n"
        "from pixop_async.pipeline import connect, RedisUnavailableError\n"
        "try:\n    connect('redis://127.0.0.1:1/0')\n"
        "except RedisUnavailableError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert "pixop-async[redis]" in out.stdout

"""Unit checks found by the break-15 review: demo skip detection, foreign journals, log
redaction."""

from __future__ import annotations

import builtins
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from pixop_async.transfer import s3_journal as sj


def _break_aiobotocore(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiobotocore is installed (``find_spec`` sees it) but importing it fails, as with a
    release that does not fit the installed aiohttp/botocore."""
    real_import = builtins.__import__

    def broken(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("aiobotocore"):
            raise ImportError(f"{name}: needs another aiohttp")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken)
    for module in [m for m in sys.modules if m.startswith("aiobotocore")]:
        monkeypatch.delitem(sys.modules, module)


async def test_demo_leg_is_skipped_when_aiobotocore_is_installed_but_broken(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("aiobotocore")
    from pixop_async.cli import demo_local
    from pixop_async.cli.common import console

    _break_aiobotocore(monkeypatch)
    assert "[s3] extra" in (demo_local.missing_requirement() or "")
    with console.capture() as captured:
        await demo_local.local_file_step(tmp_path / "none.mp4", 10.0)
    text = captured.get()
    assert [line for line in text.splitlines() if "skipped" in line]
    assert "error" not in text.lower()


def _journal(path: Path) -> None:
    journal = sj.S3Journal(
        store="http://127.0.0.1:1", bucket="bkt", key="k", upload_id="up-1",
        part_size=5 * 1024 * 1024, source_size=10, source_mtime_ns=1, checksum_type="FULL_OBJECT",
    )
    sj.write(path, sj.encode(journal), fsync=False)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_journal_of_another_user_is_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "j.s3upload.json"
    _journal(path)
    assert sj.load(path) is not None  # ours: loaded
    _journal(path)
    os.chown(path, 65534, 65534)
    with caplog.at_level(logging.WARNING, "pixop_async"):
        assert sj.load(path) is None
    assert "another user" in caplog.text


def test_fallback_journal_directory_is_made_private_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(sj.os, "access", lambda *_a, **_k: False)
    where = tmp_path / "cache" / "pixop-async" / "s3-uploads"
    where.mkdir(parents=True)
    where.chmod(0o777)
    assert sj.fallback_dir(tmp_path / "v.mp4") == where
    assert (where.stat().st_mode & 0o777) == 0o700


def test_redaction_filter_masks_botocore_header_shapes() -> None:
    from pixop_async.transfer.s3_client import _RedactCredentials

    record = logging.LogRecord(
        "botocore.endpoint", logging.DEBUG, __file__, 1,
        "headers=%s", ({"Authorization": b"AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN0001/2026"
                        b"/us-east-1/s3/aws4_request", "X-Amz-Security-Token": b"tok3n-value"},),
        None,
    )
    _RedactCredentials().filter(record)
    text = record.getMessage()
    assert "AKIAUNKNOWN0001" not in text and "tok3n-value" not in text
    assert "Credential=***" in text


def test_botocore_connection_failures_are_transport_failures() -> None:
    exceptions = pytest.importorskip("botocore.exceptions")
    from pixop_async.retry import FailureKind, RetryPolicy
    from pixop_async.transfer.s3_client import failure_of

    for exc in (
        exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        exceptions.ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ):
        failure = failure_of(exc)
        assert failure is not None and failure.kind is FailureKind.TRANSPORT, exc
        assert RetryPolicy().decide("PUT", 1, failure).retry

"""Shared test setup.

The emulator fixtures come from the SDK's own pytest plugin. A session-wide log collector
records every log record (DEBUG and up) emitted during the whole run and fails the run if any
of them carries something that looks like a credential: emulator API keys, the seeded
password, JWTs or HTTP Basic / Bearer header values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from pixop_async.emulator import EmulatorConfig

pytest_plugins = ["pixop_async.testing", "tests.s3_fixtures"]

SECRET_PATTERNS = [
    re.compile(r"pxk_[A-Za-z0-9_\-]{8,}"),  # emulator API keys (and test keys shaped like them)
    re.compile(re.escape(EmulatorConfig().seed_password)),
    re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),  # JWTs
    re.compile(r"\b(Basic|Bearer) [A-Za-z0-9+/=._\-]{12,}"),
    re.compile(r"moto-secret-key-never-logged"),  # the S3 secret of tests/s3_fixtures.py
]


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not our concern here
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        self.texts.append(text)


@pytest.fixture(scope="session", autouse=True)
def _no_secrets_in_logs() -> Iterator[None]:
    collector = _LogCollector()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(collector)
    root.setLevel(previous)
    leaks = [t[:200] for t in collector.texts if any(p.search(t) for p in SECRET_PATTERNS)]
    assert not leaks, f"credentials appeared in {len(leaks)} log records, e.g. {leaks[:3]}"

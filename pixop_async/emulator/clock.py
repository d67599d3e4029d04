"""The emulator's clock: real time plus an offset tests can advance."""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    """Wall-clock time with a settable offset; ``now()`` never repeats a value, so
    ``createdAt`` ordering is total."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._last = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (appraisal expiry, TTLs, token lifetimes)."""
        self.offset += seconds

    def time(self) -> float:
        """Unix time including the offset."""
        return time.time() + self.offset

    def now(self) -> dt.datetime:
        current = dt.datetime.fromtimestamp(self.time(), tz=dt.timezone.utc)
        if current <= self._last:
            current = self._last + dt.timedelta(microseconds=1)
        self._last = current
        return current


def iso(value: dt.datetime) -> str:
    """RFC 3339 with milliseconds and ``Z``, the way the API writes date-times."""
    return (
        value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )

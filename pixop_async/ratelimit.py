"""Rate-limit state reported by the API in ``X-RateLimit-*`` headers."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .retry import parse_rate_limit_reset


@attrs.frozen
class RateLimit:
    """The latest rate-limit window seen: ``limit`` requests a minute, ``remaining`` left,
    resetting ``reset_seconds`` after ``observed_at`` (a monotonic timestamp)."""

    limit: int | None
    remaining: int | None
    reset_seconds: float | None
    observed_at: float

    def seconds_until_reset(self, now: float) -> float:
        """Seconds from ``now`` (monotonic) until the window resets; 0 when unknown or past."""
        if self.reset_seconds is None:
            return 0.0
        return max(0.0, self.observed_at + self.reset_seconds - now)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_rate_limit(headers: Mapping[str, str], *, now: float) -> RateLimit | None:
    """Read the rate-limit headers of a response; ``None`` when it carries none."""
    lowered = {k.lower(): v for k, v in headers.items()}
    limit = _int_or_none(lowered.get("x-ratelimit-limit"))
    remaining = _int_or_none(lowered.get("x-ratelimit-remaining"))
    reset = parse_rate_limit_reset(lowered.get("x-ratelimit-reset"))
    if limit is None and remaining is None and reset is None:
        return None
    if limit is not None and limit < 0:
        limit = None  # nonsense: no known limit
    if remaining is not None:
        # a negative count is an exhausted window; no window holds more than its limit
        remaining = max(0, remaining if limit is None else min(remaining, limit))
    return RateLimit(limit=limit, remaining=remaining, reset_seconds=reset, observed_at=now)

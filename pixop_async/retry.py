"""Retry policy: which failures are retried, and how long to wait before the next attempt.

Everything here is pure (the caller supplies the clock and the random draw) so the decisions
are unit-testable without I/O.
"""

from __future__ import annotations

import email.utils
import enum
import math
from collections.abc import Mapping

import attrs

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class FailureKind(enum.Enum):
    """How an attempt failed, as far as retrying is concerned."""

    #: The connection could not be made: the request certainly never reached the server.
    CONNECT = "connect"
    #: The connection broke or timed out after the request may have been sent.
    TRANSPORT = "transport"
    #: The server answered with an HTTP status.
    STATUS = "status"


@attrs.frozen
class Failure:
    """One failed attempt: its kind, the HTTP status (for STATUS) and the response headers."""

    kind: FailureKind
    status: int | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class RetryDecision:
    """What to do after a failed attempt."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0")


@attrs.frozen
class RetryPolicy:
    """How failed requests are retried.

    Idempotent requests are retried on connection failures, timeouts and the statuses in
    ``retry_statuses``; POST and PATCH only when the request never reached the server or
    the server refused it unprocessed with 429.
    Waits grow exponentially from ``base_delay`` up to ``max_delay`` with full jitter; a
    server's ``Retry-After`` or ``X-RateLimit-Reset`` takes precedence (up to
    ``max_server_delay``). No more than ``max_attempts`` attempts are made and the waits
    together never exceed ``max_total_delay`` seconds.
    """

    max_attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    base_delay: float = attrs.field(default=0.5, validator=_positive)
    max_delay: float = attrs.field(default=20.0, validator=_positive)
    max_total_delay: float = attrs.field(default=60.0, validator=_positive)
    max_server_delay: float = attrs.field(default=60.0, validator=_positive)
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int, rand: float) -> float:
        """Full-jitter exponential backoff for the wait after ``attempt`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * math.pow(2, attempt - 1))
        return cap * rand

    def decide(
        self,
        method: str,
        attempt: int,
        failure: Failure,
        *,
        waited: float = 0.0,
        rand: float = 1.0,
        now: float = 0.0,
    ) -> RetryDecision:
        """Decide whether attempt ``attempt`` (1-based) that failed as ``failure`` is retried.

        ``waited`` is the total delay already spent on earlier retries; ``rand`` a uniform draw
        in [0, 1) for jitter; ``now`` the current unix time (for HTTP-date Retry-After).
        """
        if attempt >= self.max_attempts:
            return RetryDecision(False, reason=f"gave up after {attempt} attempts")
        safe = method.upper() in self.idempotent_methods
        if failure.kind is FailureKind.STATUS:
            if failure.status not in self.retry_statuses:
                return RetryDecision(False, reason=f"HTTP {failure.status} is not retryable")
            # A 429 means the server refused the request before acting on it: sending it
            # again is safe for every method, POST included.
            if not safe and failure.status != 429:
                return RetryDecision(False, reason=f"{method} reached the server")
        elif failure.kind is FailureKind.TRANSPORT and not safe:
            return RetryDecision(False, reason=f"{method} may have reached the server")
        delay = self.backoff(attempt, rand)
        server_delay = server_advised_delay(failure.headers, now=now)
        if server_delay is not None:
            if server_delay > self.max_server_delay:
                return RetryDecision(
                    False, reason=f"server asked to wait {server_delay:.0f}s, above the limit"
                )
            delay = max(delay, server_delay)
        if waited + delay > self.max_total_delay:
            return RetryDecision(False, reason="total retry delay budget exhausted")
        return RetryDecision(True, delay, reason=_describe(failure))


def _describe(failure: Failure) -> str:
    if failure.kind is FailureKind.STATUS:
        return f"HTTP {failure.status}"
    return str(failure.kind.value)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def parse_rate_limit_reset(value: str | None) -> float | None:
    """Seconds until the rate-limit window resets, from ``X-RateLimit-Reset``."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def server_advised_delay(headers: Mapping[str, str], *, now: float) -> float | None:
    """The wait a response asks for: ``Retry-After`` first, else ``X-RateLimit-Reset``.

    ``X-RateLimit-Reset`` only counts when the window is used up (``Remaining`` is 0 or
    absent), since otherwise the server is not asking us to wait.
    """
    retry_after = parse_retry_after(_header(headers, "Retry-After"), now=now)
    if retry_after is not None:
        return retry_after
    remaining = _header(headers, "X-RateLimit-Remaining")
    if remaining is not None and remaining.strip() not in ("0", ""):
        return None
    return parse_rate_limit_reset(_header(headers, "X-RateLimit-Reset"))

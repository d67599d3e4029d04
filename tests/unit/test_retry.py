"""Pure retry decisions and header parsing."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixop_async.retry import (
    Failure,
    FailureKind,
    RetryPolicy,
    parse_rate_limit_reset,
    parse_retry_after,
    server_advised_delay,
)

POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=8.0, max_total_delay=100.0)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_idempotent_methods_retry_retryable_statuses(method: str, status: int) -> None:
    decision = POLICY.decide(method, 1, Failure(FailureKind.STATUS, status))
    assert decision.retry


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_final(status: int) -> None:
    assert not POLICY.decide("GET", 1, Failure(FailureKind.STATUS, status)).retry


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_only_retried_when_never_sent(method: str) -> None:
    assert POLICY.decide(method, 1, Failure(FailureKind.CONNECT)).retry
    assert not POLICY.decide(method, 1, Failure(FailureKind.TRANSPORT)).retry
    assert not POLICY.decide(method, 1, Failure(FailureKind.STATUS, 503)).retry


def test_attempts_are_capped() -> None:
    assert POLICY.decide("GET", 4, Failure(FailureKind.TRANSPORT)).retry
    final = POLICY.decide("GET", 5, Failure(FailureKind.TRANSPORT))
    assert not final.retry
    assert "5 attempts" in final.reason


def test_backoff_grows_and_is_capped() -> None:
    assert POLICY.backoff(1, 1.0) == 1.0
    assert POLICY.backoff(2, 1.0) == 2.0
    assert POLICY.backoff(3, 1.0) == 4.0
    assert POLICY.backoff(10, 1.0) == 8.0
    assert POLICY.backoff(3, 0.5) == 2.0


@given(attempt=st.integers(1, 50), rand=st.floats(0, 1, exclude_max=True))
def test_backoff_within_bounds(attempt: int, rand: float) -> None:
    delay = POLICY.backoff(attempt, rand)
    assert 0 <= delay <= POLICY.max_delay


def test_retry_after_seconds_wins_over_backoff() -> None:
    failure = Failure(FailureKind.STATUS, 429, {"Retry-After": "7"})
    decision = POLICY.decide("GET", 1, failure, rand=0.0)
    assert decision.retry and decision.delay == 7.0


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30, abs=1)


def test_rate_limit_reset_used_when_window_exhausted() -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "12"}
    assert server_advised_delay(headers, now=0) == 12
    assert (
        server_advised_delay({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "12"}, now=0)
        is None
    )


def test_server_delay_beyond_limit_gives_up() -> None:
    failure = Failure(FailureKind.STATUS, 503, {"Retry-After": "3600"})
    assert not POLICY.decide("GET", 1, failure).retry


def test_total_delay_budget() -> None:
    failure = Failure(FailureKind.STATUS, 503, {"Retry-After": "10"})
    assert POLICY.decide("GET", 1, failure, waited=85).retry
    assert not POLICY.decide("GET", 1, failure, waited=95).retry


@pytest.mark.parametrize("value", ["", "soon", "nan", "inf", None])
def test_bad_retry_after_values_are_ignored(value: str | None) -> None:
    assert parse_retry_after(value, now=0) is None


def test_negative_values_clamp_to_zero() -> None:
    assert parse_retry_after("-5", now=0) == 0
    assert parse_rate_limit_reset("-1") == 0


def test_disabled_policy_never_retries() -> None:
    assert not RetryPolicy.disabled().decide("GET", 1, Failure(FailureKind.CONNECT)).retry


@given(
    method=st.sampled_from(["POST", "PATCH"]),
    # 429 is the exception: the server refused the request before acting on it (#16)
    status=st.integers(100, 599).filter(lambda s: s != 429),
    attempt=st.integers(1, 10),
)
def test_never_retries_non_idempotent_request_that_reached_server(
    method: str, status: int, attempt: int
) -> None:
    assert not POLICY.decide(method, attempt, Failure(FailureKind.STATUS, status)).retry
    assert not POLICY.decide(method, attempt, Failure(FailureKind.TRANSPORT)).retry

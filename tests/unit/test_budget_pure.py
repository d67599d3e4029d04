"""Pure decisions of the request budget and the webhook safety net."""

from __future__ import annotations

import itertools

import pytest

from pixop_async.budget import merge_window, next_virtual_grant, pacing_delay, window_gap
from pixop_async.polling import PollIntervals, jittered
from pixop_async.ratelimit import RateLimit
from pixop_async.webhooks.waiting import SAFETY_MAX_INTERVAL, safety_poll_delays


def test_jitter_stays_within_its_band_and_spreads() -> None:
    assert jittered(10, 0.0, 0.2) == pytest.approx(8)
    assert jittered(10, 0.999999, 0.2) == pytest.approx(12, abs=1e-4)
    assert jittered(10, 0.5, 0.0) == 10
    assert len({round(jittered(10, r / 100, 0.2), 6) for r in range(100)}) == 100
    with pytest.raises(ValueError):
        PollIntervals(jitter=1.0)


def test_safety_polls_start_late_and_back_off_to_a_cap() -> None:
    delays = list(itertools.islice(safety_poll_delays(60), 8))
    assert delays[:4] == [60, 120, 240, 480]
    assert delays[-1] == SAFETY_MAX_INTERVAL
    assert all(b >= a for a, b in itertools.pairwise(delays))


def test_burst_lets_a_small_client_go_ahead_of_the_even_spacing() -> None:
    rate = RateLimit(limit=600, remaining=600, reset_seconds=60, observed_at=0)
    even = pacing_delay(rate, now=0, in_flight=0, last_grant=0, reserve=0)
    assert even == pytest.approx(0.1)
    assert pacing_delay(rate, now=0, in_flight=0, last_grant=0, reserve=0, burst=30) == 0
    # the theoretical grant time runs ahead by one gap per request: after 30 at once the
    # 31st waits for the even spacing again
    virtual = None
    for _ in range(31):
        virtual = next_virtual_grant(virtual, 0.0, 0.1)
    assert pacing_delay(rate, now=0, in_flight=0, last_grant=virtual, reserve=0, burst=30) > 0


def test_in_flight_requests_count_against_the_window() -> None:
    rate = RateLimit(limit=600, remaining=3, reset_seconds=30, observed_at=0)
    assert pacing_delay(rate, now=0, in_flight=3, last_grant=None, reserve=0) > 30
    assert window_gap(rate, now=0, in_flight=1, reserve=0) == pytest.approx(15)


def test_server_without_limit_headers_is_capped_only_by_in_flight() -> None:
    assert pacing_delay(None, now=0, in_flight=50, last_grant=0, reserve=0, unlimited=True) == 0
    assert (
        pacing_delay(
            None, now=0, in_flight=64, last_grant=0, reserve=0, unlimited=True, max_in_flight=64
        )
        > 0
    )


def test_overtaken_responses_do_not_raise_remaining_within_a_window() -> None:
    older = RateLimit(limit=600, remaining=100, reset_seconds=30, observed_at=10)
    stale = RateLimit(limit=600, remaining=140, reset_seconds=29, observed_at=11)
    assert merge_window(older, stale) is older
    fresh = RateLimit(limit=600, remaining=599, reset_seconds=60, observed_at=41)
    assert merge_window(older, fresh) is fresh

"""The budget's pure pacing decisions: how long a request must wait inside the API's
``X-RateLimit-*`` window, the even spacing of grants, and which of two reported windows to
keep. No state and no clock of their own: :class:`pixop_async.budget.RequestBudget` feeds
them its window, its counts and its clock's time."""

from __future__ import annotations

import math

from .ratelimit import RateLimit

#: How long a waiter re-checks while a probe (a request sent with no known window) is out.
PROBE_RECHECK_SECONDS = 0.05
#: Added after a window's announced reset: the reset header is rounded to whole seconds.
RESET_MARGIN_SECONDS = 1.0


def reserve_for(limit: int | None, *, fraction: float = 0.05, minimum: int = 1) -> int:
    """Requests of a window left unused by a budget that does not pace every call."""
    if limit is None:
        return minimum
    return max(minimum, math.ceil(limit * fraction))


def pacing_delay(
    rate: RateLimit | None,
    *,
    now: float,
    in_flight: int,
    last_grant: float | None,
    reserve: int,
    unlimited: bool = False,
    max_in_flight: int | None = None,
    burst: int = 0,
) -> float:
    """Seconds a request must still wait before it may be sent (0 → send now).

    ``rate`` is the latest window seen (``observed_at`` and ``now`` on the same monotonic
    clock), ``in_flight`` the requests granted whose responses have not arrived yet,
    ``last_grant`` when the previous request was let out, ``reserve`` requests of each
    window kept back. ``unlimited`` says responses came back carrying no window that can be
    paced by (none at all, or a partial one that does not say nothing is left);
    ``max_in_flight`` caps requests out at once in every state. ``burst`` requests may go
    ahead of the even spacing (a generic cell rate algorithm: ``last_grant`` is then the
    theoretical time of the last grant, see :func:`next_virtual_grant`), so a small client
    is not slowed to the average rate while a large one still spreads its load.
    """
    if max_in_flight is not None and in_flight >= max_in_flight:
        return PROBE_RECHECK_SECONDS
    if not window_open(rate, now):
        if unlimited:
            return 0.0
        # Unknown or expired window: one probe at a time until a response reports it.
        return 0.0 if in_flight == 0 else PROBE_RECHECK_SECONDS
    assert rate is not None and rate.remaining is not None
    until_reset = rate.seconds_until_reset(now)
    usable = rate.remaining - in_flight - reserve
    if usable <= 0:
        return until_reset + RESET_MARGIN_SECONDS
    gap = until_reset / usable
    if last_grant is None:
        return 0.0
    return max(0.0, last_grant + gap - min(burst, usable - 1) * gap - now)


def window_open(rate: RateLimit | None, now: float) -> bool:
    """Whether ``rate`` is a window to pace by at ``now``: a count left, and its reset
    still ahead."""
    return (
        rate is not None
        and rate.remaining is not None
        and rate.reset_seconds is not None
        and now < rate.observed_at + rate.reset_seconds
    )


def awaits_response(
    rate: RateLimit | None,
    *,
    now: float,
    in_flight: int,
    unlimited: bool = False,
    max_in_flight: int | None = None,
) -> bool:
    """Whether the next grant waits for a response to come back (a place out of
    ``max_in_flight`` to free up, or the probe that will report the window) rather than for
    a time the window sets. :func:`pacing_delay` then answers a re-check period, not when
    the grant will come: it may come at any moment, so no deadline can be judged missed by
    it before the deadline itself."""
    if max_in_flight is not None and in_flight >= max_in_flight:
        return True
    return not window_open(rate, now) and not unlimited and in_flight > 0


def paceable(rate: RateLimit) -> bool:
    """Whether a reported window can be paced by: a count left and a reset still ahead."""
    return rate.remaining is not None and rate.reset_seconds is not None and rate.reset_seconds > 0


def next_virtual_grant(previous: float | None, now: float, gap: float) -> float:
    """The theoretical time of a grant made at ``now`` when the previous one's was
    ``previous`` and grants are ``gap`` seconds apart (never earlier than one gap after
    it, never later than now): the state :func:`pacing_delay` measures bursts against."""
    if previous is None:
        return now
    return max(previous + gap, now) if gap > 0 else now


def window_gap(rate: RateLimit | None, *, now: float, in_flight: int, reserve: int) -> float:
    """Seconds between evenly spread requests in the current window (0 when unknown)."""
    if rate is None or rate.remaining is None or rate.reset_seconds is None:
        return 0.0
    usable = rate.remaining - in_flight - reserve
    if usable <= 0 or now >= rate.observed_at + rate.reset_seconds:
        return 0.0
    return rate.seconds_until_reset(now) / usable


def merge_window(old: RateLimit | None, new: RateLimit) -> RateLimit:
    """The window to keep after a response reports ``new``.

    Responses overtake each other: within one window (same reset instant, give or take the
    header's rounding) the lowest ``remaining`` is the truest; a later reset is a new window.
    """
    if (
        old is None
        or old.remaining is None
        or new.remaining is None
        or old.reset_seconds is None
        or new.reset_seconds is None
    ):
        return new
    old_end = old.observed_at + old.reset_seconds
    new_end = new.observed_at + new.reset_seconds
    if abs(new_end - old_end) <= 1.5 and old.remaining < new.remaining:
        return old
    return new

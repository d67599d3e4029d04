"""Pure parts of trimming and of the permanent-error rule."""

from __future__ import annotations

import pytest

from pixop_async.errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from pixop_async.pipeline import PermanentError, WorkerSettings, is_permanent
from pixop_async.pipeline.policy import Next, on_failure
from pixop_async.pipeline.trim import TrimPacer, TrimResult, trim_result
from pixop_async.webhooks.events import WebhookEventError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_trims_every_n_acks_or_after_the_interval() -> None:
    clock = Clock()
    pacer = TrimPacer(3, 5.0, clock)
    assert [pacer.acked() for _ in range(7)] == [False, False, True, False, False, True, False]
    assert not pacer.overdue()  # one ack waits, but the interval has not passed
    clock.now += 5.0
    assert pacer.overdue() and not pacer.overdue()  # once, then nothing waits
    clock.now += 60.0
    assert not pacer.overdue()  # no acknowledgement since: nothing to trim
    assert pacer.acked()  # the interval passed: the first ack is enough


def test_trim_reply_is_checked() -> None:
    assert trim_result(["", 0]) == TrimResult(None, 0)
    assert trim_result(["5-1", 3]) == TrimResult("5-1", 3)
    with pytest.raises(ValueError, match="unexpected trim reply"):
        trim_result(None)


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (PermanentError("no"), True),
        (InvalidRequestError("video_id", "must be a UUID"), True),
        (WebhookEventError("not an event"), True),
        (BadRequestError(400, "invalid"), True),
        (NotFoundError(404, "gone"), True),
        (UnprocessableEntityError(422, "bad"), True),
        (ConflictError(409, "still processing"), False),
        # the worker's key, not the message: a rotated key must not dead-letter a backlog
        (AuthenticationError(401, "key revoked"), False),
        (PermissionDeniedError(403, "key lacks the scope"), False),
        (APIStatusError(407, "proxy credentials"), False),
        (RateLimitError(429, "slow down"), False),
        (ServerError(503, "later"), False),
        (APIConnectionError("reset"), False),
        (ValueError("a handler bug, maybe transient"), False),
    ],
)
def test_which_errors_are_permanent(exc: Exception, permanent: bool) -> None:
    assert is_permanent(exc) is permanent


def test_a_permanent_failure_is_dead_at_the_first_delivery() -> None:
    settings = WorkerSettings(max_deliveries=5)
    assert on_failure(settings, 1) is Next.RETRY
    assert on_failure(settings, 1, permanent=True) is Next.DEAD
    assert on_failure(settings, 5) is Next.DEAD


def test_trim_settings_are_checked() -> None:
    assert WorkerSettings().trim is True
    with pytest.raises(ValueError, match="trim_every"):
        WorkerSettings(trim_every=0)
    with pytest.raises(ValueError, match="trim_interval"):
        WorkerSettings(trim_interval=-1)

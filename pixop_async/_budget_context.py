"""What the requests of a task tell the budget through context variables: their priority
stamp (:func:`pipeline`, :func:`urgent`), their deadline (:func:`deadline`) and the place an
enclosing slot holds for them (``_Place``)."""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .budget import RequestBudget

_stamp: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pixop_budget_stamp", default=None
)
_held: contextvars.ContextVar[_Place | None] = contextvars.ContextVar(
    "pixop_budget_held", default=None
)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pixop_budget_deadline", default=None
)


class _Place:
    """One granted place of a budget, as seen by the slots nested inside the one that took it.

    The first request made inside a slot uses the slot's place (``spare`` until then); the
    place ends with that request, so a retry of it, or a second request made inside the same
    slot, queues for a place of its own instead of going out unpaced."""

    __slots__ = ("budget", "generation", "released", "spare")

    def __init__(self, budget: RequestBudget) -> None:
        self.budget = budget
        self.spare = True
        self.released = False
        # the budget's counts it is part of (a loop's places forgotten: it is not)
        self.generation = budget._home.generation


class BudgetTimeout(Exception):
    """Internal: the budget would grant the request only after the caller's deadline."""


@contextlib.contextmanager
def pipeline(stamp: float | None = None) -> Iterator[None]:
    """Give the requests made inside the block a fresh priority stamp (default: now).

    Use it when one task drives several jobs one after another; each job then queues by its
    own start time instead of the task's."""
    token = _stamp.set(time.monotonic() if stamp is None else stamp)
    try:
        yield
    finally:
        _stamp.reset(token)


def urgent() -> contextlib.AbstractContextManager[None]:
    """Requests inside the block go ahead of every pipeline (work that unblocks many
    others, such as fetching the webhook signing keys every delivery waits for)."""
    return pipeline(stamp=float("-inf"))


def checked_deadline(when: float | None) -> float | None:
    """``when`` if it is a deadline the budget can order by: None or a number that is not
    NaN (NaN compares false both ways; queued, it would hide every deadline behind it)."""
    if when is not None and math.isnan(when):
        raise ValueError("deadline must be a time on the budget's clock or None, not NaN")
    return when


@contextlib.contextmanager
def deadline(when: float | None) -> Iterator[None]:
    """Requests inside the block raise :class:`BudgetTimeout` rather than wait for a grant
    after ``when`` (on the budget's clock); one that may go at once goes. ``when`` must not
    be NaN."""
    token = _deadline.set(checked_deadline(when))
    try:
        yield
    finally:
        _deadline.reset(token)

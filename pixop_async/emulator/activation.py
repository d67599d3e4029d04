"""Records that are switched active/inactive under a cap on how many may be active at once
(API keys per user, webhooks per team)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .http import fail
from .state import EmulatorState


def refuse_when_full(
    records: Iterable[dict[str, Any]], limit: int, code: str, message: str
) -> None:
    """409 ``code`` when ``limit`` of ``records`` are active already."""
    if sum(1 for record in records if record["active"]) >= limit:
        fail(409, code, message)


def set_active(
    state: EmulatorState,
    record: dict[str, Any],
    active: bool,
    *,
    before_activating: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Switch ``record["active"]``. Only an actual change is stamped (``updatedAt``); an
    activation first runs ``before_activating``, which raises to refuse it."""
    if record["active"] != active:
        if active and before_activating is not None:
            before_activating()
        record["active"] = active
        state.touch(record)
    return record

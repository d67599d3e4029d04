"""Progress reporting: bytes actually received or sent, throttled, rolled back on retry."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable

#: ``callback(done_bytes, total_bytes_or_None)``; may be a plain function or a coroutine function.
ProgressCallback = Callable[[int, int | None], Awaitable[None] | None]


class Progress:
    """Counts transferred bytes and tells a callback at most once per ``interval``.

    The reported figure never exceeds ``total`` and goes back down when bytes are discarded
    for a retry. A final report with the exact figure is always made by :meth:`finish`.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        total: int | None = None,
        *,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self.total = total
        self.done = 0
        #: bytes moved in total, never rolled back (what deadlines measure)
        self.moved = 0
        self._interval = interval
        self._clock = clock
        self._last_call = float("-inf")
        self._last_value: int | None = None
        self._busy = False

    def _value(self) -> int:
        value = max(0, self.done)
        return min(value, self.total) if self.total is not None else value

    async def _emit(self) -> None:
        if self._callback is None or self._busy:
            return
        value = self._value()
        self._last_call = self._clock()
        if value == self._last_value:
            return
        self._last_value = value
        self._busy = True
        try:
            outcome = self._callback(value, self.total)
            if inspect.isawaitable(outcome):
                await outcome
        finally:
            self._busy = False

    async def advance(self, nbytes: int) -> None:
        """Count ``nbytes`` more and report if the last report is old enough."""
        self.done += nbytes
        self.moved += nbytes
        if self._callback is not None and self._clock() - self._last_call >= self._interval:
            await self._emit()

    def rollback(self, nbytes: int) -> None:
        """Take back ``nbytes`` that were counted but will be transferred again."""
        self.done -= nbytes

    async def finish(self) -> None:
        """Report the final figure (unthrottled)."""
        await self._emit()

"""The budget's pump: one task that sleeps until the budget must serve its queue again.

Requests that can go at once are granted by whoever makes them possible (a new request, a
finished one, a better window); the pump is for the ones that must wait for a time (the
window's pacing, a deadline to tell). ``tick`` serves the queue and answers how long until
it must run again, or None once nobody waits.

A pump task that ends cancelled without the budget having replaced or stopped it (a
supervisor sweeping stray tasks, say) is started again at once: else the waiters it was
to serve would wait for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: The shortest sleep of a pump (a due time already reached must not spin it).
MIN_PAUSE = 0.001


class Pump:
    """One budget's pump (see the module docstring)."""

    __slots__ = ("_clock", "_sleep", "_tick", "due", "task")

    def __init__(self, tick: Callable[[], float | None], clock: Clock, sleep: Sleep) -> None:
        self._tick = tick
        self._clock = clock
        self._sleep = sleep
        self.task: asyncio.Task[None] | None = None
        self.due: float | None = None  # when the task wakes next (clock time)

    def ensure(self, wait: float = 0.0) -> None:
        """A pump that wakes by ``wait`` seconds from now: a new one when there is none,
        when it belongs to another (maybe closed) event loop, or when it sleeps past that
        (a window that improved must not leave waiters behind a two-minute sleep)."""
        loop = asyncio.get_running_loop()
        task = self.task
        if task is not None and not task.done():
            if task.get_loop() is not loop:
                if not task.get_loop().is_closed():
                    task.get_loop().call_soon_threadsafe(task.cancel)
            elif self.due is None or self._clock() + wait >= self.due - MIN_PAUSE:
                return  # it wakes in time
            else:
                task.cancel()
        self.task = task = loop.create_task(self._run())
        task.add_done_callback(self._ended)
        self.due = None

    def stop(self) -> None:
        """No pump any more (nobody waits): the task is cancelled and forgotten."""
        task = self.task
        if task is None or task.done():
            return
        try:
            current = asyncio.current_task()
        except RuntimeError:  # no running loop
            current = None
        if task is current:
            return  # the pump itself: it returns on its own
        self.task = self.due = None  # (forgotten first: its end is not taken for a loss)
        if task.get_loop().is_closed():
            return
        if current is None:
            task.get_loop().call_soon_threadsafe(task.cancel)
        else:
            task.cancel()

    async def _run(self) -> None:
        while True:
            pause = self._tick()
            if pause is None:
                return
            pause = max(pause, MIN_PAUSE)
            self.due = self._clock() + pause
            await self._sleep(pause)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self.task is not task:
            return  # replaced or stopped by the budget
        self.task = self.due = None  # a finished pump never keeps a closed loop alive
        if task.cancelled():  # cancelled from outside while it had waiters to serve
            pause = self._tick()
            if pause is not None:
                self.ensure(pause)

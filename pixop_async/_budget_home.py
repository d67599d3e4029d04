"""The event loop a budget serves, and what becomes of its waiters and places when that
loop is gone: closed with requests still queued (a test runner with a loop per test may
close one so), or left behind in the parent by ``os.fork``.

Nothing of such a loop can ever be granted or given back, so the budget forgets it all
(:meth:`Home.moved` tells it when) and starts the new loop with none out. Should the old
loop's waiters or places still end later (their coroutines closed when collected), they
leave the new counts alone: a place knows the ``generation`` it was counted in, a waiter's
future knows its loop (:meth:`Home.stale`).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable


class Home:
    """One budget's event loop (see the module docstring). A budget serves one loop at a
    time; a loop still open that it moves away from is not forgotten."""

    __slots__ = ("_forgotten", "_loop", "generation")

    def __init__(self) -> None:
        self._loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self._forgotten: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self.generation = 0  # bumped each time the waiters and places are forgotten

    def moved(self) -> bool:
        """Note the running loop (if any) as home; True when the previous home has been
        closed or dropped since: its waiters and places are forgotten (:meth:`forget`),
        and the budget drops them."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # (a window told outside any loop)
            return False
        ref = self._loop
        home = ref() if ref is not None else None
        if home is loop:
            return False
        gone = ref is not None and (home is None or home.is_closed())
        if gone:
            self.forget()
        self._loop = weakref.ref(loop)
        return gone

    def forget(self) -> None:
        """The waiters and places counted so far are dropped: a new generation."""
        home = self._loop() if self._loop is not None else None
        if home is not None:
            self._forgotten.add(home)
        self._loop = None
        self.generation += 1

    def stale(self, fut: asyncio.Future[None]) -> bool:
        """Whether ``fut`` waited in a loop closed or forgotten (not in the counts, or not
        for long: the next request in another loop forgets them)."""
        loop = fut.get_loop()
        return loop.is_closed() or loop in self._forgotten


def forget_in_forked_child(forget: Callable[[], None]) -> None:
    """Call ``forget`` in every child forked from now on (a child inherits its parent's
    places out and queued waiters; nothing in it would ever give those back)."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=forget)

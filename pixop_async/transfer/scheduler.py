"""One scheduler per client: connection limits, a byte budget and a bandwidth cap.

Every transfer of a client draws from the same :class:`Scheduler`, so a bulk job with many
files cannot open more connections, hold more buffer memory, or use more bandwidth than
the client was configured for.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from .config import TransferConfig


class ByteBudget:
    """An async counting semaphore measured in bytes, served first come, first served."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.available = capacity
        self._waiters: collections.deque[tuple[int, asyncio.Future[None]]] = collections.deque()

    async def acquire(self, nbytes: int) -> int:
        """Wait until ``nbytes`` (at most the capacity) are free, take them, return the grant."""
        grant = min(nbytes, self.capacity)
        if not self._waiters and self.available >= grant:
            self.available -= grant
            return grant
        future = asyncio.get_running_loop().create_future()
        entry = (grant, future)
        self._waiters.append(entry)
        try:
            await future
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
            elif future.done() and not future.cancelled():
                self.release(grant)  # granted just as we were cancelled: hand it back
            raise
        return grant

    def release(self, grant: int) -> None:
        """Return ``grant`` bytes and wake the waiters that now fit."""
        self.available += grant
        while self._waiters and self._waiters[0][0] <= self.available:
            need, future = self._waiters.popleft()
            if future.done():
                continue
            self.available -= need
            future.set_result(None)


class TokenBucket:
    """Bandwidth cap: ``rate`` bytes per second with a burst of ``burst`` bytes."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate / 10, 256 * 1024)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock: asyncio.Lock | None = None

    async def take(self, nbytes: int) -> None:
        """Wait until ``nbytes`` may pass (a debt is allowed, then slept off)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= nbytes
            if self._tokens < 0:
                await asyncio.sleep(-self._tokens / self.rate)


_EXECUTORS: dict[int, ThreadPoolExecutor] = {}
_EXECUTORS_LOCK = threading.Lock()


def _forget_pools_in_child() -> None:
    """A forked child inherits the pools but none of their threads: work handed to them
    would wait forever. The child starts with no pools (and a fresh lock, in case another
    thread held it at the fork)."""
    global _EXECUTORS_LOCK
    _EXECUTORS.clear()
    _EXECUTORS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_in_child)


def io_executor(threads: int) -> ThreadPoolExecutor:
    """The process-wide pool that hashes and writes transfer data (``threads`` workers).

    Few threads on purpose: each one competes with the event loop for the GIL after every
    system call, and more of them measurably raise loop latency without writing faster
    (page-cache writes and CRC32C are far quicker than the network).
    """
    with _EXECUTORS_LOCK:
        pool = _EXECUTORS.get(threads)
        if pool is None:
            pool = _EXECUTORS[threads] = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix="pixop-io"
            )
        return pool


class Scheduler:
    """Shared limits for all transfers of one client (see :class:`TransferConfig`)."""

    def __init__(self, config: TransferConfig | None = None) -> None:
        self.config = config or TransferConfig()
        self._slots: asyncio.Semaphore | None = None
        self._files: asyncio.Semaphore | None = None
        self.budget = ByteBudget(self.config.memory_budget)
        limit = self.config.bandwidth_limit
        self.bandwidth = TokenBucket(limit) if limit else None
        self.active_connections = 0
        self.peak_connections = 0

    def __repr__(self) -> str:
        cfg = self.config
        return (
            f"Scheduler(max_connections={cfg.max_connections}, "
            f"active={self.active_connections}, bandwidth_limit={cfg.bandwidth_limit})"
        )

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[None]:
        """Hold one of the client's connection slots for the duration of a request."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_connections)
        async with self._slots:
            self.active_connections += 1
            self.peak_connections = max(self.peak_connections, self.active_connections)
            try:
                yield
            finally:
                self.active_connections -= 1

    @asynccontextmanager
    async def file_slot(self) -> AsyncIterator[None]:
        """Hold one of the slots for concurrently moved files (bulk operations)."""
        if self._files is None:
            self._files = asyncio.Semaphore(self.config.file_limit)
        async with self._files:
            yield

    @property
    def executor(self) -> ThreadPoolExecutor:
        """Where this client's transfers hash and write their data."""
        return io_executor(self.config.io_threads)

    async def throttle(self, nbytes: int) -> None:
        """Account ``nbytes`` against the bandwidth cap, waiting if it is exceeded."""
        if self.bandwidth is not None:
            await self.bandwidth.take(nbytes)

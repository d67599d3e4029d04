"""``StreamWorker``: runs a handler over a Redis Stream consumer group.

At-least-once: a message is acknowledged only after its handler returned. A failing
handler is retried here with backoff (each retry is a counted delivery); after
``max_deliveries`` the message moves to a dead-letter stream. Messages of a worker that
died stay pending; once idle for ``idle_timeout`` any live worker takes them over with
XAUTOCLAIM. A running handler refreshes its messages' idle time (a heartbeat), so only dead
workers lose theirs. Stopping finishes what is in flight within a grace period and hands
the rest back at once (marked idle) for other workers. A permanent error
(:func:`~pixop_async.pipeline.policy.is_permanent`) is dead-lettered at once. After
acknowledging, the worker trims the stream below what every consumer group still needs
(:mod:`pixop_async.pipeline.trim`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from .policy import (
    Next,
    WorkerSettings,
    backoff,
    check_entry_id,
    check_fields,
    check_key,
    check_name,
    is_permanent,
    on_failure,
    on_receipt,
)
from .trim import StreamTrimmer, TrimResult

log = logging.getLogger("pixop_async.pipeline")

#: Refresh, re-deliver or release messages, but only those this consumer still owns
#: (a worker that was presumed dead must not steal its messages back).
_OWNED_CLAIM = """
local out, others = {}, {}
for i = 5, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] ~= ARGV[2] then table.insert(others, ARGV[i]) end
  if p[1] and p[1][2] == ARGV[2] then
    if ARGV[3] == 'retry' then
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i])
    elseif ARGV[3] == 'release' then
      -- handed back unfinished, not failed: the next claim (which counts one) must not
      -- use up a delivery, or rolling restarts alone would dead-letter a message
      local count = math.max(0, tonumber(p[1][4]) - 1)
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[4],
                 'RETRYCOUNT', count, 'JUSTID')
    else
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    end
    table.insert(out, ARGV[i])
  end
end
return {out, others}
"""


@attrs.frozen
class StreamMessage:
    """One stream entry handed to a handler; ``deliveries`` counts this delivery too."""

    stream: str
    id: str
    fields: dict[str, str]
    deliveries: int = 1


Handler = Callable[[StreamMessage], Awaitable[None]]
#: Told about each message moved to the dead-letter stream, with the reason.
DeadHook = Callable[[StreamMessage, str], Awaitable[None]]


def _check_same_slot(redis: Any, stream: str, dead_letter: str) -> None:
    """On Redis Cluster the dead-letter copy and the acknowledgement are one ``MULTI``: both
    keys must be in one slot, or every dead letter fails (and the message, still pending,
    holds back trimming for good). Refused at once, with the way out."""
    keyslot = getattr(redis, "keyslot", None)  # only cluster clients have it
    if callable(keyslot) and keyslot(stream) != keyslot(dead_letter):
        raise ValueError(
            f"dead_letter {dead_letter!r} is not in the Redis Cluster slot of stream "
            f"{stream!r}: lead both with one hash tag, e.g. '{{jobs}}:in' and '{{jobs}}:in:dead'"
        )


def default_consumer() -> str:
    """A consumer name unique to this process: host, pid and a random suffix."""
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())
    return f"{host[:40] or 'host'}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class StreamWorker:
    """Consume ``stream`` as ``consumer`` of ``group`` and call ``handler`` per message.

    ``redis`` is a ``redis.asyncio.Redis`` created with ``decode_responses=True`` and
    ``encoding_errors="surrogateescape"`` (as :func:`pixop_async.pipeline.connect` does), so
    an entry that is not UTF-8 is dead-lettered instead of stalling the entries read with it.
    Run with ``await worker.run()``; ``stop()`` (e.g. from a signal handler) ends it
    gracefully.
    """

    def __init__(
        self,
        redis: Any,
        stream: str,
        group: str,
        handler: Handler,
        *,
        consumer: str | None = None,
        settings: WorkerSettings | None = None,
        dead_letter: str | None = None,
        start_id: str = "0",
        on_dead: DeadHook | None = None,
        permanent: Callable[[BaseException], bool] = is_permanent,
    ) -> None:
        self.redis = redis
        self.stream = check_key(stream, "stream")
        self.group = check_name(group, "group")
        self.consumer = check_name(consumer or default_consumer(), "consumer")
        self.dead_letter = check_key(dead_letter or f"{stream}:dead", "dead_letter")
        _check_same_slot(redis, self.stream, self.dead_letter)
        self.handler = handler
        self.settings = settings or WorkerSettings()
        self.start_id = start_id
        self.on_dead = on_dead
        self.permanent = permanent
        self.stats: collections.Counter[str] = collections.Counter()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._slot_free = asyncio.Event()
        self._stopping = asyncio.Event()
        self._script = redis.register_script(_OWNED_CLAIM)
        self._trimmer = StreamTrimmer(redis, self.stream, self.settings, self.stats)
        pool = getattr(getattr(redis, "connection_pool", None), "connection_kwargs", None)
        if isinstance(pool, dict) and pool.get("encoding_errors", "strict") == "strict":
            log.warning(
                "%r: the Redis client decodes strictly; an entry that is not UTF-8 would stall "
                "its batch. Create it with pipeline.connect() (or encoding_errors="
                "'surrogateescape')",
                self,
            )

    def __repr__(self) -> str:
        return (
            f"StreamWorker(stream={self.stream!r}, group={self.group!r}, "
            f"consumer={self.consumer!r})"
        )

    # -- public -------------------------------------------------------------------------

    async def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless it exists."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id=self.start_id, mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def stop(self) -> None:
        """Stop taking messages; :meth:`run` finishes or releases what is in flight."""
        self._stopping.set()
        self._slot_free.set()

    @property
    def in_flight(self) -> int:
        return len(self._inflight)

    async def run(self) -> None:
        """Consume until :meth:`stop`; returns after the graceful shutdown."""
        await self.ensure_group()
        background = [
            asyncio.create_task(self._heartbeat_loop()),
            asyncio.create_task(self._claim_loop()),
            asyncio.create_task(self._trimmer.tick()),
        ]
        try:
            await self._read_loop()
        finally:
            self._stopping.set()
            background[1].cancel()
            background[2].cancel()
            await self._shutdown()
            background[0].cancel()
            running_trim = self._trimmer.running
            if running_trim is not None:
                background.append(running_trim)  # a trim is one atomic script: let it end
            await asyncio.gather(*background, return_exceptions=True)

    # -- loops --------------------------------------------------------------------------

    def _free(self) -> int:
        return self.settings.concurrency - len(self._inflight)

    async def _read_loop(self) -> None:
        block_ms = max(1, int(self.settings.block * 1000))
        while not self._stopping.is_set():
            if self._free() <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                reply = await self.redis.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: ">"},
                    count=self._free(),
                    block=block_ms,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if "NOGROUP" in str(exc):  # the stream or group was deleted under us
                    try:
                        await self.ensure_group()
                        continue
                    except Exception as again:  # (gone for good only if this loop ends)
                        exc = again
                # Redis restarting or unreachable: keep trying (in-flight work goes on).
                self.stats["read_errors"] += 1
                log.warning("reading %s failed: %s", self.stream, type(exc).__name__)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.settings.block)
                continue
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    self._start(entry_id, fields, 1)

    async def _claim_loop(self) -> None:
        cursor = "0-0"
        idle_ms = int(self.settings.idle_timeout * 1000)
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.claim_every)
            free = self._free()
            if self._stopping.is_set() or free <= 0:
                continue
            try:
                reply = await self.redis.xautoclaim(
                    self.stream, self.group, self.consumer, idle_ms, start_id=cursor, count=free
                )
                cursor = str(reply[0])
                gone = reply[2] if len(reply) > 2 else []
                if gone:  # trimmed or deleted before anyone acknowledged them
                    self.stats["trimmed"] += len(gone)
                    log.warning(
                        "%d pending message(s) of %s were deleted from the stream before "
                        "being handled (trimmed?): %s",
                        len(gone),
                        self.stream,
                        ", ".join(str(i) for i in gone[:10]),
                    )
                for entry_id, fields in reply[1]:
                    if fields is None:  # trimmed from the stream meanwhile
                        continue
                    deliveries = await self._deliveries(entry_id)
                    self.stats["claimed"] += 1
                    log.info("took over idle message %s (delivery %d)", entry_id, deliveries)
                    self._start(entry_id, fields, deliveries)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming idle messages of %s failed", self.stream)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat)
            ids = list(self._inflight)
            if not ids:
                continue
            try:
                _owned, others = await self._claim_owned("touch", ids)
            except Exception:
                log.exception("refreshing in-flight messages failed")
                continue
            for entry_id in others:  # (an id in neither list was acknowledged meanwhile)
                self.stats["lost"] += 1
                log.warning("message %s was taken over by another worker", entry_id)

    # -- one message --------------------------------------------------------------------

    def _start(self, entry_id: Any, fields: Any, deliveries: int) -> None:
        entry_id = check_entry_id(entry_id)
        if entry_id in self._inflight:
            return
        try:
            message = StreamMessage(self.stream, entry_id, check_fields(fields), deliveries)
        except ValueError as exc:
            message = StreamMessage(self.stream, entry_id, {}, deliveries)
            task = asyncio.create_task(self._dead(message, f"unreadable entry: {exc}"))
        else:
            task = asyncio.create_task(self._guarded(message))
        self._inflight[entry_id] = task
        task.add_done_callback(lambda _t: self._done(entry_id))

    def _done(self, entry_id: str) -> None:
        self._inflight.pop(entry_id, None)
        self._slot_free.set()

    async def _guarded(self, message: StreamMessage) -> None:
        """:meth:`_process`, logging Redis failures: the message stays pending and is
        delivered again after the idle timeout."""
        try:
            await self._process(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats["errors"] += 1
            log.exception("message %s left pending after an error", message.id)

    async def _process(self, message: StreamMessage) -> None:
        while True:
            if on_receipt(self.settings, message.deliveries) is Next.DEAD:
                await self._dead(message, "too many deliveries")
                return
            try:
                await self.handler(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                permanent = self._is_permanent(exc)
                if on_failure(self.settings, message.deliveries, permanent=permanent) is Next.DEAD:
                    if permanent:
                        self.stats["permanent"] += 1
                    await self._dead(message, error)
                    return
                self.stats["retried"] += 1
                log.warning(
                    "handler failed for %s (delivery %d): %s", message.id, message.deliveries, error
                )
                await asyncio.sleep(backoff(self.settings, message.deliveries))
                if not await self._owned("retry", [message.id]):
                    return  # taken over or trimmed meanwhile: not ours to retry
                message = attrs.evolve(message, deliveries=message.deliveries + 1)
                continue
            await self.redis.xack(self.stream, self.group, message.id)
            self.stats["handled"] += 1
            self._trimmer.acked()
            return

    def _is_permanent(self, exc: Exception) -> bool:
        try:
            return bool(self.permanent(exc))
        except Exception:
            log.exception("the permanent-error check failed; retrying as usual")
            return False

    async def trim(self) -> TrimResult | None:
        """Trim the stream now, below the oldest entry any consumer group still needs (see
        :mod:`pixop_async.pipeline.trim`); a Redis error is logged and gives ``None``."""
        return await self._trimmer.trim()

    @property
    def last_trim(self) -> TrimResult | None:
        """What the last trim did (``None`` before the first)."""
        return self._trimmer.last

    async def _dead(self, message: StreamMessage, error: str) -> None:
        """Copy the message to the dead-letter stream and acknowledge it, atomically."""
        if self.on_dead is not None:
            try:
                await self.on_dead(message, error)
            except Exception:
                log.exception("dead-letter hook failed for %s", message.id)
        record = dict(message.fields)
        record.update(
            {
                "dead.source_id": message.id,
                "dead.deliveries": str(message.deliveries),
                "dead.error": error,
                "dead.consumer": self.consumer,
            }
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_letter, record)
            pipe.xack(self.stream, self.group, message.id)
            await pipe.execute()
        self.stats["dead"] += 1
        log.error("message %s moved to %s: %s", message.id, self.dead_letter, error)
        self._trimmer.acked()

    async def _deliveries(self, entry_id: str) -> int:
        rows = await self.redis.xpending_range(
            self.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        if not rows:
            return 1
        count = rows[0].get("times_delivered")
        return count if isinstance(count, int) and count >= 1 else 1

    async def _claim_owned(
        self, mode: str, ids: Sequence[str], idle_ms: int = 0
    ) -> tuple[list[str], list[str]]:
        """Apply ``mode`` to the ids this consumer owns; returns (those ids, ids that
        another consumer owns now)."""
        result = await self._script(
            keys=[self.stream], args=[self.group, self.consumer, mode, idle_ms, *ids]
        )
        owned, others = result if result else ([], [])
        return [str(i) for i in owned or []], [str(i) for i in others or []]

    async def _owned(self, mode: str, ids: Sequence[str], idle_ms: int = 0) -> list[str]:
        return (await self._claim_owned(mode, ids, idle_ms))[0]

    async def _shutdown(self) -> None:
        if self._inflight:
            _done, pending = await asyncio.wait(
                list(self._inflight.values()), timeout=self.settings.shutdown_grace
            )
            if pending:
                ids = [i for i, t in self._inflight.items() if t in pending]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                # Mark them idle past the timeout: the next XAUTOCLAIM anywhere takes them.
                idle = int(self.settings.idle_timeout * 1000) + 1
                with contextlib.suppress(Exception):
                    released = await self._owned("release", ids, idle)
                    self.stats["released"] += len(released)
                    log.info("released %d unfinished message(s)", len(released))

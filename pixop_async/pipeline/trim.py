"""Trimming a stream below what every consumer group has finished with.

Acknowledged entries stay in a stream until something deletes them, so a long-running
pipeline grows forever; ``XADD MAXLEN`` bounds the length but drops the oldest entries
whether or not they were handled. :data:`TRIM_SCRIPT` instead trims with ``XTRIM MINID``
below a floor no group still needs: for each group the smaller of its oldest pending id
(delivered, not yet acknowledged) and the id just after its last-delivered id (nothing at or
after that was delivered yet); the floor is the least of those over all groups. The script
runs atomically in Redis, so no group can be created, read or reset between reading that
state and trimming: an entry pending or not yet delivered to some group is never removed.
A stream without any group is never trimmed (nobody has said what it still needs).
Readers outside consumer groups (plain ``XREAD`` / ``XRANGE``) are not taken into account.

Redis 7.0 is enough (no ``XACKDEL``); :class:`TrimPacer` decides when a worker trims.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .policy import WorkerSettings

log = logging.getLogger("pixop_async.pipeline")

#: KEYS[1] the stream; ARGV[1] "~" (approximate) or "=" (exact). Returns {floor, removed}
#: ({"", 0} when the stream has no group). Ids are compared as numbers written in decimal
#: (longer is larger) and incremented digit by digit, never through Lua's doubles: a
#: sequence may exceed 2^53, and Lua prints 10^14 as "1e+14".
TRIM_SCRIPT = """
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms, seq
end
local function num_less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function less(a, b)
  local am, as = parts(a)
  local bm, bs = parts(b)
  if am ~= bm then return num_less(am, bm) end
  return num_less(as, bs)
end
local function incr(n)  -- a decimal string plus one, digit by digit (no doubles)
  local i = #n
  while i > 0 and string.sub(n, i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #n) end
  return string.sub(n, 1, i - 1) .. string.char(string.byte(n, i) + 1) .. string.rep('0', #n - i)
end
local MAX = '18446744073709551615'
local function after(id)
  local ms, seq = parts(id)
  if seq ~= MAX then return ms .. '-' .. incr(seq) end
  if ms ~= MAX then return incr(ms) .. '-0' end
  return id  -- the largest id there is: keep that entry (safe, one entry more)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'', 0} end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return {'', 0} end
local floor = nil
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  local need = after(info['last-delivered-id'])
  if tonumber(info['pending']) > 0 then
    local summary = redis.call('XPENDING', KEYS[1], info['name'])
    if summary[2] and less(summary[2], need) then need = summary[2] end
  end
  if floor == nil or less(need, floor) then floor = need end
end
local removed = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1], floor)
return {floor, removed}
"""


@attrs.frozen
class TrimResult:
    """What one trim did: the floor it trimmed below (``None``: no group, nothing done) and
    how many entries Redis removed (approximate trimming removes whole nodes, maybe none)."""

    floor: str | None
    removed: int


def trim_result(reply: Any) -> TrimResult:
    """The script's reply, checked."""
    if not isinstance(reply, list | tuple) or len(reply) != 2:
        raise ValueError(f"unexpected trim reply: {reply!r}")
    floor, removed = reply
    return TrimResult(str(floor) or None, int(removed))


async def trim_acknowledged(script: Any, stream: str, *, approximate: bool = True) -> TrimResult:
    """Trim ``stream`` below what every group still needs (``script``: :data:`TRIM_SCRIPT`
    registered with ``redis.register_script``)."""
    reply = await script(keys=[stream], args=["~" if approximate else "="])
    return trim_result(reply)


class TrimPacer:
    """Rate-limits trimming: due after ``every`` acknowledgements, or after ``interval``
    seconds with at least one acknowledgement since the last trim."""

    def __init__(
        self, every: int, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every = every
        self.interval = interval
        self._clock = clock
        self._acks = 0
        self._last = clock()

    def acked(self) -> bool:
        """Count one acknowledgement; True when a trim is due (the count then restarts)."""
        self._acks += 1
        return self._due(self._acks >= self.every)

    def overdue(self) -> bool:
        """True when acknowledgements wait for a trim and ``interval`` has passed (asked
        periodically, so the last acknowledgements of a burst are trimmed too)."""
        return self._due(False)

    def _due(self, enough: bool) -> bool:
        if enough or (self._acks and self._clock() - self._last >= self.interval):
            self._acks = 0
            self._last = self._clock()
            return True
        return False


class StreamTrimmer:
    """A worker's trimming: paced by its acknowledgements (:meth:`acked`) and a periodic
    check (:meth:`tick`), one trim at a time (one due while another runs makes that one run
    again), counted in the worker's ``stats`` (``trims``, ``trimmed_entries``,
    ``trim_errors``)."""

    def __init__(
        self,
        redis: Any,
        stream: str,
        settings: WorkerSettings,
        stats: collections.Counter[str],
    ) -> None:
        self.stream = stream
        self.settings = settings
        self.stats = stats
        self._script = redis.register_script(TRIM_SCRIPT)
        self._pacer = TrimPacer(settings.trim_every, settings.trim_interval)
        self._task: asyncio.Task[None] | None = None
        self._again = False
        #: What the last trim did (``None`` before the first).
        self.last: TrimResult | None = None

    @property
    def running(self) -> asyncio.Task[None] | None:
        """The trim under way, if any."""
        return self._task if self._task is not None and not self._task.done() else None

    def acked(self) -> None:
        """Count an acknowledgement; start a trim when one is due."""
        if self.settings.trim and self._pacer.acked():
            self._start()

    async def tick(self) -> None:
        """Every ``trim_interval``: trim for acknowledgements no trim has followed yet."""
        if not self.settings.trim:
            return
        while True:
            await asyncio.sleep(max(self.settings.trim_interval, 0.05))
            if self._pacer.overdue():
                self._start()

    def _start(self) -> None:
        if self.running is not None:
            self._again = True
            return
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            await self.trim()

    async def trim(self) -> TrimResult | None:
        """Trim now; a Redis error is logged and counted, and gives ``None``."""
        try:
            result = await trim_acknowledged(
                self._script, self.stream, approximate=self.settings.trim_approximate
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.stats["trim_errors"] += 1
            log.warning("trimming %s failed: %s", self.stream, type(exc).__name__)
            return None
        self.last = result
        self.stats["trims"] += 1
        self.stats["trimmed_entries"] += result.removed
        return result

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

import time
from collections.abc import Callable
from typing import Any

import attrs

#: KEYS[1] the stream; ARGV[1] "~" (approximate) or "=" (exact). Returns {floor, removed}
#: ({"", 0} when the stream has no group). Ids are compared as numbers written in decimal
#: (longer is larger), never through Lua's doubles: a sequence may exceed 2^53.
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
local function after(id)
  local ms, seq = parts(id)
  if #seq < 15 then return ms .. '-' .. tostring(tonumber(seq) + 1) end
  return id  -- a huge sequence: keep the entry itself (safe, one entry more)
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
        if self._acks >= self.every or self._clock() - self._last >= self.interval:
            self._acks = 0
            self._last = self._clock()
            return True
        return False

"""Distributed ``pixop bulk``: the items of a manifest as a Redis Stream plus a hash each.

Keys of job ``J`` (prefix ``pixop:bulk:J:``): ``items`` (the stream workers consume,
group ``workers``), ``items:dead`` (dead letters), ``meta`` (kind, dest dir), ``index``
(item keys in manifest order) and ``item:<key>`` per item:

    state      queued | running | done | failed
    spec       the manifest row (JSON), re-validated by every worker
    label      the item's name or video id
    video_id   the video created (imports, written before anything else happens) or read
    creating   set just before an import is requested; a takeover that finds it without a
               video_id looks the video up by its marker description instead of importing
    entry      the id of the item's latest stream entry
    worker, attempts, error, outcome, updated

An item key is a hash of its row, so a rerun of the same manifest finds its items: those
done, or queued/running with their entry still under way, are left alone; new, failed and
stale ones are queued. A job is the union of every manifest queued into it (a row removed
from the manifest stays in the job: use another ``--job``).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from ..cli.manifest import DownloadItem, ImportItem, Item, item_from_row
from ._redis import has_undecodable, printable

GROUP = "workers"
STATES = ("queued", "running", "done", "failed")
_JOB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\Z")
_KEY = re.compile(r"^[0-9a-f]{32}\Z")

#: Queue an item unless it is done or really under way: atomically, so two concurrent
#: reruns never put one item in the stream twice. "Really": its hash says queued/running
#: AND its stream entry (``entry``) still exists and is either pending with a worker or not
#: yet delivered to the group. An item whose entry is gone, or was acknowledged while the
#: hash still says running (a dead-letter hook that failed, an edit by hand), is stale and
#: queued again: a rerun must never leave an item stuck.
_ENQUEUE = """
local function older(a, b)  -- stream id a < b
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return false end
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local function under_way(entry)
  if not entry then return true end  -- written before entries were kept: trust the state
  if redis.call('EXISTS', KEYS[2]) == 0 then return false end
  if #redis.call('XRANGE', KEYS[2], entry, entry) == 0 then return false end
  local last = nil
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    if info['name'] == ARGV[6] then last = info['last-delivered-id'] end
  end
  if last == nil or older(last, entry) then return true end  -- not delivered yet
  return #redis.call('XPENDING', KEYS[2], ARGV[6], entry, entry, 1) > 0
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then return state end
local stale = 'new'
if state == 'queued' or state == 'running' then
  if under_way(redis.call('HGET', KEYS[1], 'entry')) then return state end
  stale = 'stale'
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'spec', ARGV[2], 'label', ARGV[3],
           'updated', ARGV[5])
redis.call('HDEL', KEYS[1], 'error')
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[1])
local id = redis.call('XADD', KEYS[2], '*', 'item', ARGV[1])
redis.call('HSET', KEYS[1], 'entry', id)
return stale
"""


def check_job(value: Any) -> str:
    if not isinstance(value, str) or not _JOB.fullmatch(value):
        raise ValueError(
            f"job name must be 1-64 letters, digits, _ . - (starting with a letter or digit), "
            f"got {value!r}"
        )
    return value


def check_key(value: Any) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise ValueError(f"not a bulk item key: {value!r}")
    return value


def spec_of(item: Item) -> dict[str, Any]:
    """The manifest row of ``item`` (what :func:`item_from_row` reads back)."""
    row = {k: v for k, v in attrs.asdict(item).items() if v is not None}
    return row


def item_key(item: Item) -> str:
    canonical = json.dumps(spec_of(item), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def item_from_spec(text: str) -> Item:
    """An item back from its stored spec, validated like a manifest row."""
    if has_undecodable(text):
        raise ValueError("stored item spec is not UTF-8 text")
    try:
        row = json.loads(text)
    except ValueError:
        raise ValueError("stored item spec is not JSON") from None
    return item_from_row(row, "stored item")


def marker(job: str, key: str) -> str:
    """The description an import is created with, so a takeover can find it."""
    return f"pixop bulk {job} item {key}"


@attrs.frozen
class EnqueueReport:
    """``queued`` now (``stale`` of them were stuck queued/running with no message left),
    ``done`` already, ``active`` already queued or running, ``other``: items of the job
    from earlier manifests that this one does not list (they stay in the job)."""

    queued: int
    done: int
    active: int
    stale: int = 0
    other: int = 0


@attrs.frozen
class ItemStatus:
    key: str
    label: str
    state: str
    video_id: str | None
    worker: str | None
    attempts: int
    error: str | None

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        return {k: v for k, v in data.items() if v is not None}


class BulkQueue:
    """One bulk job's keys in Redis (``redis`` decodes responses to ``str``)."""

    def __init__(self, redis: Any, job: str = "default") -> None:
        self.redis = redis
        self.job = check_job(job)
        self.prefix = f"pixop:bulk:{job}:"
        self.stream = self.prefix + "items"
        self.dead = self.stream + ":dead"
        self._enqueue = redis.register_script(_ENQUEUE)

    def __repr__(self) -> str:
        return f"BulkQueue(job={self.job!r})"

    def item_hash(self, key: str) -> str:
        return self.prefix + "item:" + check_key(key)

    # -- producer side ---------------------------------------------------------------------

    async def enqueue(self, items: Sequence[Item], dest_dir: str | None = None) -> EnqueueReport:
        """Queue the items not done nor under way; the job's kind must not change."""
        kind = "imports" if isinstance(items[0], ImportItem) else "downloads"
        meta = self.prefix + "meta"
        await self.redis.hsetnx(meta, "kind", kind)
        existing = await self.redis.hget(meta, "kind")
        if existing != kind:
            raise ValueError(f"bulk job {self.job!r} holds {existing}, not {kind}: use --job")
        if dest_dir is not None:
            await self.redis.hset(meta, "dest_dir", dest_dir)
        counts = {"new": 0, "stale": 0, "done": 0, "queued": 0, "running": 0}
        keys = set()
        for order, item in enumerate(items):
            key = item_key(item)
            keys.add(key)
            result = await self._enqueue(
                keys=[self.item_hash(key), self.stream, self.prefix + "index"],
                args=[
                    key,
                    json.dumps(spec_of(item)),
                    item.label,
                    order,
                    f"{time.time():.3f}",
                    GROUP,
                ],
            )
            counts[str(result)] = counts.get(str(result), 0) + 1
        other = int(await self.redis.zcard(self.prefix + "index")) - len(keys)
        return EnqueueReport(
            counts["new"] + counts["stale"],
            counts["done"],
            counts["queued"] + counts["running"],
            stale=counts["stale"],
            other=max(0, other),
        )

    async def dest_dir(self) -> str | None:
        value = await self.redis.hget(self.prefix + "meta", "dest_dir")
        return value if isinstance(value, str) else None

    # -- worker side -------------------------------------------------------------------------

    async def load(self, key: str) -> dict[str, str]:
        data = await self.redis.hgetall(self.item_hash(key))
        return {str(k): str(v) for k, v in (data or {}).items()}

    async def update(self, key: str, **fields: str | int) -> None:
        fields_s = {k: str(v) for k, v in fields.items()}
        fields_s["updated"] = f"{time.time():.3f}"
        await self.redis.hset(self.item_hash(key), mapping=fields_s)

    async def start(self, key: str, worker: str) -> None:
        name = self.item_hash(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(name, mapping={"state": "running", "worker": worker})
            pipe.hincrby(name, "attempts", 1)
            pipe.hset(name, "updated", f"{time.time():.3f}")
            await pipe.execute()

    # -- status ------------------------------------------------------------------------------

    async def status(self) -> list[ItemStatus]:
        keys = await self.redis.zrange(self.prefix + "index", 0, -1)
        rows: list[ItemStatus] = []
        for start in range(0, len(keys), 500):
            chunk = [check_key(k) for k in keys[start : start + 500]]
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in chunk:
                    pipe.hgetall(self.item_hash(key))
                hashes = await pipe.execute()
            rows.extend(_status_row(k, h) for k, h in zip(chunk, hashes, strict=True))
        return rows

    async def stream_info(self) -> dict[str, int]:
        """Messages waiting in the stream, pending with a worker, and dead-lettered."""
        pending = waiting = 0
        if await self.redis.exists(self.stream):
            stream = await self.redis.xinfo_stream(self.stream)
            for group in await self.redis.xinfo_groups(self.stream):
                if group.get("name") == GROUP:
                    pending = int(group.get("pending") or 0)
                    waiting = _waiting(group, stream)
                    break
            else:  # no worker has started yet: everything waits
                waiting = int(stream.get("length") or 0)
        return {
            "waiting": waiting,
            "pending": pending,
            "dead": int(await self.redis.xlen(self.dead)),
        }


def _waiting(group: dict[str, Any], stream: dict[str, Any]) -> int:
    """Entries not yet delivered to the group: its ``lag`` (Redis 7), else whether the
    group has read up to the stream's last entry (0 or at least 1)."""
    lag = group.get("lag")
    if isinstance(lag, int):
        return lag
    return 0 if group.get("last-delivered-id") == stream.get("last-generated-id") else 1


def _status_row(key: str, raw: dict[str, str]) -> ItemStatus:
    """One item's status from its hash, which anyone with access may have edited."""
    data = {str(k): printable(str(v)) for k, v in (raw or {}).items()}
    state = data.get("state", "unknown")
    attempts = data.get("attempts", "0")
    return ItemStatus(
        key=key,
        label=data.get("label", "?")[:200],
        state=state if state in STATES else "unknown",
        video_id=data.get("video_id", "")[:64] or None,
        worker=data.get("worker", "")[:128] or None,
        attempts=int(attempts) if attempts.isascii() and attempts.isdigit() else 0,
        error=data.get("error", "")[:500] or None,
    )


def summarize(rows: Iterable[ItemStatus]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


__all__ = [
    "GROUP",
    "BulkQueue",
    "DownloadItem",
    "EnqueueReport",
    "ImportItem",
    "ItemStatus",
    "check_job",
    "item_from_spec",
    "item_key",
    "marker",
    "spec_of",
    "summarize",
]

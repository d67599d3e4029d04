"""Hostile or stale state in Redis (entries and hashes written by someone else), and
secrets in queue URLs: what the reviewers of issue 14 broke, kept broken-proof."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pixop_async.cli.manifest import ImportItem
from pixop_async.pipeline import StreamMessage, StreamWorker, WorkerSettings, redacted
from pixop_async.pipeline._redis import redis_module
from pixop_async.pipeline.bulk_state import (
    GROUP,
    BulkQueue,
    EnqueueReport,
    item_from_spec,
    item_key,
)
from tests.integration.cli_helpers import run_cli

from .conftest import env_with_path
from .test_stream_worker import FAST, pending, running, until


async def _true(value: bool) -> bool:
    return value


async def test_an_entry_that_is_not_utf8_is_dead_lettered_and_its_neighbours_handled(
    redis: Any, redis_url: str, ns: str
) -> None:
    """Before: the whole XREADGROUP reply failed to decode, so the bad entry and every
    entry read in the same batch stayed pending forever (XAUTOCLAIM failed the same way)."""
    stream = f"{ns}:s"
    raw = redis_module().Redis.from_url(redis_url)  # bytes in, bytes out
    try:
        for n in range(3):
            await raw.xadd(stream, {"n": str(n)})
        await raw.xadd(stream, {b"n": b"\xff\xfe not text"})
        for n in range(3, 6):
            await raw.xadd(stream, {"n": str(n)})
    finally:
        await raw.aclose()
    seen: list[str] = []

    async def handler(message: StreamMessage) -> None:
        seen.append(message.fields["n"])

    settings = WorkerSettings(concurrency=8, idle_timeout=1.0, **FAST)  # type: ignore[arg-type]
    worker = StreamWorker(redis, stream, "g", handler, settings=settings)
    async with running(worker):
        await until(lambda: _true(len(seen) == 6 and worker.stats["dead"] == 1))
    assert sorted(seen) == ["0", "1", "2", "3", "4", "5"]
    assert await pending(redis, stream, "g") == 0
    ((_id, letter),) = await redis.xrange(f"{stream}:dead")
    assert "UTF-8" in letter["dead.error"]
    assert worker.stats["read_errors"] == 0


def test_a_strict_client_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    strict = redis_module().Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True)
    with caplog.at_level("WARNING", "pixop_async.pipeline"):
        StreamWorker(strict, "s", "g", _noop)
    assert "surrogateescape" in caplog.text


async def _noop(message: StreamMessage) -> None:
    return None


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("redis://:hunter2@h:6379/0", "hunter2"),
        ("redis://user:hunter2@h:6379/0", "hunter2"),
        ("redis://h:6379/0?password=hunter2", "hunter2"),
        ("redis://h:6379/0?db=1&PASSWORD=hunter2&socket_timeout=3", "hunter2"),
        ("rediss://hunter2@h:6380", "hunter2"),  # a lone user info may well be a password
        ("unix://:hunter2@/run/redis.sock?db=2", "hunter2"),
    ],
)
def test_redacted_hides_every_form_of_password(url: str, secret: str) -> None:
    shown = redacted(url)
    assert secret not in shown and "***" in shown
    assert "h" in shown or "/run/redis.sock" in shown


def test_redacted_keeps_what_is_not_secret() -> None:
    assert redacted("redis://u:pw@h:1/0?db=1") == "redis://u:***@h:1/0?db=1"
    assert redacted("redis://h:1/0") == "redis://h:1/0"


async def test_a_password_in_the_query_never_reaches_the_output(tmp_path: Path) -> None:
    env = {"PYTHONPATH": env_with_path()["PYTHONPATH"]}
    run = await run_cli(
        None, "bulk", "status", "--queue", "redis://127.0.0.1:1/0?password=hunter2", env=env
    )
    assert run.code == 1 and "cannot reach the queue" in run.err
    assert "hunter2" not in run.err + run.out


async def test_status_survives_item_hashes_edited_by_hand(
    redis: Any, redis_url: str, ns: str
) -> None:
    queue = BulkQueue(redis, f"{ns}-edited")
    items = [ImportItem(f"https://example.com/{n}.mp4", f"item {n}") for n in range(3)]
    await queue.enqueue(items)
    keys = [item_key(i) for i in items]
    raw = redis_module().Redis.from_url(redis_url)
    try:
        bad = {b"label": b"\xff\xfebad", b"attempts": b"x"}
        await raw.hset(queue.item_hash(keys[0]), mapping=bad)  # type: ignore[arg-type]
        await raw.hset(queue.item_hash(keys[1]), mapping={"state": "weird", "attempts": "\u00b2"})
        await raw.delete(queue.item_hash(keys[2]))
    finally:
        await raw.aclose()
    env = {"PYTHONPATH": env_with_path()["PYTHONPATH"]}
    run = await run_cli(
        None, "bulk", "status", "--queue", redis_url, "--job", queue.job, "--json", env=env
    )
    assert run.code == 0, run.err
    report = json.loads(run.out)
    by_key = {row["key"]: row for row in report["items"]}
    assert by_key[keys[0]]["label"] == "\ufffd\ufffdbad" and by_key[keys[0]]["attempts"] == 0
    assert by_key[keys[1]]["state"] == "unknown" and by_key[keys[1]]["attempts"] == 0
    assert by_key[keys[2]]["state"] == "unknown"
    table = await run_cli(None, "bulk", "status", "--queue", redis_url, "--job", queue.job, env=env)
    assert table.code == 0 and "bad" in table.out, table.err


def test_a_spec_that_is_not_utf8_fails_the_item_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not UTF-8"):
        item_from_spec('{"url": "https://e.com/a.mp4", "name": "\udcff"}')


def _items(n: int, tag: str = "") -> list[ImportItem]:
    return [ImportItem(f"https://example.com/{tag}{i}.mp4", f"item {tag}{i}") for i in range(n)]


async def _take(redis: Any, queue: BulkQueue, consumer: str, count: int) -> list[str]:
    reply = await redis.xreadgroup(GROUP, consumer, {queue.stream: ">"}, count=count)
    return [entry_id for _stream, entries in reply for entry_id, _fields in entries]


async def test_a_rerun_requeues_an_item_left_running_with_no_message(redis: Any, ns: str) -> None:
    """Before: the hash said running, its message was acknowledged (a dead-letter hook that
    failed on a Redis blip, a worker presumed dead that dead-lettered it, an edit by hand);
    every rerun answered "already running" and no worker would ever take it again."""
    queue = BulkQueue(redis, f"{ns}-stuck")
    item = _items(1)[0]
    key = item_key(item)
    await queue.enqueue([item])
    await redis.xgroup_create(queue.stream, GROUP, id="0")
    [entry] = await _take(redis, queue, "w1", 1)
    await queue.start(key, "w1")
    await redis.xack(queue.stream, GROUP, entry)
    rerun = await queue.enqueue([item])
    assert (rerun.queued, rerun.stale, rerun.active) == (1, 1, 0)
    assert await queue.stream_info() == {"waiting": 1, "pending": 0, "dead": 0}
    [again] = await _take(redis, queue, "w2", 1)
    assert again != entry and (await queue.load(key))["entry"] == again


async def test_a_rerun_leaves_items_under_way_alone(redis: Any, ns: str) -> None:
    queue = BulkQueue(redis, f"{ns}-busy")
    items = _items(4)
    first = await queue.enqueue(items)
    assert first.queued == 4 and await queue.enqueue(items) == EnqueueReport(0, 0, 4)
    await redis.xgroup_create(queue.stream, GROUP, id="0")
    assert len(await _take(redis, queue, "w1", 2)) == 2  # 2 pending, 2 not yet delivered
    for item in items[:2]:
        await queue.start(item_key(item), "w1")
    assert await queue.enqueue(items) == EnqueueReport(0, 0, 4)
    assert await redis.xlen(queue.stream) == 4


async def test_a_rerun_requeues_an_item_whose_message_was_deleted(redis: Any, ns: str) -> None:
    queue = BulkQueue(redis, f"{ns}-xdel")
    items = _items(2)
    await queue.enqueue(items)
    entry = (await queue.load(item_key(items[0])))["entry"]
    await redis.xdel(queue.stream, entry)
    rerun = await queue.enqueue(items)
    assert (rerun.queued, rerun.stale, rerun.active) == (1, 1, 1)
    await redis.delete(queue.stream)  # the whole stream gone: everything not done requeued
    rerun = await queue.enqueue(items)
    assert (rerun.queued, rerun.stale) == (2, 2)


async def test_a_changed_manifest_reports_the_items_it_no_longer_lists(
    redis_url: str, ns: str, tmp_path: Path
) -> None:
    env = {"PYTHONPATH": env_with_path()["PYTHONPATH"]}
    job = f"{ns}-changed"
    manifest = tmp_path / "m.csv"
    rows = [f"https://example.com/{i}.mp4,item {i}" for i in range(3)]
    manifest.write_text("url,name\n" + "\n".join(rows) + "\n")
    first = await run_cli(None, "bulk", str(manifest), "--queue", redis_url, "--job", job, env=env)
    assert first.code == 0 and "3 queued" in first.out, first.err
    manifest.write_text("url,name\n" + rows[0] + "\nhttps://example.com/new.mp4,new\n")
    second = await run_cli(
        None, "bulk", str(manifest), "--queue", redis_url, "--job", job, "--json", env=env
    )
    assert json.loads(second.out) == {
        "job": job, "queued": 1, "done": 0, "active": 1, "stale": 0, "other": 2,
    }  # fmt: skip
    text = await run_cli(None, "bulk", str(manifest), "--queue", redis_url, "--job", job, env=env)
    assert "2 item(s) of earlier manifests are still in this job" in text.out, text.out


async def test_a_job_key_of_the_wrong_type_is_a_one_line_error(
    redis: Any, redis_url: str, ns: str, tmp_path: Path
) -> None:
    """Before: a traceback (redis ResponseError) and, for ``worker``, no clear cause."""
    job = f"{ns}-wrongtype"
    await redis.set(f"pixop:bulk:{job}:items", "not a stream")
    await redis.set(f"pixop:bulk:{job}:index", "not a sorted set")
    manifest = tmp_path / "m.csv"
    manifest.write_text("url,name\nhttps://example.com/a.mp4,a\n")
    env = {"PYTHONPATH": env_with_path()["PYTHONPATH"], "PIXOP_API_KEY": "k"}
    for args in (
        ("bulk", str(manifest)),
        ("bulk", "status"),
        ("worker", "--exit-when-idle"),
    ):
        run = await run_cli(None, *args, "--queue", redis_url, "--job", job, env=env)
        assert run.code == 1, (args, run.err)
        assert "WRONGTYPE" in run.err and "Traceback" not in run.err, (args, run.err)


async def test_a_queue_url_pointing_at_an_http_server_says_so() -> None:
    async def http_like(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http_like, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    env = {"PYTHONPATH": env_with_path()["PYTHONPATH"]}
    try:
        run = await run_cli(
            None, "bulk", "status", "--queue", f"redis://:hunter2@127.0.0.1:{port}/0", env=env
        )
    finally:
        server.close()
        await server.wait_closed()
    assert run.code == 1 and "is it a Redis server?" in run.err, run.err
    assert "hunter2" not in run.err and "Traceback" not in run.err


async def test_a_done_item_dead_lettered_afterwards_stays_done(redis: Any, ns: str) -> None:
    """Before: an item whose handler succeeded but whose XACK was lost, then claimed past
    ``max_deliveries``, was marked failed (exit 1 from status, requeued by a rerun)."""
    from pixop_async.pipeline.bulk_worker import BulkHandler

    queue = BulkQueue(redis, f"{ns}-donedead")
    item = _items(1)[0]
    key = item_key(item)
    await queue.enqueue([item])
    await queue.update(key, state="done", video_id="00000000-0000-0000-0000-000000000001")
    handler = BulkHandler(None, queue, "w")  # type: ignore[arg-type]
    await handler.on_dead(StreamMessage(queue.stream, "1-1", {"item": key}, 6), "too many")
    assert (await queue.load(key))["state"] == "done"
    await queue.update(key, state="running")
    await handler.on_dead(StreamMessage(queue.stream, "1-1", {"item": key}, 6), "too many")
    assert (await queue.load(key))["state"] == "failed"

"""Distributed ``pixop bulk --queue``: worker processes against the emulator, one killed
with SIGKILL mid-item; reruns, status, failures and the lost-import recovery."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pixop_async import Pixop
from pixop_async.cli.manifest import ImportItem, load_manifest
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.pipeline import StreamMessage
from pixop_async.pipeline.bulk_state import BulkQueue, item_key, marker
from pixop_async.pipeline.bulk_worker import BulkHandler
from tests.integration.cli_helpers import run_cli
from tests.integration.video_helpers import FAST, serve

from .conftest import env_with_path

DATA = os.urandom(2048)
#: Items of the kill test; PIXOP_BULK_ITEMS=500 runs the full acceptance size.
ITEMS = int(os.environ.get("PIXOP_BULK_ITEMS", "60"))
IDLE = 4.0  # generous: a loaded machine must not look like a dead worker


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=60, allow_http_sources=True)


def masters(emu: EmulatorServer) -> dict[str, dict[str, Any]]:
    return {vid: v for vid, v in emu.state.videos.items() if v["flags"]["isMaster"]}


def cli_env(emu: EmulatorServer, redis_url: str) -> dict[str, str]:
    env = env_with_path()
    env = {k: v for k, v in env.items() if not k.startswith("PIXOP_")}
    env.update(
        PIXOP_API_KEY=emu.api_key,
        PIXOP_BASE_URL=emu.base_url,
        PIXOP_QUEUE=redis_url,
        COLUMNS="200",
    )
    return env


async def start_worker(emu: EmulatorServer, redis_url: str, job: str, name: str) -> Any:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pixop_async", "worker", "--job", job, "--consumer", name,
        "--concurrency", "6", "--idle-timeout", str(IDLE), "--poll-interval", "0.05",
        "--exit-when-idle", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=cli_env(emu, redis_url),
    )  # fmt: skip


async def test_three_workers_one_killed_mid_item_every_item_done_once(
    pixop_emulator: EmulatorServer, redis: Any, redis_url: str, ns: str, tmp_path: Path
) -> None:
    emu = pixop_emulator
    job = f"{ns}-kill"
    queue = BulkQueue(redis, job)
    async with serve(DATA, "/fast.mp4") as fast, serve(DATA, "/slow.mp4") as slow:
        slow.gate.clear()  # the slow item's import stays under way until released
        manifest = tmp_path / "items.csv"
        rows = [f"{fast.url},film {i:04d}" for i in range(ITEMS - 1)]
        rows.insert(ITEMS // 3, f"{slow.url},the slow one")
        manifest.write_text("url,name\n" + "\n".join(rows) + "\n")
        started_at = time.monotonic()
        queued = await run_cli(
            None, "bulk", str(manifest), "--queue", redis_url, "--job", job, "--json",
            env={"PYTHONPATH": env_with_path()["PYTHONPATH"]},
        )  # fmt: skip
        assert queued.code == 0, queued.err
        assert json.loads(queued.out)["queued"] == ITEMS

        workers = {
            name: await start_worker(emu, redis_url, job, name) for name in ("w0", "w1", "w2")
        }
        slow_key = item_key(next(i for i in load_manifest(manifest) if i.label == "the slow one"))
        # wait until a worker holds the slow item with its import created, then kill it
        deadline = time.monotonic() + 120
        while True:
            held = await queue.load(slow_key)
            if held.get("state") == "running" and held.get("video_id"):
                break
            assert time.monotonic() < deadline, f"slow item never started: {held}"
            await asyncio.sleep(0.05)
        victim = held["worker"]
        video_before = held["video_id"]
        workers[victim].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await workers[victim].wait()
        slow.gate.set()

        results = {}
        for name, process in workers.items():
            if name == victim:
                continue
            out, err = await asyncio.wait_for(process.communicate(), 300)
            assert process.returncode == 0, err.decode()[-2000:]
            results[name] = json.loads(out)
        elapsed = time.monotonic() - started_at

    rows_status = await queue.status()
    assert len(rows_status) == ITEMS
    assert {r.state for r in rows_status} == {"done"}, [r for r in rows_status if r.state != "done"]
    video_ids = [r.video_id for r in rows_status]
    assert len(set(video_ids)) == ITEMS  # one video per item
    created = masters(emu)
    assert len(created) == ITEMS  # no import created twice, none missing
    assert set(video_ids) == set(created)
    assert all(v["upload"]["uploadState"]["uploadStatus"] == "DONE" for v in created.values())
    # the killed worker's item: same import, finished by another worker after the timeout
    slow_row = next(r for r in rows_status if r.key == slow_key)
    assert slow_row.video_id == video_before
    assert slow_row.worker != victim and slow_row.attempts >= 2
    final = await queue.load(slow_key)
    assert float(final["updated"]) > 0
    claimed = sum(r["stats"].get("claimed", 0) for r in results.values())
    assert claimed >= 1
    assert time.monotonic() - killed_at >= IDLE - IDLE / 3
    info = await queue.stream_info()
    assert info == {"waiting": 0, "pending": 0, "dead": 0}
    print(f"\n{ITEMS} items, 3 workers (one killed): {elapsed:.1f} s, {claimed} taken over")

    # A rerun of the same manifest queues nothing: every item is done.
    again = await run_cli(
        None, "bulk", str(manifest), "--queue", redis_url, "--job", job, "--json",
        env={"PYTHONPATH": env_with_path()["PYTHONPATH"]},
    )  # fmt: skip
    assert json.loads(again.out) == {
        "job": job, "queued": 0, "done": ITEMS, "active": 0, "stale": 0, "other": 0,
    }  # fmt: skip
    status = await run_cli(
        None, "bulk", "status", "--queue", redis_url, "--job", job, "--json",
        env={"PYTHONPATH": env_with_path()["PYTHONPATH"]},
    )  # fmt: skip
    assert status.code == 0, status.err
    report = json.loads(status.out)
    assert report["summary"] == {"queued": 0, "running": 0, "done": ITEMS, "failed": 0}


async def test_failed_items_are_dead_lettered_reported_and_requeued_on_rerun(
    pixop_emulator: EmulatorServer, redis: Any, redis_url: str, ns: str, tmp_path: Path
) -> None:
    emu = pixop_emulator
    job = f"{ns}-fail"
    async with serve(DATA, "/a.mp4") as source:
        manifest = tmp_path / "items.csv"
        manifest.write_text(
            f"url,name,crc32c\n{source.url},good,\n{source.url},bad checksum,12345\n"
        )
        env = {"PYTHONPATH": env_with_path()["PYTHONPATH"]}
        first = await run_cli(None, "bulk", str(manifest), "--queue", redis_url, "--job", job,
                              env=env)  # fmt: skip
        assert first.code == 0 and "2 queued" in first.out, first.err
        worker = await run_cli(
            emu, "worker", "--queue", redis_url, "--job", job, "--exit-when-idle",
            "--max-deliveries", "2", "--idle-timeout", "2", "--poll-interval", "0.05", "--json",
            timeout=120,
        )  # fmt: skip
        assert worker.code == 0, worker.err
        assert json.loads(worker.out)["stats"]["dead"] == 1
        status = await run_cli(None, "bulk", "status", "--queue", redis_url, "--job", job,
                               env=env)  # fmt: skip
        assert status.code == 1  # an item failed
        assert "1 done" in status.out and "1 failed" in status.out
        assert "CHECKSUM_MISMATCH" in status.out and "1 dead-lettered" in status.out
        rerun = await run_cli(None, "bulk", str(manifest), "--queue", redis_url, "--job", job,
                              "--json", env=env)  # fmt: skip
        assert json.loads(rerun.out)["queued"] == 1 and json.loads(rerun.out)["done"] == 1
    # the failed import was retried on the same video (restart), never imported anew
    assert len(masters(emu)) == 2


async def test_a_takeover_finds_an_import_whose_id_was_never_recorded(
    pixop_emulator: EmulatorServer, pixop_client: Pixop, redis: Any, ns: str, tmp_path: Path
) -> None:
    """The worker died after asking for the import and before writing its id down."""
    emu = pixop_emulator
    queue = BulkQueue(redis, f"{ns}-lost")
    async with serve(DATA, "/a.mp4") as source:
        item = ImportItem(source.url, "lost id")
        await queue.enqueue([item])
        key = item_key(item)
        await queue.update(key, creating=f"{time.time():.3f}")
        started = await pixop_client.imports.from_https(
            source.url, "lost id", description=marker(queue.job, key), allow_loopback_http=True
        )
        handler = BulkHandler(pixop_client, queue, "taker", intervals=FAST)
        await handler(StreamMessage(queue.stream, "1-1", {"item": key}, 2))
    state = await queue.load(key)
    assert state["state"] == "done" and state["video_id"] == str(started.video_id)
    assert list(masters(emu)) == [str(started.video_id)]


async def test_queue_errors_are_one_line_without_the_password(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("url,name\nhttps://example.com/a.mp4,a\n")
    run = await run_cli(
        None, "bulk", str(manifest), "--queue", "redis://:hunter2@127.0.0.1:1/0",
        env={"PYTHONPATH": env_with_path()["PYTHONPATH"]},
    )  # fmt: skip
    assert run.code == 1
    assert "cannot reach the queue" in run.err and "hunter2" not in run.err
    env = {"PYTHONPATH": env_with_path()["PYTHONPATH"]}
    bad = await run_cli(None, "bulk", "status", "--queue", "http://x", env=env)
    assert bad.code == 1 and "redis://" in bad.err


async def test_a_takeover_finds_the_lost_import_despite_a_skewed_clock(
    pixop_emulator: EmulatorServer, pixop_client: Pixop, redis: Any, ns: str
) -> None:
    """Before: the dead worker's clock an hour ahead of Pixop's made the lookup stop at
    once (every video looked older than the mark), and the item was imported twice."""
    emu = pixop_emulator
    queue = BulkQueue(redis, f"{ns}-skew")
    async with serve(DATA, "/a.mp4") as source:
        item = ImportItem(source.url, "skewed")
        await queue.enqueue([item])
        key = item_key(item)
        await queue.update(key, creating=f"{time.time() + 3600:.3f}")
        started = await pixop_client.imports.from_https(
            source.url, "skewed", description=marker(queue.job, key), allow_loopback_http=True
        )
        handler = BulkHandler(pixop_client, queue, "taker", intervals=FAST)
        await handler(StreamMessage(queue.stream, "1-1", {"item": key}, 2))
    state = await queue.load(key)
    assert state["state"] == "done" and state["video_id"] == str(started.video_id)
    assert list(masters(emu)) == [str(started.video_id)]

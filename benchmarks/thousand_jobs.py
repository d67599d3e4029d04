"""N pipelines in one async client against the emulator at 600 requests a minute.

Each pipeline: import from HTTPS → wait ingested → start processing → wait done (and the
result ingested). Run with and without a webhook receiver::

    python benchmarks/thousand_jobs.py -n 1000                # polling
    python benchmarks/thousand_jobs.py -n 1000 --webhooks     # webhook receiver
    python benchmarks/thousand_jobs.py --watchers 10000       # idle watchers, limit lifted

The emulator (and the small HTTP server the imports read their source from) runs in a child
process so its CPU does not show up as the client's event-loop lag; ``--speed`` scales its
simulated durations (the rate limit stays 600/min). Prints one JSON line: completion time,
requests per pipeline (counted by the emulator's rate limiter), 429s, ``RateLimitError``s,
the minimum time the limit allows for the requests made, done-to-return latency p50/p99
(the emulator's wall-clock time of the result's ingestion vs. the pipeline's return), peak
RSS and the worst event-loop lag of the client.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pixop_async import ClientConfig, Pixop  # noqa: E402
from pixop_async.errors import RateLimitError  # noqa: E402
from pixop_async.models.processing_options import (  # noqa: E402
    Denoiser,
    Filters,
    VideoProcessingConfigurationOptions,
)
from pixop_async.webhooks import PublicKeyCache, WebhookReceiver  # noqa: E402

OPTIONS = VideoProcessingConfigurationOptions(filters=Filters(denoiser=Denoiser.DENOISE))
EVENTS = [
    "video_in.failed",
    "video_in_ingestion.done",
    "video_in_ingestion.failed",
    "video_processing.done",
    "video_processing.failed",
    "video_processing_ingestion.done",
    "video_processing_ingestion.failed",
]


# --------------------------------------------------------------------------- child: emulator


async def serve(limit: int, speed: float) -> None:
    """The child process: emulator + source file server; prints their URLs, then waits."""
    from pixop_async.emulator import EmulatorConfig, EmulatorServer
    from pixop_async.emulator import middleware as mw

    hits = collections.Counter[str]()
    original = mw.RateLimiter.hit

    def counted(self: mw.RateLimiter, key: str) -> tuple[int, int, int, bool]:
        result = original(self, key)
        hits["requests"] += 1
        hits["429"] += 0 if result[3] else 1
        return result

    mw.RateLimiter.hit = counted  # type: ignore[method-assign]
    done_at: dict[str, float] = {}
    import tempfile

    source = Path(tempfile.mkdtemp()) / "source.mp4"
    source.write_bytes(os.urandom(4 * 50_000))  # a "4 second" video for the emulator

    config = EmulatorConfig(rate_limit_per_minute=limit, speed=speed, allow_http_sources=True)
    async with EmulatorServer(config) as emu:
        emu.state.event_listeners.append(
            lambda kind, vid: (
                done_at.setdefault(vid, time.time())
                if kind == "video_processing_ingestion.done"
                else None
            )
        )

        async def source_file(request: web.Request) -> web.StreamResponse:
            return web.FileResponse(source)  # answers range requests

        async def stats(request: web.Request) -> web.StreamResponse:
            return web.json_response({"hits": dict(hits), "done_at": done_at})

        app = web.Application()
        app.add_routes([web.get("/source.mp4", source_file), web.get("/stats", stats)])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(
            json.dumps(
                {
                    "base_url": emu.base_url,
                    "api_key": emu.api_key,
                    "side": f"http://127.0.0.1:{port}",
                }
            ),
            flush=True,
        )
        # the parent's terminate() ends the emulator through ``async with``, which deletes
        # its data (10,000 imports leave ~2 GB of copies; a killed child left them behind)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()
    shutil.rmtree(source.parent, ignore_errors=True)


# --------------------------------------------------------------------------- parent: client


class LagMonitor:
    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.worst = 0.0
        self.worst_at = 0.0
        # the worst lag counting only this process's own CPU time during the late tick: on a
        # shared machine a stall while the OS ran other processes is not the SDK's
        self.worst_own = 0.0
        self.began = time.monotonic()
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before, cpu_before = loop.time(), time.process_time()
            await asyncio.sleep(self.period)
            lag = loop.time() - before - self.period
            self.samples.append(lag)
            self.worst_own = max(self.worst_own, min(lag, time.process_time() - cpu_before))
            if lag > self.worst:
                self.worst, self.worst_at = lag, time.monotonic() - self.began

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def reset(self) -> None:
        self.worst, self.worst_own, self.samples = 0.0, 0.0, []

    def p99(self) -> float:
        if not self.samples:
            return 0.0
        return sorted(self.samples)[int(len(self.samples) * 0.99) - 1]


def peak_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def stats(http: aiohttp.ClientSession, side: str) -> dict[str, Any]:
    async with http.get(f"{side}/stats") as response:
        result: dict[str, Any] = await response.json()
        return result


async def pipelines(args: argparse.Namespace, info: dict[str, str]) -> dict[str, Any]:
    lag = LagMonitor()
    lag.start()
    outcomes: collections.Counter[str] = collections.Counter()
    returned: dict[str, float] = {}
    arrived: dict[str, float] = {}  # when the result's ingestion webhook reached the receiver
    first_done: list[float] = []
    async with (
        aiohttp.ClientSession() as http,
        Pixop(info["api_key"], base_url=info["base_url"], config=ClientConfig()) as px,
    ):
        receiver: WebhookReceiver | None = None
        serving = None
        if args.webhooks:
            receiver = WebhookReceiver(PublicKeyCache(px))
            receiver.add_listener(
                lambda e: (
                    arrived.setdefault(str(e.video_id), time.time())
                    if e.event_type.value == "video_processing_ingestion.done"
                    else None
                )
            )
            serving = receiver.serve()
            url = await serving.__aenter__()
            await px.webhooks.create(
                "bench", url, EVENTS, rate_limit_per_second=1000, allow_loopback_http=True
            )
        before = (await stats(http, info["side"]))["hits"]
        source = f"{info['side']}/source.mp4"
        started = time.monotonic()

        async def one(i: int) -> None:
            try:
                imported = await px.imports.from_https(source, f"job {i}", allow_loopback_http=True)
                await px.imports.wait_ingested(imported.video_id, receiver=receiver)
                job = await px.processing.start(imported.video_id, OPTIONS)
                await px.processing.wait(job.video_id, receiver=receiver)
                returned[str(job.video_id)] = time.time()
                if not first_done:
                    first_done.append(time.monotonic() - started)
                outcomes["done"] += 1
            except RateLimitError:
                outcomes["RateLimitError"] += 1
            except Exception as exc:  # a benchmark counts every failure
                if os.environ.get("BENCH_DEBUG"):
                    print(repr(exc), file=sys.stderr)
                outcomes[type(exc).__name__] += 1

        await asyncio.gather(*(one(i) for i in range(args.n)))
        elapsed = time.monotonic() - started
        after = await stats(http, info["side"])
        if serving is not None:
            await serving.__aexit__(None, None, None)
        requests = after["hits"].get("requests", 0) - before.get("requests", 0)
        limited = after["hits"].get("429", 0) - before.get("429", 0)
        latencies = [
            returned[vid] - after["done_at"][vid] for vid in returned if vid in after["done_at"]
        ]
        deliveries = [
            arrived[vid] - after["done_at"][vid] for vid in arrived if vid in after["done_at"]
        ]
        minimum = requests / (args.limit / 60)
        return {
            "n": args.n,
            "webhooks": args.webhooks,
            "speed": args.speed,
            "outcomes": dict(outcomes),
            "completion_s": round(elapsed, 1),
            "first_result_s": round(first_done[0], 1) if first_done else None,
            "requests": requests,
            "requests_per_pipeline": round(requests / args.n, 2),
            "minimum_s_for_requests": round(minimum, 1),
            "completion_vs_minimum": round(elapsed / minimum, 3) if minimum else None,
            "http_429": limited,
            "done_to_return_p50_s": _round(percentile(latencies, 0.5)),
            "done_to_return_p99_s": _round(percentile(latencies, 0.99)),
            "webhook_delivery_p50_s": _round(percentile(deliveries, 0.5)),
            "peak_rss_mib": round(peak_rss_mib(), 1),
            "loop_lag_worst_ms": round(lag.worst * 1000, 1),
            "loop_lag_worst_at_s": round(lag.worst_at - (started - lag.began), 1),
            "loop_lag_p99_ms": round(lag.p99() * 1000, 1),
            "key_fetches": receiver.keys.fetch_count if receiver is not None else None,
            "receiver": dict(receiver.stats) if receiver is not None else None,
        }


async def watchers(args: argparse.Namespace, info: dict[str, str]) -> dict[str, Any]:
    """``--watchers`` idle waits (imports that stay in progress) with the limit lifted.

    Watchers are started 250 at a time (a service adds them as jobs come, not 10,000 in one
    loop iteration); the lag is measured once all are waiting, for ``--watch-seconds``, and
    the longest garbage-collection pause of that stretch is reported beside it."""
    import gc

    lag = LagMonitor()
    lag.start()
    gc_pauses: list[float] = []
    gc_started = [0.0]

    full_passes = [0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses.append(time.perf_counter() - gc_started[0])
            full_passes[0] += info.get("generation") == 2

    async with Pixop(info["api_key"], base_url=info["base_url"]) as px:
        source = f"{info['side']}/source.mp4"
        sem = asyncio.Semaphore(64)

        async def create(i: int) -> str:
            async with sem:
                started = await px.imports.from_https(source, f"w{i}", allow_loopback_http=True)
                return str(started.video_id)

        ids = await asyncio.gather(*(create(i) for i in range(args.watchers)))
        tasks: list[asyncio.Task[Any]] = []
        for batch in range(0, len(ids), 250):
            for vid in ids[batch : batch + 250]:
                tasks.append(asyncio.create_task(px.imports.wait_ingested(vid)))
            await asyncio.sleep(0.05)
        await asyncio.sleep(5)  # every watcher has sent its first poll
        if args.gc_freeze:  # what a service does after start-up: long-lived objects leave
            gc.freeze()  # the collector's full passes (Python's gc.freeze)
        lag.reset()
        gc.callbacks.append(on_gc)
        granted_before = px.budget.granted
        began = time.monotonic()
        await asyncio.sleep(args.watch_seconds)
        elapsed = time.monotonic() - began
        gc.callbacks.remove(on_gc)
        worst, worst_own, p99 = lag.worst, lag.worst_own, lag.p99()
        tracked = len(gc.get_objects())  # what every full collection walks
        # What one full pass costs with every watcher parked, best of 5 (the machine's other
        # load only ever adds to it): the quiet-machine figure of the worst GC pause.
        # CPU seconds are kept beside the wall time: they do not count time the OS gave to
        # other processes.
        passes, passes_cpu = [], []
        for _ in range(5):
            began_pass, began_cpu = time.perf_counter(), time.process_time()
            gc.collect()
            passes.append(time.perf_counter() - began_pass)
            passes_cpu.append(time.process_time() - began_cpu)
        granted = px.budget.granted - granted_before
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "watchers": args.watchers,
            "watch_s": round(elapsed, 1),
            "polls_per_s": round(granted / elapsed, 1),
            "peak_rss_mib": round(peak_rss_mib(), 1),
            "loop_lag_worst_ms": round(worst * 1000, 1),
            "loop_lag_worst_own_cpu_ms": round(worst_own * 1000, 1),
            "loop_lag_p99_ms": round(p99 * 1000, 1),
            "gc_pause_worst_ms": round(max(gc_pauses, default=0.0) * 1000, 1),
            "gc_full_collections": full_passes[0],
            "gc_full_pass_best_ms": round(min(passes) * 1000, 1),
            "gc_full_pass_cpu_ms": round(min(passes_cpu) * 1000, 1),
            "gc_tracked_objects": tracked,
            "gc_freeze": args.gc_freeze,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200, help="pipelines")
    parser.add_argument("--webhooks", action="store_true", help="wait with a webhook receiver")
    parser.add_argument("--limit", type=int, default=600, help="emulator requests a minute")
    parser.add_argument("--speed", type=float, default=10.0, help="emulator speed factor")
    parser.add_argument("--watchers", type=int, default=0, help="idle watchers (limit lifted)")
    parser.add_argument("--watch-seconds", type=float, default=60.0)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() once watching")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.watchers:
        args.limit, args.speed = 10**9, 0.0001  # limit lifted, imports never finish
    if args.serve:
        asyncio.run(serve(args.limit, args.speed))
        return
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--limit",
            str(args.limit),
            "--speed",
            str(args.speed),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        run = watchers if args.watchers else pipelines
        print(json.dumps(asyncio.run(run(args, info))), flush=True)
    finally:
        child.terminate()
        child.wait(120)


if __name__ == "__main__":
    main()

"""Webhook fan-in benchmark: signed deliveries -> 2 receivers -> Redis Stream -> 4 workers.

    python benchmarks/redis_pipeline_bench.py                  # 20,000 deliveries
    python benchmarks/redis_pipeline_bench.py --deliveries 2000 --duplicates 0.1

Starts its own redis-server (temp dir, free loopback port, no persistence), two receiver
processes sharing a ``RedisEventStore`` and publishing to one stream, and four worker
processes in one consumer group. The load generator signs every delivery beforehand, posts
them round-robin with ``--concurrency`` in flight (a 503 is retried after a short pause,
as Pixop would), and re-sends ``--duplicates`` of them to the *other* receiver. Each worker
records (event id, time handled); the result:

* deliveries/s: accepted deliveries over the time from the first post to the last handled;
* end-to-end latency p50/p99: from just before the POST to the worker's handler;
* lost events (accepted but never handled; must be 0) and duplicate actions;
* peak RSS (``ru_maxrss``) of every process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pixop_async.pipeline import (  # noqa: E402
    StreamMessage,
    StreamPublisher,
    StreamWorker,
    WorkerSettings,
    connect,
)
from pixop_async.webhooks import (  # noqa: E402
    RedisEventStore,
    WebhookReceiver,
    encode_public_key,
    generate_key,
    sign,
)

STREAM = "bench:webhooks"
GROUP = "bench-workers"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- children


async def receiver_main(url: str, key_id: str, public_key: str) -> None:
    redis = connect(url)
    receiver = WebhookReceiver(
        {key_id: public_key},
        store=RedisEventStore(redis, prefix="bench:event:"),
        publish=StreamPublisher(redis, STREAM),
        queue_size=10_000,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with receiver.serve() as address:
        print(address, flush=True)
        await stop.wait()
    await redis.aclose()
    print(json.dumps({"stats": dict(receiver.stats), "rss_mib": peak_rss_mib()}), flush=True)


async def worker_main(url: str, name: str, out: str) -> None:
    redis = connect(url)
    handled: list[tuple[str, float]] = []

    async def handle(message: StreamMessage) -> None:
        handled.append((message.fields["event_id"], time.time()))

    worker = StreamWorker(
        redis, STREAM, GROUP, handle, consumer=name,
        settings=WorkerSettings(concurrency=32, block=0.2),
    )  # fmt: skip
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, worker.stop)
    print("ready", flush=True)
    await worker.run()
    await redis.aclose()
    Path(out).write_text(json.dumps({"handled": handled, "stats": dict(worker.stats),
                                     "rss_mib": peak_rss_mib()}))  # fmt: skip


# --------------------------------------------------------------------------- driver


def start_redis(workdir: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    sys.exit("redis-server did not start")


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)


def delivery(event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "webhookId": "7c0e1b76-3f52-4b8e-9d1f-6a1f1fb0b0a1",
            "eventType": "video_processing.done",
            "occurredAt": "2026-11-29T10:00:00Z",
            "test": False,
            "attemptCount": 1,
            "data": {"type": "VIDEO", "videoId": str(uuid.uuid4())},
        },
        separators=(",", ":"),
    ).encode()


async def load(
    urls: list[str], bodies: list[tuple[str, bytes, dict[str, str]]], dup_every: int,
    concurrency: int,
) -> tuple[dict[str, float], dict[int, int], float]:  # fmt: skip
    """Post every delivery (plus duplicates); returns send times of accepted ids."""
    sent_at: dict[str, float] = {}
    statuses: dict[int, int] = {}
    jobs: asyncio.Queue[tuple[int, str, bytes, dict[str, str]]] = asyncio.Queue()
    for i, (event_id, body, headers) in enumerate(bodies):
        jobs.put_nowait((i, event_id, body, headers))
        if dup_every and i % dup_every == 0:
            jobs.put_nowait((i + 1, event_id, body, headers))  # the other receiver
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def runner() -> None:
            while True:
                try:
                    i, event_id, body, headers = jobs.get_nowait()
                except asyncio.QueueEmpty:
                    return
                url = urls[i % len(urls)]
                while True:
                    start = time.time()
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 503:
                        await asyncio.sleep(0.05)
                        continue
                    if status == 202:
                        if event_id in sent_at:
                            raise RuntimeError(f"delivery {event_id} accepted twice")
                        sent_at[event_id] = start
                    elif status != 200:  # 200: the copy sent to the other receiver won
                        raise RuntimeError(f"delivery {event_id}: HTTP {status}")
                    break

        began = time.time()
        await asyncio.gather(*(runner() for _ in range(concurrency)))
    missing = {e for e, _b, _h in bodies} - set(sent_at)
    if missing:
        raise RuntimeError(f"{len(missing)} deliveries were never accepted")
    return sent_at, statuses, began


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


async def wait_drained(url: str, expected: int, timeout: float) -> tuple[int, int]:
    """Wait until every accepted entry was added and handled; then (entries added, stream
    length once the workers' last trim is due: they trim acknowledged entries)."""
    redis = connect(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            groups = await redis.xinfo_groups(STREAM)
            g = next((g for g in groups if g["name"] == GROUP), None)
            added = int((await redis.xinfo_stream(STREAM))["entries-added"])
            if g is not None and g["pending"] == 0 and g["lag"] == 0 and added >= expected:
                await asyncio.sleep(WorkerSettings().trim_interval + 1)
                return added, int(await redis.xlen(STREAM))
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()
    raise RuntimeError("workers did not drain the stream in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--duplicates", type=float, default=0.05,
                        help="fraction re-sent to the other receiver")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--receivers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    key = generate_key()
    key_id = str(uuid.uuid4())
    public = encode_public_key(key)
    t0 = time.time()
    bodies = []
    for _ in range(args.deliveries):
        event_id = str(uuid.uuid4())
        body = delivery(event_id)
        bodies.append((event_id, body, sign(body, key, key_id)))
    print(f"signed {args.deliveries} deliveries in {time.time() - t0:.1f} s", flush=True)

    with tempfile.TemporaryDirectory(prefix="pixop-bench-redis-") as workdir:
        redis_proc, url = start_redis(workdir)
        receivers = [child("receiver", url, key_id, public) for _ in range(args.receivers)]
        workers = [child("worker", url, f"w{i}", f"{workdir}/w{i}.json")
                   for i in range(args.workers)]  # fmt: skip
        try:
            urls = [p.stdout.readline().strip() for p in receivers]  # type: ignore[union-attr]
            for p in workers:
                p.stdout.readline()  # type: ignore[union-attr]
            dup_every = round(1 / args.duplicates) if args.duplicates > 0 else 0
            sent_at, statuses, began = asyncio.run(load(urls, bodies, dup_every, args.concurrency))
            added, length = asyncio.run(wait_drained(url, len(sent_at), 600))
        finally:
            for p in workers + receivers:
                p.send_signal(signal.SIGTERM)
            receiver_out = [json.loads(p.communicate(timeout=60)[0].splitlines()[-1])
                            for p in receivers]  # fmt: skip
            for p in workers:
                p.wait(60)
            redis_proc.terminate()
            redis_proc.wait(10)
        results = [json.loads(Path(f"{workdir}/w{i}.json").read_text())
                   for i in range(args.workers)]  # fmt: skip

    handled: dict[str, list[float]] = {}
    for result in results:
        for event_id, at in result["handled"]:
            handled.setdefault(event_id, []).append(at)
    accepted = set(sent_at)
    lost = accepted - set(handled)
    duplicate_actions = sum(len(v) - 1 for v in handled.values())
    latencies = [min(handled[e]) - sent_at[e] for e in accepted if e in handled]
    last = max(max(v) for v in handled.values())
    rate = len(accepted) / (last - began)
    print(f"\ncommand: python benchmarks/{Path(__file__).name} --deliveries {args.deliveries} "
          f"--duplicates {args.duplicates} --concurrency {args.concurrency}")  # fmt: skip
    print(f"receivers {args.receivers}, workers {args.workers}, cpu cores {os.cpu_count()}")
    print(f"HTTP answers: {dict(sorted(statuses.items()))}")
    print(f"accepted {len(accepted)} / {args.deliveries}, handled {len(handled)}, "
          f"lost {len(lost)}, duplicate actions {duplicate_actions}")  # fmt: skip
    print(f"throughput: {rate:,.0f} deliveries/s (first post to last handled)")
    print(f"end-to-end latency: p50 {percentile(latencies, 50) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 99) * 1000:.1f} ms")  # fmt: skip
    for i, out in enumerate(receiver_out):
        print(f"receiver {i}: peak RSS {out['rss_mib']:.1f} MiB, {out['stats']}")
    for i, result in enumerate(results):
        print(f"worker {i}: peak RSS {result['rss_mib']:.1f} MiB, handled "
              f"{len(result['handled'])}, {result['stats']}")  # fmt: skip
    print(f"load generator: peak RSS {peak_rss_mib():.1f} MiB")
    print(
        f"stream after the run: {length} entries left of {added} added (workers trim "
        "what every group acknowledged)"
    )
    if lost:
        sys.exit(f"LOST {len(lost)} events")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "receiver":
        asyncio.run(receiver_main(*sys.argv[2:5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "worker":
        asyncio.run(worker_main(*sys.argv[2:5]))
    else:
        main()

"""The SDK side of the transfer benchmarks: one process per measured run.

Prints one JSON line: elapsed seconds, bytes fetched, the worst event-loop lag seen (ms)
and, for ``many``, the per-item outcome counts. Run by ``transfer_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from pixop_async._session import HttpSession
from pixop_async.config import ClientConfig
from pixop_async.transfer import _fetch
from pixop_async.transfer.bulk import DownloadItem, download_many
from pixop_async.transfer.config import TransferConfig
from pixop_async.transfer.download import download
from pixop_async.transfer.scheduler import Scheduler


def _pwrite_only(fd: int, chunks: list[bytes], offset: int, crc: int) -> int:
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            written = os.pwrite(fd, view, offset)
            view = view[written:]
            offset += written
    return crc


def _peak_rss_mib() -> float:
    """This process image's peak RSS (VmHWM; unlike ru_maxrss it starts afresh at exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _lag_monitor(worst: list[float], period: float = 0.005) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(period)
        worst[0] = max(worst[0], loop.time() - before - period)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["one", "many"])
    parser.add_argument("source", help="URL, or a file listing URLs for 'many'")
    parser.add_argument("dest")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--part-size", type=int, default=None)
    parser.add_argument(
        "--files", type=int, default=16, help="concurrent files for 'many' (0: by --budget)"
    )
    parser.add_argument(
        "--budget", type=int, default=None, help="'many': connections of all files together"
    )
    parser.add_argument("--expected-crc", type=lambda s: int(s, 0), default=None)
    parser.add_argument("--no-crc", action="store_true")
    parser.add_argument("--progress", action="store_true", help="print bytes received")
    parser.add_argument("--no-fsync", action="store_true", help="skip the final fsync")
    parser.add_argument(
        "--defaults", action="store_true", help="'many' with the SDK's default settings"
    )
    args = parser.parse_args()
    if args.no_crc:
        # measuring the cost of hashing: the same pipeline, pwrite only
        # the writer looks ``hash_and_pwritev`` up in its own module at each call
        _fetch.hash_and_pwritev = _pwrite_only  # type: ignore[attr-defined]
    limit = max(args.connections * args.files if args.mode == "many" else args.connections, 8)
    if args.budget is not None:
        limit = args.budget
    config = TransferConfig(
        connections=args.connections,
        max_connections=min(limit, 64),
        max_connections_per_transfer=64,
        max_concurrent_files=args.files or None,
        fsync=not args.no_fsync,
    )
    if args.defaults:  # what a caller gets who sets nothing
        config = TransferConfig()
        http = HttpSession(ClientConfig())
    else:
        http = HttpSession(ClientConfig(connection_limit=limit, connection_limit_per_host=limit))
    worst = [0.0]
    monitor = asyncio.ensure_future(_lag_monitor(worst))

    def progress(done: int, total: int | None) -> None:
        print(f"progress {done}", flush=True)

    started = time.monotonic()
    cpu_started = time.process_time()
    out: dict[str, object] = {}
    try:
        if args.mode == "one":
            result = await download(
                http,
                args.source,
                args.dest,
                connections=args.connections,
                part_size=args.part_size,
                expected_crc32c=args.expected_crc,
                progress=progress if args.progress else None,
                scheduler=Scheduler(config),
                config=config,
            )
            out["bytes"] = result.bytes_fetched
            out["crc32c"] = result.crc32c
        else:
            with open(args.source) as handle:
                urls = [line.strip() for line in handle if line.strip()]
            items = [
                DownloadItem(u, os.path.join(args.dest, f"f{i:05d}")) for i, u in enumerate(urls)
            ]
            report = await download_many(
                http,
                items,
                connections=None if args.defaults else 1,
                skip_existing=False,
                scheduler=Scheduler(config),
            )
            out["done"] = len(report.done)
            out["failed"] = len(report.failed)
            out["bytes"] = sum(r.result.bytes_fetched for r in report.done if r.result)
    finally:
        elapsed = time.monotonic() - started
        out["cpu"] = time.process_time() - cpu_started
        monitor.cancel()
        await http.close()
    out["elapsed"] = elapsed
    out["lag_ms"] = worst[0] * 1000
    out["rss_mib"] = _peak_rss_mib()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main())

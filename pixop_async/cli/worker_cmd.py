"""``pixop worker --queue URL``: take distributed bulk items until stopped (SIGINT/SIGTERM
finish what is in flight, or hand it back) or, with ``--exit-when-idle``, until the job
has nothing left to do."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .common import add_common_options, emit_json, err_console, open_client
from .queue_options import add_queue_options, open_queue
from .support import add_poll_options, poll_intervals, positive_float, positive_int


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "worker", help="take items of a distributed `pixop bulk --queue` job (any number)"
    )
    add_queue_options(parser, required=False)
    parser.add_argument("--concurrency", type=positive_int, default=4, help="items at a time")
    parser.add_argument(
        "--idle-timeout",
        type=positive_float,
        default=30.0,
        metavar="S",
        help="take over an item a silent worker held this long (default 30 s)",
    )
    parser.add_argument(
        "--max-deliveries", type=positive_int, default=5, help="tries before an item fails"
    )
    parser.add_argument("--consumer", default=None, help="this worker's name (default host-pid)")
    parser.add_argument("--dest-dir", default=None, help="where downloads go (default: the job's)")
    parser.add_argument(
        "--exit-when-idle", action="store_true", help="exit once the job has nothing left"
    )
    add_poll_options(parser)
    add_common_options(parser)
    parser.set_defaults(func=run)


async def _exit_when_idle(queue: object, worker: object) -> None:
    from ..pipeline.bulk_state import BulkQueue
    from ..pipeline.worker import StreamWorker

    assert isinstance(queue, BulkQueue) and isinstance(worker, StreamWorker)
    while True:
        await asyncio.sleep(0.5)
        try:
            info = await queue.stream_info()
        except Exception:  # Redis restarting: the worker rides it out, so does this check
            continue
        if info["waiting"] == 0 and info["pending"] == 0 and worker.in_flight == 0:
            worker.stop()
            return


async def run(args: argparse.Namespace) -> int:
    from ..pipeline import StreamWorker, WorkerSettings, default_consumer
    from ..pipeline.bulk_state import GROUP, BulkQueue
    from ..pipeline.bulk_worker import BulkHandler

    settings = WorkerSettings(
        concurrency=args.concurrency,
        idle_timeout=args.idle_timeout,
        max_deliveries=args.max_deliveries,
        backoff_base=min(1.0, args.idle_timeout / 10),
    )
    consumer = args.consumer or default_consumer()
    async with open_client(args) as px, open_queue(args) as redis:
        queue = BulkQueue(redis, args.job)
        handler = BulkHandler(
            px,
            queue,
            consumer,
            intervals=poll_intervals(args),
            timeout=args.timeout,
            dest_dir=args.dest_dir,
        )
        worker = StreamWorker(
            redis,
            queue.stream,
            GROUP,
            handler,
            consumer=consumer,
            settings=settings,
            dead_letter=queue.dead,
            on_dead=handler.on_dead,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, worker.stop)
        watcher = (
            asyncio.create_task(_exit_when_idle(queue, worker)) if args.exit_when_idle else None
        )
        err_console.print(f"worker {consumer} on job {args.job}")
        try:
            await worker.run()
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
    stats = dict(worker.stats)
    if args.json:
        emit_json({"consumer": consumer, "stats": stats})
    else:
        err_console.print(
            f"worker {consumer} stopped: " + ", ".join(f"{n} {k}" for k, n in sorted(stats.items()))
            if stats
            else "nothing done"
        )
    return 0

"""Distributed ``pixop bulk``: ``pixop bulk MANIFEST --queue URL`` enqueues the items for
``pixop worker`` processes; ``pixop bulk status --queue URL`` reports on them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .common import console, emit_json, model_table
from .manifest import load_manifest
from .queue_options import open_queue


def _absolute(path: str) -> str:
    return os.path.abspath(path)


async def enqueue(args: argparse.Namespace) -> int:
    """Queue the manifest's items that are neither done nor already queued/running."""
    from ..pipeline.bulk_state import BulkQueue

    items = load_manifest(Path(args.manifest))  # validated before anything is queued
    async with open_queue(args) as redis:
        queue = BulkQueue(redis, args.job)
        report = await queue.enqueue(items, dest_dir=_absolute(args.dest_dir))
    if args.json:
        emit_json(
            {
                "job": args.job,
                "queued": report.queued,
                "done": report.done,
                "active": report.active,
                "stale": report.stale,
                "other": report.other,
            }
        )
    else:
        console.print(
            f"job {args.job}: {report.queued} queued, {report.done} already done, "
            f"{report.active} already queued or running"
            + (
                f" ({report.stale} of the queued were stuck with no message)"
                if report.stale
                else ""
            )
            + (
                f"; {report.other} item(s) of earlier manifests are still in this job"
                if report.other
                else ""
            )
        )
    return 0


async def status(args: argparse.Namespace) -> int:
    """Per-item state and the summary; exit status 1 when any item failed."""
    from ..pipeline.bulk_state import BulkQueue, summarize

    async with open_queue(args) as redis:
        queue = BulkQueue(redis, args.job)
        rows = await queue.status()
        info = await queue.stream_info()
    counts = summarize(rows)
    if args.json:
        emit_json(
            {
                "job": args.job,
                "items": [r.to_json() for r in rows],
                "summary": counts,
                "stream": info,
            }
        )
    else:
        table = model_table(
            f"Bulk job {args.job}",
            ("item", "state", "video", "worker", "attempts", "error"),
            ((r.label, r.state, r.video_id, r.worker, r.attempts, r.error) for r in rows),
        )
        console.print(table)
        console.print(
            ", ".join(f"{n} {state}" for state, n in counts.items())
            + f" | stream: {info['waiting']} waiting, {info['pending']} with workers, "
            f"{info['dead']} dead-lettered"
        )
    return 1 if counts.get("failed") else 0


async def run(args: argparse.Namespace) -> int:
    if args.manifest == "status":  # a manifest file named so is ./status
        return await status(args)
    return await enqueue(args)

"""``pixop demo``: the whole job on the built-in emulator, step by step, with live bars.

It starts the emulator and a local "origin" web server holding a sample video file, subscribes
a webhook receiver, then imports the file over ranged HTTP with a CRC32C, follows ingestion,
processes it, downloads the result through the transfer engine (CRC32C verified), exports it
to a stand-in S3 bucket, uploads the sample from local disk by S3 multipart upload and imports
it (when the ``[s3]`` extra and moto are installed; one line says the leg was skipped otherwise)
and finally does the same upload/download round trip on the legacy API.

With ``--json`` the step-by-step output is silenced and one JSON object describing the run
(each step's ids, sizes and checksums, the webhook events received) is printed on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.table import Table

from ..client import Pixop
from ..emulator import EmulatorConfig, EmulatorServer
from ..transfer.checksum import crc32c_file
from ..webhooks import PublicKeyCache, ReceivedEvent, WebhookEventType, WebhookReceiver
from .bars import byte_callback, transfer_progress
from .common import console
from .demo_local import local_file_step
from .demo_steps import (
    DemoContext,
    account_step,
    download_step,
    export_step,
    import_step,
    legacy_step,
    process_step,
    serve_directory,
)

MiB = 1024 * 1024


def _write_sample(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            chunk = os.urandom(min(remaining, 4 * MiB))
            handle.write(chunk)
            remaining -= len(chunk)


async def run(args: argparse.Namespace) -> int:
    as_json = bool(getattr(args, "json", False))
    quiet = console.quiet
    console.quiet = quiet or as_json  # --json: stdout carries the summary alone
    try:
        summary = await _run(args)
    finally:
        console.quiet = quiet
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return 0


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    config = EmulatorConfig(speed=args.speed, allow_http_sources=True)
    summary: dict[str, Any] = {"ok": False, "sample_size": args.size_mib * MiB}
    with tempfile.TemporaryDirectory(prefix="pixop-demo-") as workdir:
        work = Path(workdir)
        sample = work / "origin" / "sunset-original.mp4"
        sample.parent.mkdir()
        await asyncio.to_thread(_write_sample, sample, args.size_mib * MiB)
        async with EmulatorServer(config) as emu, serve_directory(sample.parent) as origin:
            console.rule("[bold]pixop demo[/] - the whole job on the built-in emulator")
            console.print(f"emulator: {emu.root_url}   sample origin: {origin}")
            async with Pixop(
                emu.api_key, base_url=emu.base_url, email=emu.email, password=emu.password
            ) as px:
                events: list[ReceivedEvent] = []
                receiver = WebhookReceiver(PublicKeyCache(px), callback=events.append)
                async with receiver.serve() as hook_url:
                    webhook = await px.webhooks.create(
                        "demo receiver",
                        hook_url,
                        list(WebhookEventType),
                        allow_loopback_http=True,
                    )
                    console.print(f"webhook {webhook.id} -> {hook_url} (signatures verified)")
                    ctx = DemoContext(px=px, emu=emu, work=work, origin=origin, sample=sample)
                    ctx.summary = summary
                    await account_step(ctx)
                    await import_step(ctx, await crc32c_file(sample))
                    await process_step(ctx)
                    await download_step(ctx)
                    await export_step(ctx)
                    await _settle(events)
                    _events_table(events)
                    summary["webhook_events"] = [
                        {"event": str(e.event_type), "video_id": str(e.video_id)}
                        for e in sorted(events, key=lambda e: e.occurred_at)
                    ]
                    await px.webhooks.delete(webhook.id)
            summary["local_file"] = await local_file_step(sample, args.speed)
            summary["legacy"] = await legacy_step(emu, sample, work)
    elapsed = time.monotonic() - started
    console.rule(f"[green]demo finished in {elapsed:.1f}s")
    summary.update(ok=True, elapsed_seconds=round(elapsed, 2))
    return summary


async def _settle(events: list[ReceivedEvent], quiet: float = 0.5, limit: float = 5.0) -> None:
    """Give the last webhook deliveries a moment to arrive."""
    deadline = time.monotonic() + limit
    seen = -1
    while len(events) != seen and time.monotonic() < deadline:
        seen = len(events)
        await asyncio.sleep(quiet)


def _events_table(events: list[ReceivedEvent]) -> None:
    table = Table("#", "event", "video", "attempt", title="Webhook events received (verified)")
    for number, event in enumerate(sorted(events, key=lambda e: e.occurred_at), 1):
        table.add_row(
            str(number), str(event.event_type), str(event.video_id)[:8], str(event.attempt_count)
        )
    console.print(table)


__all__ = ["byte_callback", "run", "transfer_progress"]

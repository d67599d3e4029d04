"""The steps of ``pixop demo``; each prints what it did."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from ..client import Pixop
from ..emulator import EmulatorServer, buckets
from ..ids import ProjectId, VideoId
from ..legacy import PixopLegacy
from ..models.locations import S3BucketWithAccessKeys
from ..models.processing_options import (
    Codec,
    EncodingConfiguration,
    Filters,
    FilterSettings,
    MediaContainer,
    Resolution,
    ResolutionTag,
    Scaler,
    VideoProcessingConfigurationOptions,
)
from ..models.videos import VideoInStatus
from ..polling import PollIntervals
from .bars import byte_callback, percent_progress, transfer_progress
from .common import console, model_table

BRISK = PollIntervals(minimum=0.1, maximum=0.5)
UPSCALE = VideoProcessingConfigurationOptions(
    container=MediaContainer.MP4,
    encoding_configuration=EncodingConfiguration(codec=Codec.H264),
    filters=Filters(scaler=Scaler.DVRES2),
    filter_settings=FilterSettings(resolution=Resolution(tag=ResolutionTag.X2)),
)


@attrs.define
class DemoContext:
    """What the steps share: the client, the emulator and the ids made along the way."""

    px: Pixop
    emu: EmulatorServer
    work: Path
    origin: str
    sample: Path
    project_id: ProjectId | None = None
    master_id: VideoId | None = None
    processed_id: VideoId | None = None
    #: What each step did, for ``pixop demo --json`` (plain JSON values only).
    summary: dict[str, Any] = attrs.field(factory=dict)


@contextlib.asynccontextmanager
async def serve_directory(directory: Path) -> AsyncIterator[str]:
    """A plain static file server (with Range support) standing in for a customer's origin."""
    app = web.Application()
    app.router.add_static("/", directory)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    try:
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()


async def account_step(ctx: DemoContext) -> None:
    account = await ctx.px.account.get()
    console.print(
        f"[bold]1. account[/]  {account.user.name} <{account.user.email}>, "
        f"default team '{account.default_team.name}'"
    )
    project = await ctx.px.projects.create("Demo Film Restoration")
    ctx.project_id = project.id
    projects = await ctx.px.projects.list(page_size=100).to_list()
    console.print(f"   project '{project.name}' created; {len(projects)} projects in all")
    ctx.summary["account"] = {
        "email": account.user.email,
        "team": account.default_team.name,
        "project_id": str(project.id),
        "projects": len(projects),
    }


async def import_step(ctx: DemoContext, crc32c: int) -> None:
    console.print(f"[bold]2. import[/]  {ctx.sample.name} over ranged HTTP, CRC32C {crc32c:#010x}")
    started = await ctx.px.imports.from_https(
        f"{ctx.origin}/{ctx.sample.name}",
        "Sunset (original)",
        project_id=ctx.project_id,
        crc32c=crc32c,
        full_ingestion=True,
        max_concurrent_connections=4,
        allow_loopback_http=True,
    )
    ctx.master_id = started.video_id
    with percent_progress(console) as bars:
        task = bars.add_task("copy + ingestion", total=100, status="")
        async for state in ctx.px.imports.watch_ingestion(started.video_id, intervals=BRISK):
            phase = f"copy {state.upload_status}, ingestion {state.ingestion_status or '-'}"
            bars.update(task, completed=import_percent(state), status=phase)
        bars.update(task, completed=100)
    final = await ctx.px.imports.wait_ingested(started.video_id, timeout=120, intervals=BRISK)
    console.print(f"   ingested video {final.video_id} ({final.ingestion_status})")
    ctx.summary["import"] = {
        "video_id": str(final.video_id),
        "ingestion_status": str(final.ingestion_status),
        "crc32c": f"{crc32c:08x}",
    }


def import_percent(state: VideoInStatus) -> float:
    """One figure for copy (first half) and ingestion (second half) together."""
    upload = state.upload.upload_state
    copied = (upload.progress_percentage or 0) if upload else 0
    ingested = 0
    if state.ingestion is not None:
        ingested = state.ingestion.ingestion_state.progress_percentage or 0
    return copied / 2 + ingested / 2


async def process_step(ctx: DemoContext) -> None:
    assert ctx.master_id is not None
    console.print("[bold]3. process[/]  2x upscale with DVRES2, H.264 in MP4")
    started = await ctx.px.processing.start(ctx.master_id, UPSCALE, video_name="Sunset (2x)")
    ctx.processed_id = started.video_id
    with percent_progress(console) as bars:
        task = bars.add_task("processing", total=100, status="")
        async for state in ctx.px.processing.watch(started.video_id, intervals=BRISK):
            bars.update(task, completed=state.progress_percentage or 0, status=str(state.status))
    await ctx.px.processing.wait(started.video_id, timeout=120, intervals=BRISK)
    derived = await ctx.px.videos.derived(ctx.master_id).to_list()
    console.print(
        f"   processed video {started.video_id}; master now has {len(derived)} derived videos"
    )
    ctx.summary["process"] = {"video_id": str(started.video_id), "derived_videos": len(derived)}


async def download_step(ctx: DemoContext) -> None:
    assert ctx.processed_id is not None
    console.print("[bold]4. download[/]  pre-signed URL, parallel ranges, CRC32C verified")
    target = ctx.work / "downloads"
    target.mkdir(exist_ok=True)
    with transfer_progress(console) as bars:
        task = bars.add_task("download", total=None)
        result = await ctx.px.downloads.download(
            ctx.processed_id, target, connections=8, progress=byte_callback(bars, task)
        )
    rate = result.size / max(result.elapsed, 1e-6) / 2**20
    console.print(
        f"   {result.path.name}: {result.size:,} bytes, CRC32C {result.crc32c:#010x} "
        f"verified, {rate:.0f} MiB/s"
    )
    ctx.summary["download"] = {
        "file": result.path.name,
        "size": result.size,
        "crc32c": f"{result.crc32c:08x}",
        "verified": True,
    }


async def export_step(ctx: DemoContext) -> None:
    assert ctx.processed_id is not None
    console.print("[bold]5. export[/]  to a stand-in S3 bucket")
    bucket = S3BucketWithAccessKeys("demo-deliveries", "AKIADEMO0000000", "demo-secret-key")
    buckets.create_bucket(
        ctx.emu.state,
        bucket.bucket,
        access_key=bucket.access_key,
        secret_access_key=bucket.secret_access_key,
    )
    prefix = "deliveries/sunset"
    await ctx.px.exports.to_s3(ctx.processed_id, bucket, prefix)
    final = await ctx.px.exports.wait(ctx.processed_id, timeout=120, intervals=BRISK)
    stored = await asyncio.to_thread(_listing, buckets.bucket_path(ctx.emu.state, bucket.bucket))
    console.print(
        f"   export {final.status}: "
        + ", ".join(f"s3://{bucket.bucket}/{key} ({size:,} bytes)" for key, size in stored)
    )
    ctx.summary["export"] = {
        "status": str(final.status),
        "objects": [{"url": f"s3://{bucket.bucket}/{key}", "size": size} for key, size in stored],
    }


def _listing(root: Path) -> list[tuple[str, int]]:
    """Object keys and sizes under a stand-in bucket directory."""
    return [
        (p.relative_to(root).as_posix(), p.stat().st_size)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


async def legacy_step(emu: EmulatorServer, sample: Path, work: Path) -> dict[str, Any]:
    """The legacy API's round trip; returns its summary."""
    console.print("[bold]6. legacy API[/]  JWT login, multipart upload, ranged download")
    async with PixopLegacy(email=emu.email, password=emu.password, base_url=emu.root_url) as legacy:
        project = await legacy.videos.create_project("Legacy demo")
        created = await legacy.videos.create(name="legacy-upload", project_id=project.id)
        size = (await asyncio.to_thread(sample.stat)).st_size
        with transfer_progress(console) as bars:
            task = bars.add_task("upload", total=size)
            receipt = await legacy.media.upload(
                created.video_id, sample, progress=byte_callback(bars, task)
            )
        await legacy.videos.wait_ingested(created.video_id, timeout=120)
        back = await legacy.media.download_original(created.video_id, work / "legacy-copy.mp4")
        legacy_refreshes = legacy.jwt_auth.refresh_count
    console.print(
        model_table(
            "Legacy round trip",
            ("step", "result"),
            [
                ("login", f"JWT issued, {legacy_refreshes} token fetch(es)"),
                ("upload", f"{size:,} bytes streamed as multipart to video {receipt.video_id}"),
                ("ingestion", "done"),
                ("download", f"{back.size:,} bytes, CRC32C {back.crc32c:#010x}"),
            ],
        )
    )
    return {
        "video_id": str(receipt.video_id),
        "token_fetches": legacy_refreshes,
        "uploaded": size,
        "downloaded": back.size,
        "crc32c": f"{back.crc32c:08x}",
    }

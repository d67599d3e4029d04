"""``pixop legacy upload|process|download``: the legacy REST API v1 via :class:`PixopLegacy`.

Credentials come from ``--email``/``--password`` or ``PIXOP_EMAIL``/``PIXOP_PASSWORD``;
the services' root from ``--legacy-base-url`` or ``PIXOP_LEGACY_BASE_URL``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ..config import DEFAULT_LEGACY_BASE_URL
from ..errors import OperationFailedError, PollTimeoutError
from ..legacy import PixopLegacy
from ..legacy.process_request import ProcessVideoRequest
from .bars import byte_callback
from .common import CliError, console, show
from .download_cmd import render_result, result_json
from .option_keys import snake_keys
from .support import (
    add_poll_options,
    add_progress_option,
    byte_bars,
    describe_error,
    load_json_argument,
    percent_bars,
    percent_updater,
    poll_intervals,
    status_label,
)

#: ``ProcessVideoRequest`` options offered as flags (``--codec prores`` ...).
PROCESS_OPTIONS = {
    "container": str,
    "codec": str,
    "apple_prores_profile": str,
    "dnxhd_hr_profile": str,
    "yuv": str,
    "bits": int,
    "mbps": float,
    "deinterlacer": str,
    "denoiser": str,
    "stabilizer": str,
    "scaler": str,
    "tag": str,
    "width": int,
    "height": int,
    "clarity_boost": str,
    "start_position_ms": int,
    "end_position_ms": int,
}


def _legacy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", default=None, help="account email (env PIXOP_EMAIL)")
    parser.add_argument("--password", default=None, help="account password (env PIXOP_PASSWORD)")
    parser.add_argument(
        "--legacy-base-url", default=None, help="services root (env PIXOP_LEGACY_BASE_URL)"
    )
    parser.add_argument("--team-id", default=None, help="team to act for")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_progress_option(parser)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("legacy", help="the legacy REST API v1 (email/password)")
    actions = parser.add_subparsers(dest="action", required=True)
    upload = actions.add_parser("upload", help="create a video and upload a file as its media")
    upload.add_argument("file")
    upload.add_argument("--name", default=None, help="video name (defaults to the file name)")
    upload.add_argument("--project-id", default=None)
    upload.add_argument("--light", action="store_true", help="light ingestion (metadata only)")
    upload.add_argument("--wait", action="store_true", help="wait for ingestion to finish")
    process = actions.add_parser("process", help="process a video into a new one")
    process.add_argument("video_id")
    process.add_argument(
        "--options",
        default=None,
        metavar="FILE_OR_JSON",
        help="options as JSON (snake_case or camelCase keys)",
    )
    for name, kind in PROCESS_OPTIONS.items():
        process.add_argument(f"--{name.replace('_', '-')}", dest=f"opt_{name}", type=kind)
    process.add_argument("--wait", action="store_true", help="follow processing to the end")
    download = actions.add_parser("download", help="download original or processed media")
    download.add_argument("video_id")
    download.add_argument("dest")
    download.add_argument("--processed", action="store_true", help="the processed media")
    download.add_argument("--no-resume", dest="resume", action="store_false")
    for sub in (upload, process, download):
        _legacy_options(sub)
    for sub in (upload, process):
        add_poll_options(sub)
    parser.set_defaults(func=run)


@asynccontextmanager
async def open_legacy(args: argparse.Namespace) -> AsyncIterator[PixopLegacy]:
    email = args.email or os.environ.get("PIXOP_EMAIL")
    password = args.password or os.environ.get("PIXOP_PASSWORD")
    if not email or not password:
        raise CliError("legacy commands need --email/--password or PIXOP_EMAIL/PIXOP_PASSWORD")
    base_url = (
        args.legacy_base_url or os.environ.get("PIXOP_LEGACY_BASE_URL") or DEFAULT_LEGACY_BASE_URL
    )
    async with PixopLegacy(
        email=email, password=password, team_id=args.team_id, base_url=base_url
    ) as legacy:
        yield legacy


def process_request(args: argparse.Namespace) -> ProcessVideoRequest:
    """Options from ``--options`` JSON overlaid with the individual flags."""
    options: dict[str, Any] = {}
    if args.options is not None:
        data = load_json_argument(args.options, "--options")
        if not isinstance(data, dict):
            raise CliError("--options must be a JSON object")
        data = snake_keys(data)
        unknown = sorted(set(data) - set(PROCESS_OPTIONS))
        if unknown:
            raise CliError(f"--options: unknown option(s) {unknown}")
        options.update(data)
    for name in PROCESS_OPTIONS:
        value = getattr(args, f"opt_{name}")
        if value is not None:
            options[name] = value
    return ProcessVideoRequest(**options)


def _source(text: str) -> tuple[Path, int]:
    """The file to upload and its size."""
    path = Path(text)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    return path, path.stat().st_size


async def _upload(legacy: PixopLegacy, args: argparse.Namespace) -> int:
    path, size = _source(args.file)
    created = await legacy.videos.create(name=args.name or path.name, project_id=args.project_id)
    send = legacy.media.upload_light if args.light else legacy.media.upload
    with byte_bars(args) as progress:
        task = progress.add_task(f"upload {path.name}", total=size)
        receipt = await send(created.video_id, path, progress=byte_callback(progress, task))
    ingestion = None
    if args.wait:
        final = await _follow(
            args,
            "ingestion",
            legacy.videos.watch_ingestion(
                created.video_id, timeout=args.timeout, intervals=poll_intervals(args)
            ),
            lambda: legacy.videos.wait_ingested(created.video_id, intervals=poll_intervals(args)),
        )
        ingestion = status_label(final.status)
    data = {"videoId": str(receipt.video_id), "projectId": receipt.project_id, "file": path.name}
    if ingestion is not None:
        data["ingestion"] = ingestion
    show(
        args,
        data,
        lambda: console.print(
            f"uploaded {path.name} as video [bold]{receipt.video_id}[/]"
            + (f", ingestion {ingestion}" if ingestion else "")
        ),
    )
    return 0


def _percent(state: Any) -> float | None:
    """Processing reports a percentage; ingestion only its status."""
    processing = getattr(state, "processing_state", None)
    return processing.processing_progress_percent if processing is not None else None


async def _follow(args: argparse.Namespace, label: str, states: Any, check: Any) -> Any:
    """Percent bar over a legacy watcher, then the matching wait (raises on failure)."""
    with percent_bars(args) as progress:
        update = percent_updater(progress, progress.add_task(label, total=100, status="-"))
        async for state in states:
            update(_percent(state), status_label(state.status))
        try:
            final = await check()
        except (OperationFailedError, PollTimeoutError) as exc:
            raise CliError(describe_error(exc)) from None
        update(100, "done")
    return final


async def _process(legacy: PixopLegacy, args: argparse.Namespace) -> int:
    request = process_request(args)
    result = await legacy.videos.process(args.video_id, request)
    new_id = result.processed_video_id
    status = "started"
    if args.wait:
        intervals = poll_intervals(args)
        final = await _follow(
            args,
            "processing",
            legacy.videos.watch_processing(new_id, timeout=args.timeout, intervals=intervals),
            lambda: legacy.videos.wait_processed(new_id, intervals=intervals),
        )
        status = status_label(final.status)
    show(
        args,
        {"sourceVideoId": str(result.source_video_id), "processedVideoId": str(new_id),
         "status": status},
        lambda: console.print(f"processing into video [bold]{new_id}[/]: {status}"),
    )  # fmt: skip
    return 0


async def _download(legacy: PixopLegacy, args: argparse.Namespace) -> int:
    fetch = legacy.media.download_processed if args.processed else legacy.media.download_original
    with byte_bars(args) as progress:
        task = progress.add_task("download", total=None)
        result = await fetch(
            args.video_id, args.dest, progress=byte_callback(progress, task), resume=args.resume
        )
    # the legacy service publishes no checksum, so the CRC32C is computed, not verified
    show(args, result_json(result, False), lambda: render_result(result, False))
    return 0


async def run(args: argparse.Namespace) -> int:
    async with open_legacy(args) as legacy:
        if args.action == "upload":
            return await _upload(legacy, args)
        if args.action == "process":
            return await _process(legacy, args)
        return await _download(legacy, args)

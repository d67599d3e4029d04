"""``pixop watch``: live percent bars for a video's import, ingestion, processing or export.

The bars are fed by the SDK's ``watch()`` pollers; when a watcher ends, the matching
``wait()`` is asked once more so a failure is reported with the SDK's error (and code).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
from rich.progress import Progress

from ..client import Pixop
from ..errors import OperationFailedError, PollTimeoutError
from ..models.videos import Video
from ..polling import PollIntervals
from .common import CliError, add_common_options, console, open_client, show
from .support import (
    add_poll_options,
    add_progress_option,
    describe_error,
    percent_bars,
    percent_updater,
    poll_intervals,
    status_label,
)

PHASES = ("import", "ingestion", "processing", "export")


def _import_bar(state: Any) -> tuple[float | None, str]:
    upload = state.upload.upload_state
    return (upload.progress_percentage if upload else None), status_label(state.upload_status)


def _ingestion_bar(state: Any) -> tuple[float | None, str]:
    if state.ingestion is None:
        return None, "waiting"
    ingestion = state.ingestion.ingestion_state
    return ingestion.progress_percentage, status_label(ingestion.ingestion_status)


def _processing_bar(state: Any) -> tuple[float | None, str]:
    return state.progress_percentage, status_label(state.status)


def _export_bar(state: Any) -> tuple[float | None, str]:
    output = state.output.state
    return (output.progress_percentage if output else None), status_label(state.status)


Bar = Callable[[Any], tuple[float | None, str]]


@attrs.frozen
class Phase:
    """How to follow one phase: its watcher, its final check and the bars it feeds."""

    watch: Callable[[Pixop, str, PollIntervals, float | None], AsyncIterator[Any]]
    check: Callable[[Pixop, str, PollIntervals, float | None], Awaitable[Any]]
    bars: tuple[tuple[str, Bar], ...]


PHASE_SPECS: dict[str, Phase] = {
    "import": Phase(
        watch=lambda px, vid, iv, t: px.imports.watch(vid, timeout=t, intervals=iv),
        check=lambda px, vid, iv, t: px.imports.wait(vid, timeout=t, intervals=iv),
        bars=(("import", _import_bar),),
    ),
    "ingestion": Phase(
        watch=lambda px, vid, iv, t: px.imports.watch_ingestion(vid, timeout=t, intervals=iv),
        check=lambda px, vid, iv, t: px.imports.wait_ingested(vid, timeout=t, intervals=iv),
        bars=(("import", _import_bar), ("ingestion", _ingestion_bar)),
    ),
    "processing": Phase(
        watch=lambda px, vid, iv, t: px.processing.watch(vid, timeout=t, intervals=iv),
        # waits on through the result's ingestion, so the video is ready afterwards
        check=lambda px, vid, iv, t: px.processing.wait(vid, timeout=t, intervals=iv),
        bars=(("processing", _processing_bar),),
    ),
    "export": Phase(
        watch=lambda px, vid, iv, t: px.exports.watch(vid, timeout=t, intervals=iv),
        check=lambda px, vid, iv, t: px.exports.wait(vid, timeout=t, intervals=iv),
        bars=(("export", _export_bar),),
    ),
}


async def follow(
    px: Pixop,
    video_id: str,
    phase: str,
    progress: Progress,
    *,
    intervals: PollIntervals,
    timeout: float | None,
) -> Any:
    """Follow ``phase`` of ``video_id`` with bars in ``progress``; returns the final state
    or raises the SDK's ``OperationFailedError`` / ``PollTimeoutError``."""
    spec = PHASE_SPECS[phase]
    updaters = [
        (percent_updater(progress, progress.add_task(label, total=100, status="-")), bar)
        for label, bar in spec.bars
    ]
    async for state in spec.watch(px, video_id, intervals, timeout):
        for update, bar in updaters:
            update(*bar(state))
    final = await spec.check(px, video_id, intervals, timeout)
    for update, _bar in updaters:
        update(100, "done")
    return final


def default_phase(video: Video) -> str:
    """Processing for a processed video, else import and ingestion."""
    if video.processing is not None and not video.flags.is_master:
        return "processing"
    return "ingestion"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("watch", help="follow a video's progress with live bars")
    parser.add_argument("video_id")
    parser.add_argument(
        "--phase", choices=PHASES, default=None, help="what to follow (picked from the video)"
    )
    add_poll_options(parser)
    add_progress_option(parser)
    add_common_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    intervals = poll_intervals(args)
    async with open_client(args) as px:
        phase = args.phase or default_phase(await px.videos.get(args.video_id))
        with percent_bars(args) as progress:
            try:
                final = await follow(
                    px, args.video_id, phase, progress, intervals=intervals, timeout=args.timeout
                )
            except (OperationFailedError, PollTimeoutError) as exc:
                raise CliError(f"{phase} of {args.video_id}: {describe_error(exc)}") from None
        show(
            args,
            {"videoId": args.video_id, "phase": phase, "state": final},
            lambda: console.print(f"{phase} of {args.video_id} finished"),
        )
        return 0

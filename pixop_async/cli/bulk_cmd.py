"""``pixop bulk MANIFEST``: many imports or downloads with one overall bar, a bar per item
and a summary table; exit status 1 when any item failed.

A rerun resumes. Downloads skip files already complete (size and CRC32C match the API's)
and continue partial ones from the engine's journals. Imports record the video created for
each item in a state file beside the manifest: on a rerun a finished import is not
repeated, one still under way is followed again, and a failed one is restarted.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import os
from pathlib import Path
from typing import Any

import attrs
from rich.progress import BarColumn, Progress, TaskID, TimeRemainingColumn

from ..client import Pixop
from ..errors import NotFoundError, PixopError
from ..models.videos import OperationStatus, VideoInStatus
from . import bulk_queue_cmd
from .bars import field_column, label_column
from .common import (
    add_common_options,
    console,
    emit_json,
    err_console,
    model_table,
    open_client,
)
from .failures import printable
from .manifest import DownloadItem, ImportItem, ImportState, Item, load_manifest
from .queue_options import add_queue_options, queue_url
from .support import (
    add_poll_options,
    add_progress_option,
    bars_enabled,
    describe_error,
    hex_crc,
    human_size,
    is_loopback_api,
    poll_intervals,
    positive_int,
)

#: Errors reported per item (anything else aborts the run).
RECOVERABLE = (PixopError, OSError, ValueError)


class Outcome(enum.Enum):
    DONE = "done"
    RESUMED = "resumed"
    SKIPPED = "skipped"
    FAILED = "failed"


@attrs.frozen
class ItemResult:
    item: Item
    outcome: Outcome
    video_id: str | None = None
    path: str | None = None
    size: int | None = None
    crc32c: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "item": self.item.label,
            "outcome": self.outcome.value,
            "videoId": self.video_id,
            "path": self.path,
            "size": self.size,
            "crc32c": hex_crc(self.crc32c),
            "error": self.error,
        }
        return {k: v for k, v in data.items() if v is not None}


def _bars(args: argparse.Namespace) -> Progress:
    progress = Progress(
        label_column(),
        BarColumn(),
        field_column("detail"),
        TimeRemainingColumn(),
        console=err_console,
    )
    progress.disable = not bars_enabled(args)
    return progress


class Run:
    """One bulk run: the client, the bars and the knobs shared by every item."""

    def __init__(self, px: Pixop, args: argparse.Namespace, progress: Progress) -> None:
        self.px = px
        self.args = args
        self.progress = progress
        self.intervals = poll_intervals(args)

    def item_bar(self, item: Item) -> TaskID:
        return self.progress.add_task(item.label[:40], total=100, detail="waiting")

    # -- imports ------------------------------------------------------------------------

    async def run_import(self, item: ImportItem, state: ImportState) -> ItemResult:
        task = self.item_bar(item)
        try:
            vid, outcome = await self._start_or_resume(item, state)
            final = await self._follow_import(vid, task)
        except RECOVERABLE as exc:
            self.progress.update(task, detail="failed")
            return ItemResult(
                item, Outcome.FAILED, video_id=state.get(item), error=describe_error(exc)
            )
        self.progress.update(task, completed=100, detail=outcome.value)
        size = final.upload.file.size if final.upload.file else None
        return ItemResult(item, outcome, video_id=vid, size=size, crc32c=item.crc32c)

    async def _start_or_resume(self, item: ImportItem, state: ImportState) -> tuple[str, Outcome]:
        """The item's video: the one recorded by an earlier run (restarted if its import
        failed), or a new import recorded at once."""
        vid = state.get(item)
        if vid is not None:
            try:
                current = await self.px.imports.status(vid)
            except NotFoundError:  # deleted since: import it again
                state.forget(item)
            else:
                if current.upload_status == OperationStatus.DONE:
                    return vid, Outcome.SKIPPED
                if current.upload_status == OperationStatus.FAILED:
                    await self.px.imports.restart(vid)
                return vid, Outcome.RESUMED
        started = await self.px.imports.from_https(
            item.url,
            item.name,
            project_id=item.project_id,
            crc32c=item.crc32c,
            allow_loopback_http=is_loopback_api(self.px),
        )
        vid = str(started.video_id)
        state.record(item, vid)
        return vid, Outcome.DONE

    async def _follow_import(self, vid: str, task: TaskID) -> VideoInStatus:
        async for status in self.px.imports.watch(
            vid, timeout=self.args.timeout, intervals=self.intervals
        ):
            upload = status.upload.upload_state
            percent = upload.progress_percentage if upload else None
            self.progress.update(task, completed=percent or 0, detail=f"{percent or 0}%")
        return await self.px.imports.wait(vid, intervals=self.intervals)  # raises on failure

    # -- downloads ----------------------------------------------------------------------

    async def run_download(self, item: DownloadItem) -> ItemResult:
        task = self.item_bar(item)
        record = await self.px.exports.download_url(item.video_id)
        # A directory (trailing separator) unless the row names a file: there the API's name
        # is the resource's to choose, so two videos suggesting one name get one file each
        # ("clip (1).mp4") instead of the second replacing the first.
        dest = item.dest or os.path.join(self.args.dest_dir, "")
        # the same check as download_many's skip-existing: size and CRC32C match the API's
        found = await self.px.downloads.existing_copy(record, dest)
        if found is not None:
            self.progress.update(task, completed=100, detail="already here")
            return ItemResult(
                item,
                Outcome.SKIPPED,
                video_id=item.video_id,
                path=str(found),
                size=record.file_size,
                crc32c=record.crc32c_checksum,
            )

        def moved(done: int, total: int | None) -> None:
            size = total or record.file_size
            self.progress.update(
                task,
                completed=100 * done / size if size else 100,
                detail=f"{human_size(done)}/{human_size(size)}",
            )

        result = await self.px.downloads.download(
            item.video_id, dest, progress=moved, resume=not self.args.no_resume
        )
        # what the engine did: downloaded, continued an interrupted attempt, or found the
        # file already there (hashed, and matching the API's CRC32C)
        outcome = {"resumed": Outcome.RESUMED, "skipped": Outcome.SKIPPED}.get(
            result.outcome, Outcome.DONE
        )
        return ItemResult(
            item,
            outcome,
            video_id=item.video_id,
            path=str(result.path),
            size=result.size,
            crc32c=result.crc32c,
        )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bulk", help="run a CSV/JSON manifest of imports or downloads (reruns resume)"
    )
    parser.add_argument(
        "manifest", help="CSV (with header) or JSON list of items; 'status' with --queue"
    )
    add_queue_options(parser, required=False)  # distributed: see bulk_queue_cmd
    parser.add_argument(
        "--parallel", type=positive_int, default=4, help="items at a time (default 4)"
    )
    parser.add_argument("--dest-dir", default=".", help="where downloads without dest go")
    parser.add_argument("--no-resume", action="store_true", help="restart partial downloads")
    add_poll_options(parser)
    add_progress_option(parser)
    add_common_options(parser)
    parser.set_defaults(func=run)


def _failed(item: Item, exc: BaseException) -> ItemResult:
    return ItemResult(item, Outcome.FAILED, error=describe_error(exc))


def _summary(results: list[ItemResult]) -> None:
    rows = [
        (
            r.item.label,
            r.outcome.value,
            r.video_id,
            r.path,
            human_size(r.size) if r.size is not None else None,
            hex_crc(r.crc32c),
            printable(r.error) if r.error else None,  # the server's text, shown inert
        )
        for r in results
    ]
    columns = ("item", "outcome", "video", "path", "size", "crc32c", "error")
    console.print(model_table("Bulk summary", columns, rows))
    console.print(", ".join(f"{n} {o}" for o, n in _counts(results).items()))


def _counts(results: list[ItemResult]) -> dict[str, int]:
    """Items per outcome: done, resumed, skipped, failed."""
    return {o.value: sum(r.outcome is o for r in results) for o in Outcome}


async def run(args: argparse.Namespace) -> int:
    if queue_url(args):
        return await bulk_queue_cmd.run(args)
    manifest = Path(args.manifest)
    items = load_manifest(manifest)
    imports = isinstance(items[0], ImportItem)
    state = ImportState.beside(manifest) if imports else None
    slots = asyncio.Semaphore(args.parallel)
    async with open_client(args) as px:
        with _bars(args) as progress:
            overall = progress.add_task("overall", total=len(items), detail=f"0/{len(items)} items")
            worker = Run(px, args, progress)
            finished = 0

            async def one(item: Item) -> ItemResult:
                nonlocal finished
                async with slots:
                    try:
                        if isinstance(item, ImportItem):
                            assert state is not None
                            result = await worker.run_import(item, state)
                        else:
                            result = await worker.run_download(item)
                    except RECOVERABLE as exc:
                        result = _failed(item, exc)
                finished += 1
                progress.update(overall, completed=finished, detail=f"{finished}/{len(items)}")
                return result

            results = list(await asyncio.gather(*(one(item) for item in items)))
    failed = sum(r.outcome is Outcome.FAILED for r in results)
    if args.json:
        emit_json(
            {
                "kind": "imports" if imports else "downloads",
                "items": [r.to_json() for r in results],
                "counts": _counts(results),
                "failed": failed,
            }
        )  # the failures are in it, item by item
        if failed:
            err_console.print(f"[red]error:[/] {failed} of {len(results)} items failed")
    else:
        _summary(results)
    return 1 if failed else 0

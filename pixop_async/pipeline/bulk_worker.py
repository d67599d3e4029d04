"""The handler ``pixop worker`` runs for each distributed bulk item.

Idempotent by construction: an import's video id is written to the item's hash as soon
as the API returns it, and a takeover continues from there (follows it, restarts it if it
failed); when a worker died between asking for the import and writing the id, the item
is marked ``creating`` and the takeover finds the video by its marker description rather
than importing again. Downloads resume from the transfer engine's journal.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from ..cli.manifest import DownloadItem, ImportItem
from ..cli.support import is_loopback_api
from ..client import Pixop
from ..errors import NotFoundError
from ..models.enums import SortBy, SortDirection
from ..models.videos import OperationStatus
from ..polling import PollIntervals
from .bulk_state import BulkQueue, check_key, item_from_spec, marker
from .worker import StreamMessage

log = logging.getLogger("pixop_async.pipeline.bulk")

#: How far back (seconds before the ``creating`` mark) a takeover looks for the import.
CLOCK_SLACK = 300.0
#: Videos a takeover always looks through (newest first), whatever the clocks say.
FIRST_PAGE = 100


class BulkHandler:
    """Runs one bulk item per stream message (``__call__``); ``on_dead`` marks it failed."""

    def __init__(
        self,
        px: Pixop,
        queue: BulkQueue,
        consumer: str,
        *,
        intervals: PollIntervals | None = None,
        timeout: float | None = None,
        dest_dir: str | None = None,
    ) -> None:
        self.px, self.queue, self.consumer = px, queue, consumer
        self.intervals = intervals
        self.timeout = timeout
        self.dest_dir = dest_dir

    async def __call__(self, message: StreamMessage) -> None:
        key = check_key(message.fields.get("item"))
        data = await self.queue.load(key)
        if not data or data.get("state") == "done":
            return  # deleted, or finished by an earlier delivery: nothing to do
        item = item_from_spec(data.get("spec", ""))
        await self.queue.start(key, self.consumer)
        try:
            if isinstance(item, ImportItem):
                outcome = await self._import(key, item, data)
            else:
                outcome = await self._download(item)
        except Exception as exc:
            await self.queue.update(key, error=f"{type(exc).__name__}: {exc}"[:500])
            raise
        await self.queue.update(key, state="done", outcome=outcome, worker=self.consumer, error="")
        log.info("bulk item %s done (%s)", key, outcome)

    async def on_dead(self, message: StreamMessage, reason: str) -> None:
        key = message.fields.get("item")
        if isinstance(key, str):
            check_key(key)
            current = await self.queue.load(key)
            if current.get("state") == "done":
                # done already (its acknowledgement was lost, then it was delivered once
                # too often): the work stands, it is not a failure
                return
            error = current.get("error") or reason
            await self.queue.update(key, state="failed", error=error)

    # -- imports -----------------------------------------------------------------------------

    async def _import(self, key: str, item: ImportItem, data: dict[str, str]) -> str:
        vid = data.get("video_id") or None
        outcome = "imported"
        if vid is None and data.get("creating"):
            vid = await self._find_created(key, item, data["creating"])
            if vid is not None:
                await self.queue.update(key, video_id=vid)
        if vid is not None:
            outcome = "resumed"
            try:
                status = await self.px.imports.status(vid)
            except NotFoundError:  # deleted meanwhile: import again
                vid = None
            else:
                if status.upload_status == OperationStatus.FAILED:
                    await self.px.imports.restart(vid)
        if vid is None:
            outcome = "imported"
            await self.queue.update(key, creating=f"{self._now():.3f}")
            started = await self.px.imports.from_https(
                item.url,
                item.name,
                project_id=item.project_id,
                crc32c=item.crc32c,
                description=marker(self.queue.job, key),
                allow_loopback_http=is_loopback_api(self.px),
            )
            vid = str(started.video_id)
            await self.queue.update(key, video_id=vid)  # before anything else can fail
        await self.px.imports.wait(vid, intervals=self.intervals, timeout=self.timeout)
        return outcome

    async def _find_created(self, key: str, item: ImportItem, creating: str) -> str | None:
        """The video an interrupted attempt created, found by its marker description."""
        try:
            since = float(creating) - CLOCK_SLACK
        except ValueError:
            since = 0.0
        wanted = marker(self.queue.job, key)
        videos = self.px.videos.list(
            project_id=item.project_id,
            sort_by=SortBy.CREATED_AT,
            sort_direction=SortDirection.DESC,
            page_size=FIRST_PAGE,
        )
        scanned = 0
        async for video in videos:
            scanned += 1
            # The mark is the dead worker's clock, the dates Pixop's: past the first page
            # (always read, so a skewed clock still finds a recent import) stop at the mark.
            if scanned > FIRST_PAGE and video.created_at.timestamp() < since:
                break
            if video.description == wanted and video.flags.is_master:
                log.info(
                    "bulk item %s: found the import %s of an interrupted attempt", key, video.id
                )
                return str(video.id)
        return None

    @staticmethod
    def _now() -> float:
        return dt.datetime.now(dt.timezone.utc).timestamp()

    # -- downloads ---------------------------------------------------------------------------

    async def _download(self, item: DownloadItem) -> str:
        base = self.dest_dir or await self.queue.dest_dir() or "."
        dest = item.dest or os.path.join(base, "")  # a trailing separator: a directory
        result = await self.px.downloads.download(item.video_id, dest, resume=True)
        return f"downloaded {result.size} bytes"

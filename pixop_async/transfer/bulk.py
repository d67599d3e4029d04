"""Many transfers under one scheduler, with a per-item report instead of a first-error abort."""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from .._session import HttpSession
from ..auth import Auth
from ..errors import PathBusyError, PixopError
from ._fdlimit import fitted
from ._inputs import download_headers, upload_headers
from ._target import is_directory
from .config import TransferConfig
from .download import DownloadResult, download
from .scheduler import Scheduler
from .upload import UploadResult, upload_file

log = logging.getLogger("pixop_async.transfer")

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")
#: ``callback(finished_items, total_items)``, sync or async.
BulkProgress = Callable[[int, int], Awaitable[None] | None]


def _url_repr(url: str) -> str:
    """A URL as reprs show it: without its query (pre-signed URLs carry signatures there)."""
    return repr(str(url).split("?", 1)[0] + ("?..." if "?" in str(url) else ""))


def _headers_repr(headers: Mapping[str, str] | None) -> str:
    """Header names only: values may be credentials."""
    return "None" if headers is None else repr(sorted(headers))


@attrs.frozen
class DownloadItem:
    """One file of :func:`download_many`. ``dest`` is a file path or a directory.

    Reprs (and so bulk reports) show neither the URL's query nor header values.
    """

    url: str = attrs.field(repr=_url_repr)
    dest: str | os.PathLike[str]
    expected_crc32c: int | None = None
    identity: str | None = None
    headers: Mapping[str, str] | None = attrs.field(default=None, repr=_headers_repr)


@attrs.frozen
class UploadItem:
    """One file of :func:`upload_many` (reprs hide the URL's query and header values)."""

    url: str = attrs.field(repr=_url_repr)
    path: str | os.PathLike[str]
    method: str = "POST"
    field_name: str = "file"
    file_name: str | None = None
    fields: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = attrs.field(default=None, repr=_headers_repr)


class ItemStatus(enum.Enum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@attrs.frozen
class ItemReport(Generic[ItemT, ResultT]):
    """What happened to one item: its result when done, its error when failed."""

    item: ItemT
    status: ItemStatus
    result: ResultT | None = None
    error: BaseException | None = None


@attrs.frozen
class BulkReport(Generic[ItemT, ResultT]):
    """Per-item outcome of a bulk operation, in the order the items were given."""

    items: tuple[ItemReport[ItemT, ResultT], ...]
    elapsed: float

    def _with(self, status: ItemStatus) -> list[ItemReport[ItemT, ResultT]]:
        return [r for r in self.items if r.status is status]

    @property
    def done(self) -> list[ItemReport[ItemT, ResultT]]:
        return self._with(ItemStatus.DONE)

    @property
    def failed(self) -> list[ItemReport[ItemT, ResultT]]:
        return self._with(ItemStatus.FAILED)

    @property
    def skipped(self) -> list[ItemReport[ItemT, ResultT]]:
        return self._with(ItemStatus.SKIPPED)

    @property
    def resumed(self) -> list[ItemReport[ItemT, ResultT]]:
        """Done items that continued an interrupted attempt (``outcome == "resumed"``)."""
        return [r for r in self.done if getattr(r.result, "outcome", None) == "resumed"]

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.failed

    def summary(self) -> str:
        resumed = len(self.resumed)
        done = f"{len(self.done)} done" + (f" ({resumed} resumed)" if resumed else "")
        return f"{done}, {len(self.skipped)} skipped, {len(self.failed)} failed"


async def run_bulk(
    items: list[ItemT],
    run: Callable[[ItemT], Awaitable[ItemReport[ItemT, ResultT]]],
    scheduler: Scheduler,
    progress: BulkProgress | None,
    files: int | None = None,
    *,
    slots: bool = True,
) -> BulkReport[ItemT, ResultT]:
    """Run ``run`` over ``items``, ``files`` (default: the scheduler's limit) at a time;
    with ``slots`` each item also holds one of the scheduler's file slots, shared by the
    client's bulk operations."""
    started = time.monotonic()
    reports: list[ItemReport[ItemT, ResultT] | None] = [None] * len(items)
    next_index = 0
    finished = 0

    async def worker() -> None:
        nonlocal next_index, finished
        while next_index < len(items):
            index = next_index
            next_index += 1
            if slots:
                async with scheduler.file_slot():
                    reports[index] = await run(items[index])
            else:
                reports[index] = await run(items[index])
            finished += 1
            if progress is not None:
                outcome = progress(finished, len(items))
                if inspect.isawaitable(outcome):
                    await outcome

    count = min(files or scheduler.config.file_limit, len(items))
    tasks = [asyncio.ensure_future(worker()) for _ in range(count)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    done = tuple(r for r in reports if r is not None)
    return BulkReport(done, time.monotonic() - started)


def _as_download_item(item: DownloadItem | tuple[str, Any]) -> DownloadItem:
    if isinstance(item, DownloadItem):
        return item
    url, dest = item
    return DownloadItem(url, dest)


def _file_key(dest: str | os.PathLike[str]) -> str | None:
    """What names one file destination whatever the spelling (``a/./f``, a linked parent);
    None for a directory ``dest`` (names in it are chosen per item and never collide)."""
    if is_directory(dest):
        return None
    path = os.path.abspath(os.fspath(dest))
    return os.path.normcase(
        os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    )


async def download_many(
    http: HttpSession,
    items: Iterable[DownloadItem | tuple[str, Any]],
    *,
    connections: int | None = None,
    part_size: int | None = None,
    resume: bool = True,
    skip_existing: bool = True,
    auth: Auth | None = None,
    headers: Mapping[str, str] | None = None,
    progress: BulkProgress | None = None,
    scheduler: Scheduler | None = None,
    config: TransferConfig | None = None,
) -> BulkReport[DownloadItem, DownloadResult]:
    """Download many files under shared limits; failures are reported, not raised.

    ``items`` are :class:`DownloadItem` s or ``(url, dest)`` pairs. With ``skip_existing``
    a file already at its destination is skipped when it is the one wanted: a file an
    earlier run published costs one conditional request (``If-None-Match`` with the ETag
    it recorded; a 304 and its bytes hashed equal to the record and to the item's CRC32C),
    a file with the item's CRC32C costs none; anything else is downloaded again (see
    :func:`~pixop_async.transfer.download.download`). Skipped items are reported as
    ``SKIPPED`` with their result; items that continued an interrupted attempt are
    ``DONE`` with ``result.outcome == "resumed"`` (:attr:`BulkReport.resumed`).

    How many files are in flight follows the connection budget (``max_connections``;
    a small file holds one connection, a big one several) unless ``max_concurrent_files``
    is set, and never exceeds what ``RLIMIT_NOFILE`` leaves room for.
    ``progress(finished, total)`` counts items. Cancelling cancels every transfer.
    Items naming one file destination (however spelt) are not raced or skipped against each
    other: the first is downloaded, the later ones fail with :class:`PathBusyError`.
    """
    config = config or (scheduler.config if scheduler is not None else TransferConfig())
    scheduler = scheduler or Scheduler(config)
    wanted = [_as_download_item(i) for i in items]
    limits = fitted(
        scheduler.config, connections or config.connections, scheduler.config.download_files
    )
    shared_headers = download_headers("headers", headers) if headers is not None else {}

    async def run(item: DownloadItem) -> ItemReport[DownloadItem, DownloadResult]:
        try:
            # an item's bad header fails that item, before its request, not the run
            own = download_headers("item.headers", item.headers) if item.headers is not None else {}
            result = await download(
                http,
                item.url,
                item.dest,
                connections=limits.connections,
                part_size=part_size,
                expected_crc32c=item.expected_crc32c,
                resume=resume,
                headers={**shared_headers, **own},
                auth=auth,
                identity=item.identity,
                scheduler=scheduler,
                config=config,
                skip_unchanged=skip_existing,
            )
        except (PixopError, OSError, ValueError) as exc:
            log.warning("download of %s failed: %s", item.dest, exc)
            return ItemReport(item, ItemStatus.FAILED, error=exc)
        status = ItemStatus.SKIPPED if result.skipped else ItemStatus.DONE
        return ItemReport(item, status, result)

    keys = await asyncio.get_running_loop().run_in_executor(
        None, lambda: [_file_key(item.dest) for item in wanted]
    )
    first: dict[str, int] = {}
    repeated = {
        i for i, key in enumerate(keys) if key is not None and first.setdefault(key, i) != i
    }
    counted = progress
    if progress is not None and repeated:  # the refused repeats count as finished at once

        def counted(finished: int, _total: int) -> Awaitable[None] | None:
            assert progress is not None
            return progress(finished + len(repeated), len(wanted))

    report = await run_bulk(
        [item for i, item in enumerate(wanted) if i not in repeated],
        run,
        scheduler,
        counted,
        limits.files,
        slots=scheduler.config.max_concurrent_files is not None,
    )
    ran = iter(report.items)
    return BulkReport(
        tuple(
            ItemReport(
                item,
                ItemStatus.FAILED,
                error=PathBusyError(
                    f"an earlier item of this run has the same destination {item.dest}"
                ),
            )
            if i in repeated
            else next(ran)
            for i, item in enumerate(wanted)
        ),
        report.elapsed,
    )


async def upload_many(
    http: HttpSession,
    items: Iterable[UploadItem],
    *,
    auth: Auth | None = None,
    headers: Mapping[str, str] | None = None,
    progress: BulkProgress | None = None,
    scheduler: Scheduler | None = None,
    config: TransferConfig | None = None,
) -> BulkReport[UploadItem, UploadResult]:
    """Upload many files under shared limits; failures are reported, not raised."""
    config = config or (scheduler.config if scheduler is not None else TransferConfig())
    scheduler = scheduler or Scheduler(config)
    limits = fitted(scheduler.config, 1)
    shared_headers = upload_headers("headers", headers) if headers is not None else {}

    async def run(item: UploadItem) -> ItemReport[UploadItem, UploadResult]:
        try:
            # an item's bad header fails that item, before its request, not the run
            own = upload_headers("item.headers", item.headers) if item.headers is not None else {}
            result = await upload_file(
                http,
                item.url,
                item.path,
                method=item.method,
                field_name=item.field_name,
                file_name=item.file_name,
                fields=item.fields,
                headers={**shared_headers, **own},
                auth=auth,
                scheduler=scheduler,
                config=config,
            )
        except (PixopError, OSError, ValueError) as exc:
            log.warning("upload of %s failed: %s", item.path, exc)
            return ItemReport(item, ItemStatus.FAILED, error=exc)
        return ItemReport(item, ItemStatus.DONE, result)

    return await run_bulk(list(items), run, scheduler, progress, limits.files)

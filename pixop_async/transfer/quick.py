"""Transfers without a client: each call opens its own short-lived HTTP session.

``download_url`` moves one file; ``download_many`` / ``upload_many`` move many under one
scheduler (the engine-level versions in :mod:`.bulk` take a session you already have).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .. import validation as v
from .._session import HttpSession
from ..config import ClientConfig
from . import bulk
from ._inputs import http_url, path_like
from .bulk import BulkProgress, BulkReport, DownloadItem, UploadItem
from .config import TransferConfig
from .download import DownloadResult, download
from .options import BulkDownloadOptions, DownloadOptions, checked_download_options
from .scheduler import Scheduler
from .upload import UploadResult

if TYPE_CHECKING:
    from typing_extensions import Unpack


async def download_url(
    url: str,
    dest: str | os.PathLike[str],
    *,
    connections: int = 8,
    config: TransferConfig | None = None,
    **options: Unpack[DownloadOptions],
) -> DownloadResult:
    """Download any URL that supports ranges (see :func:`pixop_async.transfer.download`).

    ``options`` are those of :class:`~pixop_async.transfer.options.DownloadOptions`
    (``part_size``, ``expected_crc32c``, ``progress``, ``resume``, ``headers``,
    ``if_none_match``). Opens an HTTP session sized for ``connections`` and closes it
    afterwards.
    """
    http_url("url", url)
    path_like("dest", dest)
    v.integer("connections", connections, minimum=1)
    checked = checked_download_options(options)
    config = config or TransferConfig()
    wanted = config.connections_for(connections)
    async with _standalone(config, wanted) as (http, scheduler):
        return await download(
            http, url, dest, connections=wanted, scheduler=scheduler, config=config, **checked
        )


@asynccontextmanager
async def _standalone(
    config: TransferConfig, connections: int
) -> AsyncIterator[tuple[HttpSession, Scheduler]]:
    """A session whose connector allows what the scheduler may use, closed afterwards."""
    limit = max(connections, config.max_connections, 8)
    http = HttpSession(ClientConfig(connection_limit=limit, connection_limit_per_host=limit))
    try:
        yield http, Scheduler(config)
    finally:
        await http.close()


async def download_many(
    items: Iterable[DownloadItem | tuple[str, Any]],
    *,
    config: TransferConfig | None = None,
    **options: Unpack[BulkDownloadOptions],
) -> BulkReport[DownloadItem, DownloadResult]:
    """Download many URLs (``DownloadItem`` s or ``(url, dest)`` pairs) under one set of
    limits; each item ends done, failed (with its error) or skipped (already complete).

    ``options`` are those of :class:`~pixop_async.transfer.options.BulkDownloadOptions`
    (``connections``, ``part_size``, ``resume``, ``skip_existing``, ``headers``,
    ``progress``)."""
    config = config or TransferConfig()
    wanted = config.connections_for(options.get("connections"))
    async with _standalone(config, wanted) as (http, scheduler):
        return await bulk.download_many(http, items, scheduler=scheduler, config=config, **options)


async def upload_many(
    items: Iterable[UploadItem],
    *,
    headers: Mapping[str, str] | None = None,
    progress: BulkProgress | None = None,
    config: TransferConfig | None = None,
) -> BulkReport[UploadItem, UploadResult]:
    """Upload many files as multipart/form-data under one set of limits; failures are
    reported per item, not raised."""
    config = config or TransferConfig()
    async with _standalone(config, config.max_connections) as (http, scheduler):
        return await bulk.upload_many(
            http, items, headers=headers, progress=progress, scheduler=scheduler, config=config
        )

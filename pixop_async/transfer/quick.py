"""Transfers without a client: each call opens its own short-lived HTTP session.

``download_url`` moves one file; ``download_many`` / ``upload_many`` move many under one
scheduler (the engine-level versions in :mod:`.bulk` take a session you already have).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from .._session import HttpSession
from ..config import ClientConfig
from . import bulk
from ._inputs import download_args
from .bulk import BulkProgress, BulkReport, DownloadItem, UploadItem
from .config import TransferConfig
from .download import DownloadResult, download
from .progress import ProgressCallback
from .scheduler import Scheduler
from .upload import UploadResult


async def download_url(
    url: str,
    dest: str | os.PathLike[str],
    *,
    connections: int = 8,
    part_size: int | None = None,
    expected_crc32c: int | None = None,
    progress: ProgressCallback | None = None,
    resume: bool = True,
    headers: Mapping[str, str] | None = None,
    config: TransferConfig | None = None,
) -> DownloadResult:
    """Download any URL that supports ranges (see :func:`pixop_async.transfer.download`).

    Opens an HTTP session sized for ``connections`` and closes it afterwards.
    """
    download_args(url, dest, connections, part_size, expected_crc32c)
    config = config or TransferConfig()
    wanted = config.connections_for(connections)
    async with _standalone(config, wanted) as (http, scheduler):
        return await download(
            http,
            url,
            dest,
            connections=wanted,
            part_size=part_size,
            expected_crc32c=expected_crc32c,
            progress=progress,
            resume=resume,
            headers=headers,
            scheduler=scheduler,
            config=config,
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
    connections: int | None = None,
    part_size: int | None = None,
    resume: bool = True,
    skip_existing: bool = True,
    headers: Mapping[str, str] | None = None,
    progress: BulkProgress | None = None,
    config: TransferConfig | None = None,
) -> BulkReport[DownloadItem, DownloadResult]:
    """Download many URLs (``DownloadItem`` s or ``(url, dest)`` pairs) under one set of
    limits; each item ends done, failed (with its error) or skipped (already complete)."""
    config = config or TransferConfig()
    async with _standalone(config, config.connections_for(connections)) as (http, scheduler):
        return await bulk.download_many(
            http,
            items,
            connections=connections,
            part_size=part_size,
            resume=resume,
            skip_existing=skip_existing,
            headers=headers,
            progress=progress,
            scheduler=scheduler,
            config=config,
        )


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

"""``download_url``: one download without a client (its own short-lived HTTP session)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._session import HttpSession
from ..config import ClientConfig
from ._inputs import download_args
from .config import TransferConfig
from .download import DownloadResult, download
from .progress import ProgressCallback
from .scheduler import Scheduler


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
    http = HttpSession(
        ClientConfig(connection_limit=max(wanted, 8), connection_limit_per_host=max(wanted, 8))
    )
    try:
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
            scheduler=Scheduler(config),
            config=config,
        )
    finally:
        await http.close()

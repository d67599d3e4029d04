"""The transfer engine: parallel ranged downloads, streaming uploads, one scheduler, bulk.

Submodules keep one job each: :mod:`.plan` and :mod:`.ranges` are pure protocol logic,
:mod:`.checksum` is the only place that touches google-crc32c, :mod:`.journal` persists
resume state, :mod:`.scheduler` shares limits between transfers, :mod:`.download`,
:mod:`.upload` and :mod:`.bulk` are the public operations. What keeps the integrity
promise under hostile input: :mod:`._pin` (validators, encodings), :mod:`._resume`
(journals re-checked against the disk), :mod:`._localfs` and :mod:`._target` (shared
directories, names, claims), :mod:`._deadline` (stall rule, overall deadline) and
:mod:`._fdlimit` (bulk concurrency within ``RLIMIT_NOFILE``).
"""

from .bulk import (
    BulkReport,
    DownloadItem,
    ItemReport,
    ItemStatus,
    UploadItem,
    download_many,
    upload_many,
)
from .checksum import crc32c_file
from .config import TransferConfig
from .download import DownloadResult, download
from .quick import download_url
from .scheduler import Scheduler
from .upload import UploadResult, upload_file

__all__ = [
    "BulkReport",
    "DownloadItem",
    "DownloadResult",
    "ItemReport",
    "ItemStatus",
    "Scheduler",
    "TransferConfig",
    "UploadItem",
    "UploadResult",
    "crc32c_file",
    "download",
    "download_many",
    "download_url",
    "upload_file",
    "upload_many",
]

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

import sys
import types
from typing import TYPE_CHECKING, Any

from .._lazy import exports

if TYPE_CHECKING:
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

#: Public name -> the submodule defining it, loaded on first use (PEP 562): importing one
#: submodule (``pixop_async.transfer.segments``, say) loads this package but none of the
#: others, and ``from pixop_async.transfer import download`` loads only what it needs.
_LAZY = {
    "BulkReport": ".bulk",
    "DownloadItem": ".bulk",
    "ItemReport": ".bulk",
    "ItemStatus": ".bulk",
    "UploadItem": ".bulk",
    "download_many": ".bulk",
    "upload_many": ".bulk",
    "crc32c_file": ".checksum",
    "TransferConfig": ".config",
    "DownloadResult": ".download",
    "download": ".download",
    "download_url": ".quick",
    "Scheduler": ".scheduler",
    "UploadResult": ".upload",
    "upload_file": ".upload",
}
if not TYPE_CHECKING:  # hidden from type checkers: a misspelt name must stay an error
    __getattr__, __dir__ = exports(__name__, globals(), _LAZY)


class _Package(types.ModuleType):
    """This package, whose ``download`` stays the function once its submodule of the same
    name is loaded (the import system then sets the submodule on the package; with eager
    imports the function was bound after it, so it always won)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            isinstance(value, types.ModuleType)
            and _LAZY.get(name) == f".{name}"
            and value.__name__ == f"{__name__}.{name}"
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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

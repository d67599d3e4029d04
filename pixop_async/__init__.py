"""pixop_async: an asyncio SDK for the Pixop video-processing API.

Public entry points: :class:`Pixop` (current REST API), :class:`ClientConfig`,
:class:`RetryPolicy` and the :mod:`pixop_async.errors` exception tree.

Importing the package is cheap: every export below except ``errors`` and ``__version__`` is
loaded on first use (PEP 562), so a program pays for the client, the transfer engine or the
legacy API only when it touches them. Type checkers see them all through the
``TYPE_CHECKING`` imports.
"""

from typing import TYPE_CHECKING

from . import _logging, errors
from ._lazy import exports
from ._version import __version__

if TYPE_CHECKING:
    from .auth import ApiKeyAuth, BasicAuth
    from .client import Pixop
    from .config import (
        DEFAULT_BASE_URL,
        LEGACY_STAGING_BASE_URL,
        STAGING_BASE_URL,
        ClientConfig,
    )
    from .errors import InvalidRequestError, PixopError
    from .legacy import PixopLegacy
    from .options import RequestOptions, call_timeout
    from .pagination import AsyncPaginator
    from .polling import PollIntervals
    from .ratelimit import RateLimit
    from .responses import ResponseInfo, capture_responses
    from .retry import RetryPolicy
    from .transfer.bulk import DownloadItem, UploadItem
    from .transfer.checksum import crc32c_file
    from .transfer.config import TransferConfig
    from .transfer.download import DownloadResult
    from .transfer.quick import download_many, download_url, upload_many
    from .transfer.s3_upload import S3Connection, S3UploadResult, upload_to_s3
    from .transfer.upload import UploadResult

_LAZY = {
    "call_timeout": ".options",
    "RequestOptions": ".options",
    "ResponseInfo": ".responses",
    "capture_responses": ".responses",
    "ApiKeyAuth": ".auth",
    "BasicAuth": ".auth",
    "Pixop": ".client",
    "DEFAULT_BASE_URL": ".config",
    "LEGACY_STAGING_BASE_URL": ".config",
    "STAGING_BASE_URL": ".config",
    "ClientConfig": ".config",
    "InvalidRequestError": ".errors",
    "PixopError": ".errors",
    "PixopLegacy": ".legacy",
    "AsyncPaginator": ".pagination",
    "PollIntervals": ".polling",
    "RateLimit": ".ratelimit",
    "RetryPolicy": ".retry",
    "DownloadItem": ".transfer.bulk",
    "UploadItem": ".transfer.bulk",
    "download_many": ".transfer.quick",
    "upload_many": ".transfer.quick",
    "crc32c_file": ".transfer.checksum",
    "TransferConfig": ".transfer.config",
    "DownloadResult": ".transfer.download",
    "download_url": ".transfer.quick",
    "S3Connection": ".transfer.s3_upload",
    "S3UploadResult": ".transfer.s3_upload",
    "upload_to_s3": ".transfer.s3_upload",
    "UploadResult": ".transfer.upload",
}
if not TYPE_CHECKING:  # hidden from type checkers: a misspelt name must stay an error
    __getattr__, __dir__ = exports(__name__, globals(), _LAZY)

_logging.configure()

__all__ = [
    "DEFAULT_BASE_URL",
    "LEGACY_STAGING_BASE_URL",
    "STAGING_BASE_URL",
    "ApiKeyAuth",
    "AsyncPaginator",
    "BasicAuth",
    "ClientConfig",
    "DownloadItem",
    "DownloadResult",
    "InvalidRequestError",
    "Pixop",
    "PixopError",
    "PixopLegacy",
    "PollIntervals",
    "RateLimit",
    "RequestOptions",
    "ResponseInfo",
    "RetryPolicy",
    "S3Connection",
    "S3UploadResult",
    "TransferConfig",
    "UploadItem",
    "UploadResult",
    "__version__",
    "call_timeout",
    "capture_responses",
    "crc32c_file",
    "download_many",
    "download_url",
    "errors",
    "upload_many",
    "upload_to_s3",
]

# One static type per kind of id (ProjectId, VideoId, ...: see pixop_async.ids), cheap to import.
from . import ids  # noqa: E402
from .ids import *  # noqa: E402, F403

__all__ += ids.__all__

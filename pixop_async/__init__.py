"""pixop_async: an asyncio SDK for the Pixop video-processing API.

Public entry points: :class:`Pixop` (current REST API), :class:`ClientConfig`,
:class:`RetryPolicy` and the :mod:`pixop_async.errors` exception tree.
"""

from . import _logging, errors
from ._version import __version__
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
from .transfer import DownloadItem, DownloadResult, TransferConfig, UploadItem, UploadResult
from .transfer.checksum import crc32c_file
from .transfer.quick import download_many, download_url, upload_many
from .transfer.s3_upload import S3Connection, S3UploadResult, upload_to_s3

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

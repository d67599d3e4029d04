"""pixop_async: an asyncio SDK for the Pixop video-processing API.

Public entry points: :class:`Pixop` (current REST API), :class:`ClientConfig`,
:class:`RetryPolicy` and the :mod:`pixop_async.errors` exception tree.
"""

from . import errors
from ._version import __version__
from .auth import ApiKeyAuth, BasicAuth
from .client import Pixop
from .config import DEFAULT_BASE_URL, STAGING_BASE_URL, ClientConfig
from .errors import InvalidRequestError, PixopError
from .pagination import AsyncPaginator
from .ratelimit import RateLimit
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "STAGING_BASE_URL",
    "ApiKeyAuth",
    "AsyncPaginator",
    "BasicAuth",
    "ClientConfig",
    "InvalidRequestError",
    "Pixop",
    "PixopError",
    "RateLimit",
    "RetryPolicy",
    "__version__",
    "errors",
]

"""Client for Pixop's legacy REST API v1: the accounts, videos and media services.

``async with PixopLegacy(email=..., password=...) as legacy:`` gives ``legacy.accounts``,
``legacy.videos`` and ``legacy.media``; see :class:`PixopLegacy`.
"""

from .client import PixopLegacy
from .errors import (
    EternalJWTTokenError,
    ExpiredJWTTokenError,
    InconsistentJWTClaimsError,
    InvalidJWTTokenError,
    LegacyAuthError,
    LegacyAuthServiceError,
    NoJWTTokenError,
    PrematureJWTTokenError,
    UnsafeLinkError,
    UserBannedError,
)
from .jwt import JwtAuth
from .pagination import HalPaginator
from .process_request import (
    AppleProresProfile,
    ChromaYuv,
    ClarityBoost,
    Codec,
    Container,
    Deinterlacer,
    Denoiser,
    DnxhdHrProfile,
    ProcessVideoRequest,
    ResolutionTag,
    Scaler,
    Stabilizer,
)

__all__ = [
    "AppleProresProfile",
    "ChromaYuv",
    "ClarityBoost",
    "Codec",
    "Container",
    "Deinterlacer",
    "Denoiser",
    "DnxhdHrProfile",
    "EternalJWTTokenError",
    "ExpiredJWTTokenError",
    "HalPaginator",
    "InconsistentJWTClaimsError",
    "InvalidJWTTokenError",
    "JwtAuth",
    "LegacyAuthError",
    "LegacyAuthServiceError",
    "NoJWTTokenError",
    "PixopLegacy",
    "PrematureJWTTokenError",
    "ProcessVideoRequest",
    "ResolutionTag",
    "Scaler",
    "Stabilizer",
    "UnsafeLinkError",
    "UserBannedError",
]

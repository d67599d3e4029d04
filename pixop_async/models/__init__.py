"""Typed models of the Pixop API (frozen attrs classes) and their converter."""

from .account import Account, ApiKey, BillingType, Project, Team, User
from .common import ErrorBody, ErrorCode, Page, ValidationError
from .converter import converter, structure, unstructure
from .enums import OpenEnum, SortBy, SortDirection

__all__ = [
    "Account",
    "ApiKey",
    "BillingType",
    "ErrorBody",
    "ErrorCode",
    "OpenEnum",
    "Page",
    "Project",
    "SortBy",
    "SortDirection",
    "Team",
    "User",
    "ValidationError",
    "converter",
    "structure",
    "unstructure",
]

"""Typed models of the Pixop API (frozen attrs classes) and their converter.

The names below load on first use (PEP 562): a model module costs its class definitions
only when a program touches it (issue #12's lighter import).
"""

from typing import TYPE_CHECKING

from .._lazy import exports

# Loaded at once: the converter is what every model use needs, and ``converter`` is also the
# submodule's name (a lazy export would be shadowed by the submodule once it is imported).
from .converter import converter, structure, unstructure

if TYPE_CHECKING:
    from .account import Account, ApiKey, BillingType, Project, Team, User
    from .common import ErrorBody, ErrorCode, Page, ValidationError
    from .enums import OpenEnum, SortBy, SortDirection

_LAZY = {
    "Account": ".account",
    "ApiKey": ".account",
    "BillingType": ".account",
    "Project": ".account",
    "Team": ".account",
    "User": ".account",
    "ErrorBody": ".common",
    "ErrorCode": ".common",
    "Page": ".common",
    "ValidationError": ".common",
    "OpenEnum": ".enums",
    "SortBy": ".enums",
    "SortDirection": ".enums",
}
if not TYPE_CHECKING:  # hidden from type checkers: a misspelt name must stay an error
    __getattr__, __dir__ = exports(__name__, globals(), _LAZY)

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

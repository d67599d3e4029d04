"""The emulated legacy services (``/accounts``, ``/videos``, ``/media`` at the server root).

:func:`setup` registers their routes and their :class:`~.common.LegacyStore`; tests reach the
store with :func:`legacy_store` (``legacy_store(server.app)``) to ban users, inject auth
outages, make runs fail or count issued tokens, and sign unusual tokens with
:func:`~.tokens.issue_token`.
"""

from __future__ import annotations

from aiohttp import web

from . import accounts, media, videos
from .common import LEGACY_KEY, LegacyStore, legacy_store
from .tokens import issue_token

__all__ = ["LegacyStore", "issue_token", "legacy_store", "setup"]


def setup(app: web.Application) -> None:
    """Add the legacy services' store and routes to ``app``."""
    app[LEGACY_KEY] = LegacyStore()
    for module in (accounts, videos, media):
        module.setup(app)

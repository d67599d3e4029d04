"""Shared bits of the examples: is the client talking to a local emulator?"""

from __future__ import annotations

from urllib.parse import urlsplit

from pixop_async import Pixop


def is_local(px: Pixop) -> bool:
    """True for an API on this machine (``pixop emulator``): only then are plain
    ``http://127.0.0.1`` import sources and webhook URLs allowed (real Pixop refuses them)."""
    return urlsplit(px.base_url).hostname in ("127.0.0.1", "localhost", "::1")

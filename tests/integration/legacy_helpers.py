"""Shared setup of the legacy-client tests."""

from __future__ import annotations

from typing import Any

from pixop_async import PixopLegacy
from pixop_async.emulator import EmulatorServer


def legacy_client(emu: EmulatorServer, **options: Any) -> PixopLegacy:
    """A legacy client for the emulator's seeded user (use it with ``async with``);
    ``options`` go to :class:`PixopLegacy` (``team_id``, ``config``, ``transfer``...)."""
    return PixopLegacy(email=emu.email, password=emu.password, base_url=emu.root_url, **options)

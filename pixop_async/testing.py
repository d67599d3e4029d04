"""A pytest plugin for users' own tests: a fresh Pixop emulator per test.

Enable it with ``pytest_plugins = ["pixop_async.testing"]`` in a ``conftest.py`` (needs
pytest-asyncio). Fixtures:

* ``pixop_emulator_config`` - override to change the emulator's knobs;
* ``pixop_emulator`` - a running :class:`~pixop_async.emulator.EmulatorServer` on a free
  loopback port;
* ``pixop_client`` - a :class:`~pixop_async.Pixop` client logged in to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .client import Pixop
from .emulator import EmulatorConfig, EmulatorServer


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    """Emulator settings for ``pixop_emulator``; override in your conftest to change them."""
    return EmulatorConfig()


@pytest_asyncio.fixture
async def pixop_emulator(pixop_emulator_config: EmulatorConfig) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(pixop_emulator_config) as server:
        yield server


@pytest_asyncio.fixture
async def pixop_client(pixop_emulator: EmulatorServer) -> AsyncIterator[Pixop]:
    async with Pixop(
        pixop_emulator.api_key,
        base_url=pixop_emulator.base_url,
        email=pixop_emulator.email,
        password=pixop_emulator.password,
    ) as client:
        yield client

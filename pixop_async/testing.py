"""A pytest plugin for users' own tests: a fresh Pixop emulator per test.

Installed with ``pip install 'pixop-async[testing]'`` (pytest and pytest-asyncio), it is
registered through the ``pytest11`` entry point, so nothing needs enabling; a ``conftest.py``
that still says ``pytest_plugins = ["pixop_async.testing"]`` is harmless. Fixtures:

* ``pixop_emulator_config`` - override to change the emulator's knobs;
* ``pixop_emulator`` - a running :class:`~pixop_async.emulator.EmulatorServer` on a free
  loopback port;
* ``pixop_client`` - a :class:`~pixop_async.Pixop` client logged in to it.

pytest-asyncio's default *strict* mode needs ``@pytest.mark.asyncio`` on async tests; the
plugin adds that mark itself to every ``async def`` test that asks for ``pixop_emulator`` or
``pixop_client``, so the fixtures work in strict and auto mode alike.

Loading the plugin is cheap: the emulator is imported only when a fixture runs, and when
pytest-asyncio is missing the fixtures fail with a one-line hint instead of breaking the
whole pytest run.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from .client import Pixop

if TYPE_CHECKING:
    from .emulator import EmulatorConfig, EmulatorServer

try:
    import pytest_asyncio

    HAVE_PYTEST_ASYNCIO = True
except ImportError:  # pragma: no cover - exercised in a project without the extra
    HAVE_PYTEST_ASYNCIO = False

#: Fixtures of this plugin that need a running event loop.
ASYNC_FIXTURES = frozenset({"pixop_emulator", "pixop_client"})

MISSING_EXTRA = "pixop_async.testing needs pytest-asyncio: pip install 'pixop-async[testing]'"


def needs_asyncio_mark(obj: object) -> bool:
    """True for an ``async def`` test that asks for one of this plugin's async fixtures."""
    if not inspect.iscoroutinefunction(obj):
        return False
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return False
    return not ASYNC_FIXTURES.isdisjoint(params)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Mark async tests that use the emulator fixtures, before pytest-asyncio collects them."""
    if not HAVE_PYTEST_ASYNCIO or not needs_asyncio_mark(obj):
        return
    if not any(m.name == "asyncio" for m in getattr(obj, "pytestmark", [])):
        pytest.mark.asyncio(obj)


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    """Emulator settings for ``pixop_emulator``; override in your conftest to change them."""
    from .emulator import EmulatorConfig

    return EmulatorConfig()


if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture(loop_scope="function")
    async def pixop_emulator(
        pixop_emulator_config: EmulatorConfig,
    ) -> AsyncIterator[EmulatorServer]:
        """A running emulator on a free 127.0.0.1 port, stopped (data removed) after the test."""
        from .emulator import EmulatorServer

        async with EmulatorServer(pixop_emulator_config) as server:
            yield server

    @pytest_asyncio.fixture(loop_scope="function")
    async def pixop_client(pixop_emulator: EmulatorServer) -> AsyncIterator[Pixop]:
        """A :class:`Pixop` client with the emulator's API key, e-mail and password."""
        async with Pixop(
            pixop_emulator.api_key,
            base_url=pixop_emulator.base_url,
            email=pixop_emulator.email,
            password=pixop_emulator.password,
        ) as client:
            yield client

else:  # pragma: no cover - exercised in a project without the extra

    @pytest.fixture
    def pixop_emulator() -> Any:
        """Fails: the ``testing`` extra (pytest-asyncio) is not installed."""
        pytest.fail(MISSING_EXTRA, pytrace=False)

    @pytest.fixture
    def pixop_client() -> Any:
        """Fails: the ``testing`` extra (pytest-asyncio) is not installed."""
        pytest.fail(MISSING_EXTRA, pytrace=False)

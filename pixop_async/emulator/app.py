"""Assembles the emulator's aiohttp application from its route modules."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from aiohttp import web

from . import media
from .faults import FaultPlan
from .middleware import (
    FAULTS_KEY,
    RATE_KEY,
    STATE_KEY,
    RateLimiter,
    auth_middleware,
    errors_middleware,
    faults_middleware,
    rate_limit_middleware,
)
from .routes import account, api_keys, projects
from .state import EmulatorState

#: Route modules, each with ``setup(app)``. Later API areas append themselves here.
ROUTE_MODULES: list[ModuleType] = [account, projects, api_keys, media]
#: Callables run with the app after routes are added (background workers, extra state).
EXTENSIONS: list[Callable[[web.Application], None]] = []


def build_app(state: EmulatorState | None = None) -> web.Application:
    """A ready-to-run emulator application around ``state`` (a fresh one if omitted)."""
    app = web.Application(
        middlewares=[errors_middleware, faults_middleware, auth_middleware, rate_limit_middleware],
        client_max_size=1024**3,
    )
    state = state or EmulatorState()
    app[STATE_KEY] = state
    app[FAULTS_KEY] = FaultPlan()
    app[RATE_KEY] = RateLimiter(state)
    for module in ROUTE_MODULES:
        module.setup(app)
    for extend in EXTENSIONS:
        extend(app)
    return app

"""Assembles the emulator's aiohttp application from its route modules."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from aiohttp import web

from . import legacy, lifecycle, media, webhook_delivery
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
from .routes import account, api_keys, mimir, projects
from .routes import billing as billing_routes
from .routes import configurations as configuration_routes
from .routes import exports as export_routes
from .routes import imports as import_routes
from .routes import locations as location_routes
from .routes import processing as processing_routes
from .routes import videos as video_routes
from .routes import webhooks as webhook_routes
from .state import EmulatorState

#: Route modules, each with ``setup(app)``. Later API areas append themselves here.
ROUTE_MODULES: list[ModuleType] = [account, projects, api_keys, media, mimir, legacy]
ROUTE_MODULES += [import_routes, video_routes, export_routes, location_routes, billing_routes]
#: Callables run with the app after routes are added (background workers, extra state).
EXTENSIONS: list[Callable[[web.Application], None]] = []
EXTENSIONS.append(lifecycle.extension)
ROUTE_MODULES += [processing_routes, configuration_routes, webhook_routes]
EXTENSIONS.append(webhook_delivery.extension)


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

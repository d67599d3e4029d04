"""``EmulatorServer``: run the emulator on a local port inside the current event loop."""

from __future__ import annotations

from aiohttp import web

from .._lifecycle import AsyncClosing
from .app import build_app
from .config import EmulatorConfig
from .faults import FaultPlan
from .middleware import FAULTS_KEY
from .state import EmulatorState


class EmulatorServer(AsyncClosing):
    """A local Pixop for tests and demos.

    ``async with EmulatorServer() as emu:`` listens on 127.0.0.1 and a free port;
    ``emu.base_url`` is the current API's base URL, ``emu.root_url`` the server root (the
    legacy services live under it), and ``emu.api_key`` / ``emu.email`` / ``emu.password``
    the seeded credentials.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self.port = port
        self.state = EmulatorState(self.config)
        self.app = build_app(self.state)
        self._runner: web.AppRunner | None = None

    @property
    def faults(self) -> FaultPlan:
        return self.app[FAULTS_KEY]

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api"

    @property
    def api_key(self) -> str:
        return self.state.seed_api_key

    @property
    def email(self) -> str:
        return self.config.seed_email

    @property
    def password(self) -> str:
        return self.config.seed_password

    def __repr__(self) -> str:
        return f"EmulatorServer(root_url={self.root_url!r})"

    async def start(self) -> EmulatorServer:
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except BaseException:  # a port in use: nothing of this server may stay behind
            await self.stop()
            raise
        sockets = getattr(site._server, "sockets", None)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.state.close()

    async def close(self) -> None:
        """The same as :meth:`stop` (``async with`` calls it on the way out)."""
        await self.stop()

    async def __aenter__(self) -> EmulatorServer:
        return await self.start()

"""Helpers for the processing, configuration, webhook and poller tests: ingested source
videos made directly in the emulator's state (no import round trip needed)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.lifecycle import create_ingested_video
from pixop_async.emulator.records import ASSUMED_BYTES_PER_SECOND

#: A source "lasting" 4 seconds in the emulator (duration is derived from the size).
SOURCE_SECONDS = 4


def make_source(
    server: EmulatorServer,
    directory: Path,
    *,
    name: str = "source",
    seconds: int = SOURCE_SECONDS,
    team_index: int = 0,
) -> dict[str, Any]:
    """An ingested master video owned by the seed user in one of its teams."""
    state = server.state
    path = directory / f"{name}.mp4"
    path.write_bytes(os.urandom(seconds * ASSUMED_BYTES_PER_SECOND))
    team_id = state.team_members[state.seed_user_id][team_index]
    projects = [p for p in state.projects.values() if p["teamId"] == team_id]
    project = projects[0] if projects else state.add_project(team_id, "Default Project")
    return create_ingested_video(
        state,
        team_id=team_id,
        project_id=project["id"],
        user_id=state.seed_user_id,
        name=name,
        media_path=path,
    )


@attrs.define
class Delivery:
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A local webhook endpoint on 127.0.0.1 that records deliveries.

    ``script`` holds the (status, headers) answers for the first requests; later ones get
    200. ``arrived`` is set whenever a delivery comes in.
    """

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.deliveries.append(
            Delivery(dict(request.headers), await request.read(), time.monotonic())
        )
        self.arrived.set()
        status, headers = self.script.pop(0) if self.script else (200, {})
        return web.Response(status=status, headers=headers, text=f"answer {status}")

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Wait until at least ``count`` deliveries arrived."""

        async def enough() -> None:
            while len(self.deliveries) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.deliveries

"""Helpers for the video, import and export tests: a ranged HTTP source on 127.0.0.1 and
fast poll intervals."""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.lifecycle import create_ingested_video
from pixop_async.polling import PollIntervals

FAST = PollIntervals(minimum=0.02, maximum=0.1, growth=1.5)
_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def fast_config(**overrides: Any) -> EmulatorConfig:
    """An emulator that runs its state machines 50x faster and accepts local HTTP sources."""
    return EmulatorConfig(speed=50, allow_http_sources=True, **overrides)


@attrs.define
class Source:
    """A file served over HTTP with Range support, with knobs to misbehave."""

    data: bytes
    url: str = ""
    ranges: list[tuple[int, int]] = attrs.Factory(list)
    in_flight: int = 0
    max_in_flight: int = 0
    #: answer 200 with the whole body, ignoring Range
    no_ranges: bool = False
    #: size to claim in Content-Range instead of the real one
    claimed_size: int | None = None
    #: answer 500 to ranges starting at these offsets
    broken_offsets: set[int] = attrs.Factory(set)
    #: hold every ranged response until set
    gate: asyncio.Event = attrs.Factory(asyncio.Event)
    delay: float = 0.0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Range", "")
        match = _RANGE.match(header)
        if self.no_ranges or match is None:
            return web.Response(body=self.data, content_type="video/mp4")
        first, last = int(match.group(1)), int(match.group(2))
        total = self.claimed_size or len(self.data)
        if (first, last) != (0, 0):
            self.ranges.append((first, last))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await self.gate.wait()
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight -= 1
            if first in self.broken_offsets:
                return web.Response(status=500, text="broken")
        last = min(last, len(self.data) - 1)
        return web.Response(
            status=206,
            body=self.data[first : last + 1],
            headers={
                "Content-Range": f"bytes {first}-{last}/{total}",
                "ETag": '"source-v1"',
                "Content-Type": "video/mp4",
            },
        )


@asynccontextmanager
async def serve(data: bytes, path: str = "/media/source.mp4") -> AsyncIterator[Source]:
    source = Source(data)
    source.gate.set()
    app = web.Application()
    app.router.add_get(path, source.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    source.url = f"http://127.0.0.1:{port}{path}"
    try:
        yield source
    finally:
        source.gate.set()
        await runner.cleanup()


def ingested_video(
    emu: EmulatorServer,
    data: bytes,
    *,
    name: str = "clip.mp4",
    master_video_id: str | None = None,
    full_ingestion: bool = True,
    project_id: str | None = None,
) -> dict[str, Any]:
    """A finished video in the emulator, made directly (no import)."""
    state = emu.state
    team = state.default_team(state.seed_user_id)
    assert team is not None
    project = project_id or next(
        p["id"] for p in state.projects.values() if p["teamId"] == team["id"]
    )
    path = Path(tempfile.mkdtemp(dir=state.data_dir)) / name
    path.write_bytes(data)
    return create_ingested_video(
        state,
        team_id=team["id"],
        project_id=project,
        user_id=state.seed_user_id,
        name=name,
        media_path=path,
        master_video_id=master_video_id,
        full_ingestion=full_ingestion,
    )


class Events:
    """Records the webhook events the emulator emits."""

    def __init__(self, emu: EmulatorServer) -> None:
        self.seen: list[tuple[str, str]] = []
        emu.state.event_listeners.append(lambda kind, vid: self.seen.append((kind, vid)))

    def of(self, video_id: Any) -> list[str]:
        return [kind for kind, vid in self.seen if vid == str(video_id)]

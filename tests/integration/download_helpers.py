"""Shared helpers of the transfer integration tests (no tests here).

Media is served by the emulator's pre-signed URLs; ``MediaControls`` injects the faults.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest_asyncio

from pixop_async import RetryPolicy
from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.media import MediaControls, media_controls, presign_url
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.config import TransferConfig

KiB = 1024
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, max_total_delay=5.0)


def config(**overrides: object) -> TransferConfig:
    """Small buffers and quick retries so the tests exercise many pieces and attempts fast."""
    settings: dict[str, object] = {
        "retry": FAST_RETRY,
        "buffer_size": 64 * KiB,
        "progress_interval": 0.0,
    }
    settings.update(overrides)
    return TransferConfig(**settings)  # type: ignore[arg-type]


@attrs.frozen
class Served:
    url: str
    path: Path
    data: bytes

    @property
    def crc(self) -> int:
        return crc32c(self.data)


def serve(
    emu: EmulatorServer,
    data: bytes,
    name: str = "clip.mp4",
    *,
    expires_in: float = 3600,
) -> Served:
    """Store ``data`` in the emulator and hand out a pre-signed URL for it."""
    path = emu.state.data_dir / f"media-{os.urandom(4).hex()}.bin"
    path.write_bytes(data)
    url, _ = presign_url(emu.state, emu.root_url, path, expires_in=expires_in, file_name=name)
    return Served(url, path, data)


def controls(emu: EmulatorServer) -> MediaControls:
    return media_controls(emu.app)


def leftovers(directory: Path, keep: set[str] | None = None) -> list[str]:
    """Files in ``directory`` other than ``keep`` (temp files, journals, partials)."""
    return sorted(p.name for p in directory.iterdir() if p.name not in (keep or set()))


@pytest_asyncio.fixture
async def http() -> AsyncIterator[HttpSession]:
    session = HttpSession()
    yield session
    await session.close()

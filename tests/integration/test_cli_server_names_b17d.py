"""Breaker b17d: the human lines of ``pixop import`` and ``pixop download`` show the
server's names as text. A stored file name with ``[/x]`` crashed ``import`` with a
MarkupError after the import had succeeded; escape sequences reached the terminal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pixop_async.emulator import EmulatorConfig, EmulatorServer

from .download_helpers import serve
from .test_cli_json_breaker import _env, pixop

EVIL = "evil [/x] [bold]loud \x1b[2J.mp4"


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=60, allow_http_sources=True)


async def test_import_shows_the_stored_file_name_as_text(pixop_emulator: EmulatorServer) -> None:
    source = serve(pixop_emulator, os.urandom(4096), name="clip.mp4")
    env = _env(PIXOP_API_KEY=pixop_emulator.api_key, PIXOP_BASE_URL=pixop_emulator.base_url)
    code, out, err = await pixop(
        "import", "https", source.url, "--name", "n", "--file-name", EVIL, "--no-progress",
        env=env,
    )  # fmt: skip
    shown = (out + err).decode("utf-8")
    assert code == 0, shown
    assert "Traceback" not in shown and "MarkupError" not in shown
    assert "evil [/x] [bold]loud \\x1b[2J.mp4" in shown
    assert "\x1b" not in shown


async def test_download_shows_its_saved_path_as_text(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """A destination whose path reads as a closing tag (``x[/]y``) crashed the summary
    line after the file was saved."""
    source = serve(pixop_emulator, os.urandom(4096), name="clip.mp4")
    (tmp_path / "x[").mkdir()
    dest = f"{tmp_path}/x[/]y.bin"
    code, out, err = await pixop("download", "--url", source.url, dest, "--no-progress", env=_env())
    shown = (out + err).decode("utf-8")
    assert code == 0, shown
    assert "Traceback" not in shown
    assert "x[/]y.bin" in shown.replace("\n", "")
    assert (tmp_path / "x[" / "]y.bin").read_bytes() == source.data

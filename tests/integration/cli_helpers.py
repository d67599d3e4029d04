"""Run the ``pixop`` CLI in a subprocess while the emulator serves in the test's loop."""

from __future__ import annotations

import asyncio
import os
import sys

import attrs

from pixop_async.emulator import EmulatorServer


@attrs.frozen
class CliRun:
    code: int
    out: str
    err: str


async def run_cli(
    emu: EmulatorServer | None, *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> CliRun:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIXOP_")}
    environment["COLUMNS"] = "200"
    if emu is not None:
        environment.update(
            PIXOP_API_KEY=emu.api_key,
            PIXOP_BASE_URL=emu.base_url,
            PIXOP_EMAIL=emu.email,
            PIXOP_PASSWORD=emu.password,
        )
    environment.update(env or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pixop_async",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return CliRun(process.returncode, out.decode(), err.decode())

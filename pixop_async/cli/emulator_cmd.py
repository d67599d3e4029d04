"""``pixop emulator``: run the local Pixop emulator until interrupted.

Ctrl+C and SIGTERM both stop it cleanly: the server closes and its temporary data directory
(every stored video) is removed. With ``--json`` it prints one JSON line with its URLs and
seeded credentials on stdout, for scripts that start it in the background.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import signal
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from .common import CliError, console
from .support import positive_float

if TYPE_CHECKING:
    from ..emulator import EmulatorServer

#: Default port of ``pixop emulator``; ``pixop webhooks listen`` uses another one.
DEFAULT_PORT = 8080


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("emulator", help="run the local Pixop emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"0 picks a free port ({DEFAULT_PORT})"
    )
    parser.add_argument("--rate-limit", type=int, default=600, help="requests a minute per key")
    parser.add_argument("--speed", type=positive_float, default=1.0, help="simulation speed factor")
    parser.add_argument(
        "--allow-http-sources",
        action="store_true",
        help="accept http://127.0.0.1 import sources and webhook targets",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON line with URLs and credentials"
    )
    parser.set_defaults(func=run)


def emulator_json(emu: EmulatorServer) -> dict[str, str]:
    """What a script needs to talk to a running emulator (camelCase, like the API)."""
    return {
        "rootUrl": emu.root_url,
        "baseUrl": emu.base_url,
        "apiKey": emu.api_key,
        "email": emu.email,
        "password": emu.password,
        "dataDir": str(emu.state.data_dir),
    }


@contextlib.asynccontextmanager
async def _started(server: EmulatorServer) -> AsyncIterator[EmulatorServer]:
    """``server`` running; a port in use is a one-line error that says how to pick another."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            emu = await stack.enter_async_context(server)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise CliError(
                f"port {server.port} on {server.host} is in use (another emulator?): "
                "pick another with --port N, or --port 0 for a free one"
            ) from None
        yield emu


async def run(args: argparse.Namespace) -> int:
    # Imported here: the other commands never load the emulator.
    from ..emulator import EmulatorConfig, EmulatorServer

    config = EmulatorConfig(
        rate_limit_per_minute=args.rate_limit,
        speed=args.speed,
        allow_http_sources=args.allow_http_sources,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with _started(EmulatorServer(config, host=args.host, port=args.port)) as emu:
            if args.json:
                sys.stdout.write(json.dumps(emulator_json(emu)) + "\n")
                sys.stdout.flush()
            else:
                console.print(f"Pixop emulator listening on [bold]{emu.root_url}[/]")
                console.print(f"  current API base URL: {emu.base_url}")
                console.print(f"  API key: {emu.api_key}")
                console.print(f"  email/password: {emu.email} / {emu.password}")
                console.print("Press Ctrl+C to stop.")
            await stop.wait()
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)
    return 0

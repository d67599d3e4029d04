"""``pixop emulator``: run the local Pixop emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio

from ..emulator import EmulatorConfig, EmulatorServer
from .common import console


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("emulator", help="run the local Pixop emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rate-limit", type=int, default=600, help="requests a minute per key")
    parser.add_argument("--speed", type=float, default=1.0, help="simulation speed factor")
    parser.add_argument(
        "--allow-http-sources",
        action="store_true",
        help="accept http://127.0.0.1 import sources and webhook targets",
    )
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    config = EmulatorConfig(
        rate_limit_per_minute=args.rate_limit,
        speed=args.speed,
        allow_http_sources=args.allow_http_sources,
    )
    async with EmulatorServer(config, host=args.host, port=args.port) as emu:
        console.print(f"Pixop emulator listening on [bold]{emu.root_url}[/]")
        console.print(f"  current API base URL: {emu.base_url}")
        console.print(f"  API key: {emu.api_key}")
        console.print(f"  email/password: {emu.email} / {emu.password}")
        console.print("Press Ctrl+C to stop.")
        await asyncio.Event().wait()
    return 0

"""``pixop demo``: the parser entry. The demo itself (``demo.py`` and its steps) starts the
emulator, so it is imported only when the command runs: other commands never load it."""

from __future__ import annotations

import argparse

from .support import positive_float, positive_int


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the whole job against the built-in emulator")
    parser.add_argument(
        "--size-mib", type=positive_int, default=48, help="size of the sample video"
    )
    parser.add_argument("--speed", type=positive_float, default=25.0, help="emulator speed factor")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print only a JSON summary of the run (ids, sizes, checksums) on stdout",
    )
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    from . import demo

    return await demo.run(args)

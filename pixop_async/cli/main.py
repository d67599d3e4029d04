"""Entry point of the ``pixop`` command: builds the parser from command modules and runs one."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from types import ModuleType

from rich.markup import escape

from .._version import __version__
from ..errors import APIConnectionError, PixopError, transport_reason
from . import (
    bulk_cmd,
    demo_cmd,
    download_cmd,
    emulator_cmd,
    import_cmd,
    legacy_cmd,
    process_cmd,
    projects_cmd,
    videos_cmd,
    watch_cmd,
    webhooks_cmd,
    worker_cmd,
)
from .common import CliError, err_console

#: Command modules, each with ``register(subparsers)`` setting ``func`` to an async handler.
COMMAND_MODULES: list[ModuleType] = [
    demo_cmd,
    emulator_cmd,
    projects_cmd,
    videos_cmd,
    import_cmd,
    process_cmd,
    watch_cmd,
    download_cmd,
    bulk_cmd,
    webhooks_cmd,
    legacy_cmd,
    worker_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixop", description="Drive the Pixop API.")
    parser.add_argument("--version", action="version", version=f"pixop-async {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def error_line(exc: BaseException) -> str:
    """One line for an expected failure: type, message and, for transport errors, the reason."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, APIConnectionError):
        reason = transport_reason(exc)
        if reason and reason.lower() not in text.lower():
            text += f" ({reason.lower()})"
    return text


def interrupted_message(args: argparse.Namespace) -> str:
    """What Ctrl+C prints: how to pick the work up again, where the command can."""
    command = getattr(args, "command", None)
    if command == "download" or (command == "legacy" and getattr(args, "action", "") == "download"):
        return "interrupted: run the same command again to resume the download"
    if command == "bulk":
        return (
            "interrupted: run the same command again; finished items are skipped, the rest resume"
        )
    if command in ("import", "process", "watch"):
        return "interrupted: the job goes on at Pixop; follow it with `pixop watch VIDEO_ID`"
    if command == "emulator":
        return "emulator stopped; its data directory was removed"
    return "interrupted"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; expected errors print one line and exit non-zero."""
    args = build_parser().parse_args(argv)
    try:
        code = asyncio.run(args.func(args))
    except KeyboardInterrupt:
        err_console.print(interrupted_message(args))
        code = 130
    except CliError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}")
        code = exc.code
    except (PixopError, OSError, ValueError) as exc:
        # Expected failures (API errors, bad input, disk problems) are one line, no traceback.
        err_console.print(f"[red]error:[/] {escape(error_line(exc))}")
        code = 1
    sys.exit(code)

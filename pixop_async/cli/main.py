"""Entry point of the ``pixop`` command: builds the parser from command modules and runs one."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from rich.markup import escape

from .._version import __version__
from ..errors import PixopError
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
from .failures import (
    drop_stdout,
    emit_error,
    error_line,
    error_record,
    mask,
    printable,
    secrets_of,
    stopped_normally,
    wants_json,
)

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
    parser = _Parser(prog="pixop", description="Drive the Pixop API.")
    parser.add_argument("--version", action="version", version=f"pixop-async {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


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


class UsageError(Exception):
    """The command line could not be parsed (argparse's own refusal, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose refusals are raised, so ``main`` reports them like any
    other failure (``--json`` included); sub-parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: error: {message}")


def _fail(
    args: argparse.Namespace | None,
    argv: Sequence[str],
    exc: BaseException,
    line: str,
    *,
    message: str | None = None,
    flagged: bool = True,
) -> None:
    """Report a failure: ``line`` on stderr (after a red ``error:`` when ``flagged``), and
    with ``--json`` the error object on stdout; the command's secrets masked in both."""
    secrets = secrets_of(args, argv)
    text = escape(printable(mask(line, secrets)))
    err_console.print(f"[red]error:[/] {text}" if flagged else text)
    if wants_json(args, argv):
        emit_error(error_record(exc, message), secrets)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; expected errors print one line on stderr (and, with ``--json``, one
    JSON object on stdout) and exit non-zero."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(arguments)
    except UsageError as exc:
        _fail(None, arguments, exc, str(exc), flagged=False)
        sys.exit(2)
    try:
        code = asyncio.run(args.func(args))
    except KeyboardInterrupt as exc:
        note = interrupted_message(args)
        if stopped_normally(args):
            err_console.print(note)
        else:
            _fail(args, arguments, exc, note, message=note, flagged=False)
        code = 130
    except CliError as exc:
        _fail(args, arguments, exc, str(exc))
        code = exc.code
    except (PixopError, OSError, ValueError) as exc:
        # Expected failures (API errors, bad input, disk problems) are one line, no traceback.
        _fail(args, arguments, exc, error_line(exc))
        code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # nobody reads stdout any more: no traceback at exit
        drop_stdout()
        code = code or 1
    sys.exit(code)

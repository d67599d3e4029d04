"""Helpers shared by the job commands: poll knobs, bars on stderr, JSON arguments, formats."""

from __future__ import annotations

import argparse
import enum
import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.progress import Progress, TaskID

from ..client import Pixop
from ..polling import PollIntervals
from .bars import percent_progress, transfer_progress
from .common import CliError, err_console


def add_poll_options(parser: argparse.ArgumentParser) -> None:
    """``--poll-interval`` (shortest wait between status reads) and ``--timeout``."""
    parser.add_argument(
        "--poll-interval",
        type=positive_float,
        default=1.0,
        metavar="S",
        help="shortest wait between status reads in seconds (default 1.0)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=None, metavar="S", help="give up after S seconds"
    )


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars (implied by --json)"
    )


def poll_intervals(args: argparse.Namespace) -> PollIntervals:
    minimum = getattr(args, "poll_interval", 1.0)
    return PollIntervals(minimum=minimum, maximum=max(minimum, 15.0))


def bars_enabled(args: argparse.Namespace) -> bool:
    """Bars are drawn on stderr unless ``--json`` or ``--no-progress`` is given."""
    return not (getattr(args, "json", False) or getattr(args, "no_progress", False))


def _maybe_disabled(progress: Progress, args: argparse.Namespace) -> Progress:
    progress.disable = not bars_enabled(args)
    return progress


def byte_bars(args: argparse.Namespace) -> Progress:
    """Transfer bars (size, rate, ETA) on stderr, or a silent stand-in."""
    return _maybe_disabled(transfer_progress(err_console), args)


def percent_bars(args: argparse.Namespace) -> Progress:
    """Percentage bars with a status column on stderr, or a silent stand-in."""
    return _maybe_disabled(percent_progress(err_console), args)


def percent_updater(progress: Progress, task: TaskID) -> Callable[[float | None, str], None]:
    """``update(percent, status)`` for a bar made by :func:`percent_bars`."""

    def update(percent: float | None, status: str) -> None:
        if percent is None:
            progress.update(task, status=status)
        else:
            progress.update(task, completed=max(0.0, min(100.0, float(percent))), status=status)

    return update


def is_loopback_api(px: Pixop) -> bool:
    """Whether the client talks to an API on this machine (the local emulator).

    Only then do commands let ``http://127.0.0.1`` source and webhook URLs through the
    client-side checks; the real service refuses them anyway.
    """
    host = urlsplit(px.base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_json_argument(text: str, what: str) -> Any:
    """JSON given inline (``{...}`` / ``[...]``) or as a path to a JSON file."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        source, raw = "inline JSON", stripped
    else:
        path = Path(text)
        if not path.is_file():
            raise CliError(f"{what}: not inline JSON and no such file: {text}")
        try:
            source, raw = str(path), path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CliError(f"{what}: {path} is not UTF-8 text") from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{what}: {source} is not valid JSON ({exc})") from None


def hex_crc(value: int | None) -> str | None:
    """A CRC32C as 8 hex digits (the form most tools print)."""
    return None if value is None else f"{value:08x}"


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def status_label(status: enum.Enum | None) -> str:
    """An operation status in lower case (``done``), or a dash."""
    return "-" if status is None else str(status.value).lower()


def parse_crc32c(text: str) -> int:
    """A CRC32C given as decimal or ``0x``-prefixed hex."""
    try:
        value = int(text, 0)
    except ValueError:
        raise CliError(
            f"--crc32c: expected 'auto', a decimal or 0x-hex number, got {text!r}"
        ) from None
    if not 0 <= value <= 0xFFFFFFFF:
        raise CliError("--crc32c: must be between 0 and 0xffffffff")
    return value


def describe_error(exc: BaseException) -> str:
    """One line for an error: its type, its text and the server's error code if any."""
    code = getattr(exc, "error_code", None)
    text = f"{type(exc).__name__}: {exc}"
    return f"{text} [{code}]" if code and str(code) not in text else text


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value

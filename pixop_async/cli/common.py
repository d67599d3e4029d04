"""Shared plumbing of CLI commands: output, config from flags/env, error reporting."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from rich.console import Console

from .._env import api_key_setting
from ..client import Pixop
from ..config import API_KEY_ENV, DEFAULT_BASE_URL
from ..models.converter import unstructure
from .tables import model_table as model_table  # re-exported for the commands

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_api_options(parser: argparse.ArgumentParser) -> None:
    """``--api-key`` / ``--base-url`` / ``--email`` / ``--password`` with env fallbacks."""
    parser.add_argument("--api-key", default=None, help="API key (env PIXOP_API_KEY)")
    parser.add_argument("--base-url", default=None, help="API base URL (env PIXOP_BASE_URL)")
    parser.add_argument("--email", default=None, help="account email (env PIXOP_EMAIL)")
    parser.add_argument("--password", default=None, help="account password (env PIXOP_PASSWORD)")


def api_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Client keyword arguments from flags, falling back to the environment."""
    # the SDK's own reading of the key: a key file's trailing newline is stripped from
    # PIXOP_API_KEY, and a key with whitespace inside is refused before any request
    api_key = api_key_setting(getattr(args, "api_key", None), API_KEY_ENV)
    base_url = getattr(args, "base_url", None) or os.environ.get("PIXOP_BASE_URL")
    return {
        "api_key": api_key,
        "base_url": base_url or DEFAULT_BASE_URL,
        "email": getattr(args, "email", None) or os.environ.get("PIXOP_EMAIL"),
        "password": getattr(args, "password", None) or os.environ.get("PIXOP_PASSWORD"),
    }


def emit_json(data: Any) -> None:
    """Print a model (or anything JSON-able) as JSON on stdout."""
    sys.stdout.write(json.dumps(unstructure(data), indent=2, default=str) + "\n")


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """API options plus ``--json`` (machine-readable output) for a command."""
    add_api_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


@asynccontextmanager
async def open_client(args: argparse.Namespace) -> AsyncIterator[Pixop]:
    """A :class:`Pixop` client configured from the command's flags and environment."""
    settings = api_settings(args)
    if not settings["api_key"]:
        raise CliError("no API key: pass --api-key or set PIXOP_API_KEY")
    async with Pixop(**settings) as client:
        yield client


def show(args: argparse.Namespace, data: Any, render: Callable[[], None]) -> None:
    """Print ``data`` as JSON with ``--json``, else call ``render`` for the human form."""
    if getattr(args, "json", False):
        emit_json(data)
    else:
        render()

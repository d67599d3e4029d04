"""``--queue`` / ``--job`` options shared by ``pixop worker`` and distributed ``pixop bulk``."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .common import CliError


def add_queue_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--queue",
        default=None,
        required=required,
        metavar="URL",
        help="Redis URL (redis://host:port/db) of a shared queue (env PIXOP_QUEUE)",
    )
    parser.add_argument(
        "--job", default="default", help="name of the bulk job in that queue (default 'default')"
    )


def queue_url(args: argparse.Namespace) -> str | None:
    return getattr(args, "queue", None) or os.environ.get("PIXOP_QUEUE") or None


@asynccontextmanager
async def open_queue(args: argparse.Namespace) -> AsyncIterator[Any]:
    """A connected Redis client for ``--queue`` (errors name the extra or the bad URL)."""
    from ..pipeline import RedisUnavailableError, connect, redacted
    from ..pipeline._redis import redis_error

    url = queue_url(args)
    if url is None:
        raise CliError("no queue: pass --queue redis://HOST:PORT/DB or set PIXOP_QUEUE")
    try:
        client = connect(url)
    except RedisUnavailableError as exc:
        raise CliError(str(exc)) from None
    except ValueError as exc:
        raise CliError(f"--queue {redacted(url)}: {exc}") from None
    try:
        try:
            await client.ping()
        except Exception as exc:
            hint = " (is it a Redis server?)" if type(exc).__name__ == "InvalidResponse" else ""
            raise CliError(
                f"cannot reach the queue at {redacted(url)}: {type(exc).__name__}{hint}"
            ) from None
        try:
            yield client
        except redis_error() as exc:  # e.g. WRONGTYPE: a key of the job holds something else
            text = " ".join(str(exc).split())[:300]
            raise CliError(f"queue {redacted(url)}: {type(exc).__name__}: {text}") from None
    finally:
        await client.aclose()

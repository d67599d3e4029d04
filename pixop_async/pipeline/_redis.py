"""The one place that imports redis-py (lazily, so ``import pixop_async`` never needs it)."""

from __future__ import annotations

import importlib
from typing import Any

EXTRA_HINT = "install the Redis extra: pip install 'pixop-async[redis]'"


class RedisUnavailableError(ImportError):
    """redis-py is not installed; the message names the extra that brings it."""


def redis_module() -> Any:
    """``redis.asyncio``, or :class:`RedisUnavailableError` naming the extra."""
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError as exc:
        raise RedisUnavailableError(
            f"pixop_async.pipeline needs redis-py ({exc}); {EXTRA_HINT}"
        ) from None


def connect(url: str, **options: Any) -> Any:
    """An asyncio Redis client for ``url`` (``redis://``, ``rediss://`` or ``unix://``)."""
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("queue URL must start with redis://, rediss:// or unix://")
    return redis_module().Redis.from_url(url, decode_responses=True, **options)


def redacted(url: str) -> str:
    """``url`` without a password, fit for logs and errors."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user + ':***@' if user else '***@'}{host}"

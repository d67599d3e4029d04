"""The one place that imports redis-py (lazily, so ``import pixop_async`` never needs it)."""

from __future__ import annotations

import importlib
import urllib.parse
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


#: How replies that are not UTF-8 decode: to lone surrogates (U+DC80-U+DCFF) that
#: :func:`has_undecodable` spots, rather than a UnicodeDecodeError that would throw away
#: the whole reply (and with it every other entry of an XREADGROUP batch).
ENCODING_ERRORS = "surrogateescape"


def redis_error() -> type[Exception]:
    """redis-py's base exception class (``redis.exceptions.RedisError``)."""
    error: type[Exception] = redis_module().RedisError
    return error


def connect(url: str, **options: Any) -> Any:
    """An asyncio Redis client for ``url`` (``redis://``, ``rediss://`` or ``unix://``).

    Replies are decoded to ``str``; bytes that are not UTF-8 come back as lone surrogates
    (see :data:`ENCODING_ERRORS`) so one bad stream entry cannot block its neighbours.
    """
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("queue URL must start with redis://, rediss:// or unix://")
    options.setdefault("encoding_errors", ENCODING_ERRORS)
    return redis_module().Redis.from_url(url, decode_responses=True, **options)


def has_undecodable(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (decoded with surrogateescape)."""
    return any("\udc80" <= c <= "\udcff" for c in text)


def printable(text: str) -> str:
    """``text`` with undecodable bytes shown as U+FFFD (safe to print or log)."""
    if not has_undecodable(text):
        return text
    return "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in text)


#: Query parameters of a Redis URL that carry a secret.
_SECRET_QUERY = frozenset({"password", "username", "user", "auth", "token"})


def redacted(url: str) -> str:
    """``url`` without a password (in the user info or the query), fit for logs and errors."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest, qsep, query = rest.partition("?")
    if qsep:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        shown = [(k, "***" if k.lower() in _SECRET_QUERY else v) for k, v in pairs]
        query = urllib.parse.urlencode(shown, safe="*")
    tail = f"?{query}" if qsep else ""
    if "@" not in rest:
        return f"{scheme}://{rest}{tail}"
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
    return f"{scheme}://{user + ':***@' if user else '***@'}{host}{tail}"

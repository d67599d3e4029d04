"""Client settings from arguments or the environment, checked when the client is made.

A bad API key or base URL used to pass construction and fail at the first call with an
aiohttp ``ValueError`` ("header injection") or an ``APIConnectionError``; a base URL
with a password showed it in the client's ``repr``. These pure helpers make each setting
fail at construction with an :class:`~pixop_async.errors.InvalidRequestError` naming where
the value came from (the argument or the variable) and the rule, never the value itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from . import validation as v
from .errors import InvalidRequestError

# whitespace or a control character anywhere in a key (a trailing newline from a file...)
_NOT_KEY_TEXT = re.compile(r"[\s\x00-\x1f\x7f]")


def api_key_setting(
    value: str | None, env_name: str, environ: Mapping[str, str] | None = None
) -> str | None:
    """The API key: ``value`` when given (non-empty), else the variable ``env_name`` with
    surrounding whitespace removed (a key file's trailing newline), else None. A key that
    holds whitespace or control characters raises; the key is never echoed."""
    field = "api_key"
    if not value:
        environ = os.environ if environ is None else environ
        value = environ.get(env_name, "").strip()
        field = env_name
    if not value:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(field, f"must be a str, not {type(value).__name__}")
    if _NOT_KEY_TEXT.search(value):
        raise InvalidRequestError(field, "must not contain whitespace or control characters")
    return value


def base_url_setting(
    value: str | None,
    env_name: str,
    default: str,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The API base URL, without a trailing ``/``: ``value`` when given, else the variable
    ``env_name``, else ``default``. It must be an ``http(s)://host[:port][/path]`` URL with
    no credentials (they would show in reprs and messages; the client authenticates itself),
    query or fragment."""
    field = "base_url"
    if not value:
        environ = os.environ if environ is None else environ
        value = environ.get(env_name, "").strip()
        field = env_name
    if not value:
        return default.rstrip("/")
    v.plain_http_url(
        field,
        value,
        example="https://api.pixop.com/api",
        credentials="; the client authenticates itself",
    )
    return value.rstrip("/")

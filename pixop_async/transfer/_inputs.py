"""Checks of the caller's transfer arguments, made before any request or file is touched."""

from __future__ import annotations

import os
from typing import Any

from yarl import URL

from .. import validation as v
from ..errors import InvalidRequestError

MAX_CRC32C = 0xFFFFFFFF
UPLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})


def http_url(field: str, value: Any) -> str:
    """An absolute ``http``/``https`` URL with a host."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(field, "must be an absolute http(s) URL")
    try:
        parsed = URL(value)
    except (TypeError, ValueError):
        raise InvalidRequestError(field, "must be an absolute http(s) URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidRequestError(field, "must be an absolute http(s) URL")
    return value


def path_like(field: str, value: Any) -> str | os.PathLike[str]:
    if not isinstance(value, str | os.PathLike) or not os.fspath(value):
        raise InvalidRequestError(field, "must be a non-empty path")
    return value


def download_args(
    url: Any, dest: Any, connections: Any, part_size: Any, expected_crc32c: Any
) -> None:
    """Validate :func:`~pixop_async.transfer.download.download`'s arguments."""
    http_url("url", url)
    path_like("dest", dest)
    v.integer("connections", connections, minimum=1)
    v.optional_integer("part_size", part_size, minimum=1)
    v.optional_integer("expected_crc32c", expected_crc32c, minimum=0, maximum=MAX_CRC32C)


def upload_args(url: Any, path: Any, method: Any, field_name: Any) -> str:
    """Validate :func:`~pixop_async.transfer.upload.upload_file`'s arguments; the method."""
    http_url("url", url)
    path_like("path", path)
    verb = v.text("method", method, min_len=1).upper()
    if verb not in UPLOAD_METHODS:
        raise InvalidRequestError("method", f"must be one of {', '.join(sorted(UPLOAD_METHODS))}")
    v.text("field_name", field_name, min_len=1)
    return verb

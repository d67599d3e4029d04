"""Checks of the caller's transfer arguments, made before any request or file is touched."""

from __future__ import annotations

import os
from typing import Any

from yarl import URL

from .. import validation as v
from .._wire import FRAMING_HEADERS
from ..errors import InvalidRequestError

MAX_CRC32C = 0xFFFFFFFF
UPLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Request headers the download engine sets itself: the ranges it asks for and the pins
#: that keep every range on one version of the object. A caller's copy would fight them.
ENGINE_DOWNLOAD_HEADERS = frozenset(
    {
        "range",
        "if-range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
    }
)
#: Request headers the upload engine sets itself: the multipart form's type and boundary.
ENGINE_UPLOAD_HEADERS = frozenset({"content-type"})


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
    url: Any,
    dest: Any,
    connections: Any,
    part_size: Any,
    expected_crc32c: Any,
    headers: Any = None,
) -> None:
    """Validate :func:`~pixop_async.transfer.download.download`'s arguments."""
    http_url("url", url)
    path_like("dest", dest)
    v.integer("connections", connections, minimum=1)
    v.optional_integer("part_size", part_size, minimum=1)
    v.optional_integer("expected_crc32c", expected_crc32c, minimum=0, maximum=MAX_CRC32C)
    if headers is not None:
        download_headers("headers", headers)


def transfer_headers(field: str, value: Any, engine: frozenset[str], why: str) -> dict[str, str]:
    """A transfer's extra request headers: valid, no framing header (the HTTP layer's) and
    none of ``engine``, the ones the transfer engine sets itself (``why`` says what for)."""
    headers = v.header_mapping(field, value)
    for name in headers:
        key = name.lower()
        if key in FRAMING_HEADERS:
            raise InvalidRequestError(
                field, f"{name!r} frames the request on the connection: the HTTP layer sets it"
            )
        if key in engine:
            hint = " (use if_none_match=)" if key == "if-none-match" else ""
            raise InvalidRequestError(field, f"{name!r} is set by the {why}{hint}")
    return headers


def download_headers(field: str, value: Any) -> dict[str, str]:
    """Extra request headers of a download (see :func:`transfer_headers`)."""
    why = "download engine (its ranges and the version pins that keep them on one object)"
    return transfer_headers(field, value, ENGINE_DOWNLOAD_HEADERS, why)


def upload_headers(field: str, value: Any) -> dict[str, str]:
    """Extra request headers of an upload (see :func:`transfer_headers`)."""
    why = "upload engine (the multipart form's type and boundary)"
    return transfer_headers(field, value, ENGINE_UPLOAD_HEADERS, why)


def upload_args(url: Any, path: Any, method: Any, field_name: Any, headers: Any = None) -> str:
    """Validate :func:`~pixop_async.transfer.upload.upload_file`'s arguments; the method."""
    http_url("url", url)
    if headers is not None:
        upload_headers("headers", headers)
    path_like("path", path)
    verb = v.text("method", method, min_len=1).upper()
    if verb not in UPLOAD_METHODS:
        raise InvalidRequestError("method", f"must be one of {', '.join(sorted(UPLOAD_METHODS))}")
    v.text("field_name", field_name, min_len=1)
    return verb

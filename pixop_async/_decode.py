"""Success bodies into models: one place where a broken server contract becomes a typed error.

Every client method that builds a model from a response goes through :func:`decode`, so a
body that is not JSON, is nested too deeply to parse, or has the wrong shape raises
:class:`~pixop_async.errors.InvalidResponseError` (a ``PixopError``) instead of whatever
``json``, ``cattrs`` or the interpreter happened to raise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from .errors import InvalidResponseError

T = TypeVar("T")

#: How much of an offending body an InvalidResponseError keeps.
KEPT_BODY = 1024


class _Response(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def body(self) -> bytes: ...


def parse_json(status: int, body: bytes) -> Any:
    """``body`` parsed as JSON (``None`` when empty); anything else is InvalidResponseError."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise InvalidResponseError(
            f"HTTP {status} response body is not valid JSON: {type(exc).__name__}",
            status=status,
            body=body[:KEPT_BODY],
        ) from None


def decode(response: _Response, cls: type[T], pick: Callable[[Any], Any] | None = None) -> T:
    """Build ``cls`` from a response's JSON body (``pick`` selects the part to use first)."""
    # Imported here: the HTTP session needs parse_json at import time, the converter (and
    # cattrs) only once a model is built.
    from .models.converter import structure

    try:
        data = json.loads(response.body) if response.body else None
        if pick is not None:
            data = pick(data)
        return structure(data, cls)
    except Exception as exc:  # json, cattrs, attrs and pick errors alike: a broken contract
        name = getattr(cls, "__name__", str(cls))
        raise InvalidResponseError(
            f"HTTP {response.status} response is not a valid {name}: {type(exc).__name__}",
            status=response.status,
            body=response.body[:KEPT_BODY],
        ) from exc

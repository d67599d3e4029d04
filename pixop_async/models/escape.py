"""The escape hatch for enum values newer than the SDK, in requests.

Requests are validated before sending, enums included, so a typo never reaches the server.
A value the server supports but this SDK version does not know yet can still be sent by
saying so explicitly: construct the enum from the text (``Scaler("DVRES3")``,
``WebhookEventType("video_out.cancelled")``). Such a pseudo-member (``.known`` is False) is
passed through with an :class:`~pixop_async.errors.UnknownEnumValueWarning`; the same text
given as a plain string is still refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ..errors import UnknownEnumValueWarning
from .converter import json_name
from .enums import OpenEnum


def is_deliberate_unknown(value: Any) -> bool:
    """Whether ``value`` is an enum pseudo-member the caller built for a value the SDK lacks."""
    return isinstance(value, OpenEnum) and not value.known


def warn_unknown(field: str, value: Any, *, stacklevel: int = 3) -> None:
    warnings.warn(
        UnknownEnumValueWarning(
            f"{field}: sending {str(value)!r}, a value this SDK version does not know"
        ),
        stacklevel=stacklevel,
    )


def unknown_enum_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """JSON paths (camelCase keys, list indexes as text) of every deliberate unknown enum
    value inside a model, a mapping or a list."""
    if is_deliberate_unknown(value):
        yield path
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from unknown_enum_paths(getattr(value, field.name), (*path, json_name(field)))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from unknown_enum_paths(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from unknown_enum_paths(item, (*path, str(index)))

"""The escape hatch for enum values newer than the SDK, in requests.

Requests are validated before sending, enums included, so a typo never reaches the server.
A value the server supports but this SDK version does not know yet can still be sent by
saying so explicitly: construct the enum from the text (``Scaler("DVRES3")``,
``WebhookEventType("video_out.cancelled")``). Such a pseudo-member (``.known`` is False) is
passed through with an :class:`~pixop_async.errors.UnknownEnumValueWarning`; the same text
given as a plain string is still refused. The text must still look like an API enum value
(a letter or digit, then letters, digits, ``_ . : + -``; at most 128 characters): an empty,
blank, multi-line or oversized pseudo-member is refused like any bad value.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ..errors import InvalidRequestError, UnknownEnumValueWarning
from .converter import json_name
from .enums import OpenEnum


def is_deliberate_unknown(value: Any) -> bool:
    """Whether ``value`` is an enum pseudo-member the caller built for a value the SDK lacks."""
    return isinstance(value, OpenEnum) and not value.known


#: What every enum value of the API looks like (``DVRES2``, ``video_in.done``, ``4:2:0``...).
ENUM_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+-]{0,127}")


def check_token(field: str, value: Any) -> None:
    """Refuse a deliberate unknown value that cannot be an API enum value."""
    text = str(value)
    if not ENUM_TOKEN.fullmatch(text):
        shown = repr(text) if len(text) <= 40 else repr(text[:37]) + "..."
        raise InvalidRequestError(
            field,
            "an unknown enum value must be 1-128 letters, digits or _ . : + - "
            "(starting with a letter or digit)",
            value_repr=shown,
        )


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

"""Options JSON keys in either spelling: ``filterSettings`` and ``filter_settings`` alike.

The current API's JSON is camelCase and the SDK's attributes (and every error path the CLI
prints) are snake_case; users type whichever they saw last. These pure functions rewrite the
keys of a JSON object tree to one spelling before it is checked, so both are accepted and
errors come out in one style (snake_case dotted paths). Two spellings of the same key in one
object are refused, naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..errors import InvalidRequestError

_UPPER = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """``filterSettings`` -> ``filter_settings`` (snake_case input is unchanged)."""
    return _UPPER.sub(lambda m: "_" + m.group(1), name).lower() if name[:1].islower() else name


def camel(name: str) -> str:
    """``filter_settings`` -> ``filterSettings`` (camelCase input is unchanged)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _rekey(data: Any, convert: Callable[[str], str], path: str) -> Any:
    if isinstance(data, list):
        return [_rekey(item, convert, f"{path}.{i}") for i, item in enumerate(data)]
    if not isinstance(data, dict):
        return data
    out: dict[Any, Any] = {}
    for key, value in data.items():
        new = convert(key) if isinstance(key, str) else key
        where = f"{path}.{snake(new) if isinstance(new, str) else new}"
        if new in out:
            raise InvalidRequestError(where, "is given twice (camelCase and snake_case)")
        out[new] = _rekey(value, convert, where)
    return out


def camel_keys(data: Any, root: str = "options") -> Any:
    """``data`` with every object key in camelCase (the API's JSON spelling)."""
    return _rekey(data, camel, root)


def snake_keys(data: Any, root: str = "options") -> Any:
    """``data`` with every object key in snake_case (the SDK's attribute spelling)."""
    return _rekey(data, snake, root)

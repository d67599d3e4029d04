"""Client-side request validation: each check names the field and the rule it enforces.

These run before a request is built, so invalid input never leaves the machine.
"""

from __future__ import annotations

import enum
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from .errors import InvalidRequestError

E = TypeVar("E", bound=enum.Enum)

MAX_PAGE_SIZE = 100


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def uuid_str(field: str, value: Any) -> str:
    """A UUID given as ``uuid.UUID`` or text, returned in canonical text form."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise InvalidRequestError(field, "must be a UUID", value_repr=_short_repr(value))


def optional_uuid(field: str, value: Any) -> str | None:
    return None if value is None else uuid_str(field, value)


# RFC 9110: a field name is a token; a field value holds no control character but HTAB
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def header_value(field: str, name: str, value: Any) -> str:
    """One header value: a str with no CR, LF or other control character (never echoed:
    it may be a credential)."""
    if not isinstance(value, str):
        raise InvalidRequestError(
            field, f"{name!r} must have a str value, not {type(value).__name__}"
        )
    if _HEADER_CONTROL.search(value):
        raise InvalidRequestError(
            field, f"{name!r} must not contain CR, LF or other control characters (NUL, DEL...)"
        )
    return value


def header_mapping(field: str, value: Any) -> dict[str, str]:
    """A mapping of request headers: valid field names and values (see :func:`header_value`)."""
    if not isinstance(value, Mapping):
        raise InvalidRequestError(field, f"must be a mapping, not {type(value).__name__}")
    headers: dict[str, str] = {}
    for name, text in value.items():
        # fullmatch: ``$`` would also match before a final newline ("Range\n" passed)
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidRequestError(field, f"{_short_repr(name)} is not a valid HTTP header name")
        headers[name] = header_value(field, name, text)
    return headers


def text(field: str, value: Any, *, min_len: int = 0, max_len: int | None = None) -> str:
    """A string whose length lies within ``[min_len, max_len]``."""
    if not isinstance(value, str):
        raise InvalidRequestError(field, "must be a string", value_repr=_short_repr(value))
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        bound = f"between {min_len} and {max_len}" if max_len is not None else f"at least {min_len}"
        raise InvalidRequestError(
            field, f"length must be {bound} characters", value_repr=f"{len(value)} characters"
        )
    return value


def optional_text(
    field: str, value: Any, *, min_len: int = 0, max_len: int | None = None
) -> str | None:
    return None if value is None else text(field, value, min_len=min_len, max_len=max_len)


def integer(
    field: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An ``int`` (not a bool) within the inclusive bounds given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(field, "must be an integer", value_repr=_short_repr(value))
    _check_bounds(field, value, minimum, maximum)
    return value


def optional_integer(
    field: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    return None if value is None else integer(field, value, minimum=minimum, maximum=maximum)


def number(
    field: str, value: Any, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """A finite real number within the inclusive bounds given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequestError(field, "must be a number", value_repr=_short_repr(value))
    if not math.isfinite(value):
        raise InvalidRequestError(field, "must be finite", value_repr=_short_repr(value))
    _check_bounds(field, value, minimum, maximum)
    return value


def _check_bounds(field: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise InvalidRequestError(
            field, f"must be between {minimum} and {maximum}", value_repr=repr(value)
        )
    if minimum is not None and value < minimum:
        raise InvalidRequestError(field, f"must be at least {minimum}", value_repr=repr(value))
    if maximum is not None and value > maximum:
        raise InvalidRequestError(field, f"must be at most {maximum}", value_repr=repr(value))


def boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequestError(field, "must be a bool", value_repr=_short_repr(value))
    return value


def one_of(field: str, value: Any, enum_cls: type[E]) -> E:
    """A member of ``enum_cls``, given as a member or its value; unknown values are refused,
    except a pseudo-member built on purpose (``enum_cls("NEW")``), which passes with an
    ``UnknownEnumValueWarning`` (see :mod:`pixop_async.models.escape`)."""
    if isinstance(value, enum_cls) and getattr(value, "known", True):
        return value
    if isinstance(value, enum_cls):
        from .models.escape import check_token, warn_unknown

        check_token(field, value)
        warn_unknown(field, value, stacklevel=4)
        return value
    for member in enum_cls:
        if value == member.value:
            return member
    allowed = ", ".join(str(m.value) for m in enum_cls)
    raise InvalidRequestError(field, f"must be one of {allowed}", value_repr=_short_repr(value))


def uuid_list(field: str, values: Iterable[Any]) -> list[str]:
    return [uuid_str(f"{field}[{i}]", v) for i, v in enumerate(values)]


def page_size(value: Any) -> int:
    return integer("page_size", value, minimum=1, maximum=MAX_PAGE_SIZE)


def page_number(value: Any) -> int:
    return integer("page_number", value, minimum=0)


def plain_http_url(field: str, value: object, *, example: str = "", credentials: str) -> str:
    """``value`` checked as an ``http(s)://host[:port][/path]`` URL with no credentials
    (they would show in reprs, messages and journals), query, fragment, whitespace or
    control characters. ``example`` is appended to the scheme rule's message;
    ``credentials`` says what to do instead of ``user:password@``."""
    if not isinstance(value, str):
        raise InvalidRequestError(field, f"must be a str URL, not {type(value).__name__}")
    from yarl import URL

    try:
        url = URL(value)
        _ = url.port  # a malformed port raises here
    except (ValueError, TypeError):
        raise InvalidRequestError(field, "is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        suffix = f" ({example})" if example else ""
        raise InvalidRequestError(field, f"must be an http:// or https:// URL with a host{suffix}")
    if url.user is not None or url.password is not None:
        raise InvalidRequestError(field, f"must not hold credentials (user:password@){credentials}")
    if url.raw_query_string or url.raw_fragment or "?" in value or "#" in value:
        raise InvalidRequestError(field, "must not have a query or a fragment")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidRequestError(field, "must not contain whitespace or control characters")
    return value

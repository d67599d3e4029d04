"""The one cattrs converter of the SDK.

JSON uses camelCase names, attributes use snake_case: the mapping is derived from each attrs
class (``isMaster`` ↔ ``is_master``); a field may override its JSON name with
``metadata={"json": "name"}``. Unknown JSON fields are ignored, ``None`` values are left out
when unstructuring (so PATCH bodies only carry what was set), datetimes are RFC 3339 strings
and UUIDs plain strings. Enums derive from :class:`OpenEnum`, so an unknown value becomes a
pseudo-member instead of an error.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
import uuid
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

T = TypeVar("T")

_CAMEL_BOUNDARY = re.compile(r"_([a-z0-9])")


def to_camel(name: str) -> str:
    """``crc32c_checksum`` → ``crc32cChecksum``."""
    return _CAMEL_BOUNDARY.sub(lambda m: m.group(1).upper(), name)


def json_name(field: attrs.Attribute[Any]) -> str:
    """The JSON name of an attrs field."""
    explicit = field.metadata.get("json")
    return str(explicit) if explicit else to_camel(field.name)


def parse_datetime(value: Any) -> dt.datetime:
    """Parse an RFC 3339 date-time (``Z`` or an offset; fractional seconds of any length)."""
    if isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat accepts only 3 or 6 fractional digits.
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", text)
    if match:
        head, frac, tail = match.groups()
        text = f"{head}.{(frac + '000000')[:6]}{tail}"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def format_datetime(value: dt.datetime) -> str:
    """RFC 3339 text for a datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    text = value.isoformat()
    return text.replace("+00:00", "Z")


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    return cls(value)


_INTEGER_TEXT = re.compile(r"-?[0-9]{1,30}")


def _scalar_or_enum(exact: type, hook: Any) -> Any:
    """``hook`` for ``exact`` itself; an enum deriving from it (``OpenEnum`` is a ``str``)
    keeps the enum hook."""

    def structure(value: Any, cls: Any) -> Any:
        if cls is not exact and isinstance(cls, type) and issubclass(cls, enum.Enum):
            return _structure_enum(value, cls)
        return hook(value, cls)

    return structure


def _structure_int(value: Any, _: Any) -> int:
    """A whole number: never a bool, and never a fraction silently truncated (1.7 credits
    must not decode as 1); an integral float (``12.0``) or integer text is accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value)
    raise ValueError(f"expected a whole number, got {type(value).__name__}")


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _structure_decimal(value: Any, _: Any) -> decimal.Decimal:
    """Exact from the JSON text form; a bool, a non-number or a non-finite value (NaN and
    Infinity, which Python's JSON parser accepts) is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a decimal number, got {type(value).__name__}")
    parsed = decimal.Decimal(str(value).strip())
    if not parsed.is_finite():
        raise ValueError("expected a finite decimal number")
    return parsed


def _structure_bool(value: Any, _: Any) -> bool:
    """Only JSON true/false: ``bool("false")`` would be True."""
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {type(value).__name__}")


def _structure_str(value: Any, _: Any) -> str:
    """Text; a number is kept as its text, an object, a list or a bool is refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__}")


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(omit_if_default=False)
    converter.register_structure_hook(dt.datetime, lambda v, _: parse_datetime(v))
    converter.register_unstructure_hook(dt.datetime, format_datetime)
    converter.register_structure_hook(dt.date, lambda v, _: dt.date.fromisoformat(str(v)))
    converter.register_unstructure_hook(dt.date, lambda v: v.isoformat())
    # Money and other BigDecimal fields: parse from the JSON text form so no binary rounding
    # creeps in; write back as a JSON number.
    converter.register_structure_hook(decimal.Decimal, _structure_decimal)
    for exact, hook in (
        (int, _structure_int),
        (float, _structure_float),
        (bool, _structure_bool),
        (str, _structure_str),
    ):
        converter.register_structure_hook(exact, _scalar_or_enum(exact, hook))
    converter.register_unstructure_hook(
        decimal.Decimal, lambda v: int(v) if v == v.to_integral_value() else float(v)
    )
    converter.register_structure_hook(uuid.UUID, lambda v, _: uuid.UUID(str(v)))
    converter.register_unstructure_hook(uuid.UUID, str)
    converter.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    converter.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), lambda v: v.value
    )

    def structure_factory(cls: type[Any]) -> Any:
        overrides = {f.name: override(rename=json_name(f)) for f in attrs.fields(cls)}
        return make_dict_structure_fn(cls, converter, **overrides)  # type: ignore[arg-type]

    def unstructure_factory(cls: type[Any]) -> Any:
        overrides = {f.name: override(rename=json_name(f)) for f in attrs.fields(cls)}
        inner = make_dict_unstructure_fn(cls, converter, **overrides)  # type: ignore[arg-type]

        def unstructure(obj: Any) -> dict[str, Any]:
            return {
                k: (v.value if isinstance(v, enum.Enum) else v)
                for k, v in inner(obj).items()
                if v is not None
            }

        return unstructure

    converter.register_structure_hook_factory(attrs.has, structure_factory)
    converter.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    return converter


converter = _make_converter()


def structure(data: Any, cls: type[T]) -> T:
    """Build a model from decoded JSON."""
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Turn a model (or a list/dict of models) into JSON-ready data."""
    return converter.unstructure(obj)

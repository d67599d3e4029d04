"""Every model of the SDK survives unstructure → JSON → structure unchanged (hypothesis)."""

from __future__ import annotations

import collections.abc
import datetime as dt
import decimal
import enum
import importlib
import json
import pkgutil
import types
import typing
import uuid
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pixop_async.models as models_pkg
from pixop_async.models.converter import structure, unstructure

#: Modules of pixop_async.models that hold validation rules, not wire models.
NOT_WIRE_MODULES = {"processing_rules"}


def _all_models() -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for info in pkgutil.iter_modules(models_pkg.__path__):
        if info.name in NOT_WIRE_MODULES:
            continue
        module = importlib.import_module(f"pixop_async.models.{info.name}")
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and attrs.has(obj)
                and obj.__module__ == module.__name__
                and not getattr(obj, "__parameters__", ())  # generic envelopes need a T
            ):
                found[f"{module.__name__}.{name}"] = obj
    return [found[k] for k in sorted(found)]


MODELS = _all_models()

_utc_datetimes = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.just(dt.timezone.utc),
)
_SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: st.text(max_size=20),
    int: st.integers(-(2**53), 2**53),
    bool: st.booleans(),
    # JSON cannot tell a whole float from an int, so floats keep a fractional part.
    float: st.floats(-1e9, 1e9, allow_nan=False).map(lambda f: round(f, 3) + 0.5),
    decimal.Decimal: st.decimals(
        min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
    ),
    dt.datetime: _utc_datetimes,
    dt.date: st.dates(),
    uuid.UUID: st.uuids(),
    Any: st.none(),
    object: st.none(),
}


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A hypothesis strategy for a model field type (attrs classes built field by field)."""
    if tp in _SCALARS:
        return _SCALARS[tp]
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:  # a typed id (pixop_async.ids): a NewType over uuid.UUID
        return strategy_for(supertype)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(strategy_for(arg) for arg in typing.get_args(tp)))
    if origin in (list, collections.abc.Sequence):
        (item,) = typing.get_args(tp)
        return st.lists(strategy_for(item), max_size=2)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(strategy_for(args[0]), max_size=2).map(tuple)
        return st.tuples(*(strategy_for(a) for a in args))
    if origin is dict:
        key, value = typing.get_args(tp)
        return st.dictionaries(strategy_for(key), strategy_for(value), max_size=2)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if isinstance(tp, type) and attrs.has(tp):
        hints = typing.get_type_hints(tp)
        fields = {
            f.name: st.deferred(lambda t=hints[f.name]: strategy_for(t))
            for f in attrs.fields(tp)
            if f.init
        }
        return st.builds(tp, **fields)
    raise NotImplementedError(f"no strategy for {tp!r}")


def test_models_were_found() -> None:
    names = {m.__name__ for m in MODELS}
    assert {"Account", "ApiKey", "Project", "Team", "User"} <= names


@pytest.mark.parametrize(
    "model", MODELS, ids=lambda m: f"{m.__module__.rsplit('.', 1)[-1]}.{m.__name__}"
)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_round_trip(model: type[Any], data: st.DataObject) -> None:
    instance = data.draw(strategy_for(model))
    wire = json.loads(json.dumps(unstructure(instance)))
    again = structure(wire, model)
    assert _normalise(again) == _normalise(instance)


def _normalise(value: Any) -> Any:
    """Compare models by content: enums by value, floats/decimals numerically."""
    if attrs.has(type(value)):
        return {f.name: _normalise(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, decimal.Decimal | float) and not isinstance(value, bool):
        return round(float(value), 6)
    return value

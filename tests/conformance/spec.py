"""The API 2.1.0 digest as test data: spec-shaped examples and a schema checker.

The digest (``/work/shared/pixop-api/reference/openapi-2.1.0-digest.json``, a machine-made
summary of the OpenAPI document behind Pixop's Java SDK 2.1.0) lists every operation and
schema. From it this module

* builds an example JSON value for any type, with every property filled (``example``); a
  polymorphic schema gets the variant picked by ``variant``, a list gets one item per variant;
* lists the property paths of an example that a decoded-and-re-encoded model lost
  (``dropped``);
* checks any JSON value against a type: required and non-null fields, no property the
  schema does not name, enum values known, scalar kinds right (``violations``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DIGEST_PATH = Path(
    os.environ.get(
        "PIXOP_OPENAPI_DIGEST", "/work/shared/pixop-api/reference/openapi-2.1.0-digest.json"
    )
)
DIGEST: dict[str, Any] = json.loads(DIGEST_PATH.read_text()) if DIGEST_PATH.exists() else {}
MODELS: dict[str, Any] = DIGEST.get("models", {})
OPS: list[dict[str, Any]] = DIGEST.get("ops", [])

#: Request-body properties the 2.1.0 sources mark read-only (a getter and no setter in the
#: Java model): clients must not send them, so they are not required in requests either.
READ_ONLY_IN_REQUESTS = {("WebhookPost", "maxTotalRetryDelayMinutes")}

#: Enums whose values are JSON numbers (``Integer`` enums in the Java sources; the digest
#: lists their values as text).
INTEGER_ENUMS = {"BitDepthEnum"}
UNKNOWN_INTEGER_ENUM = 16

UUID_EXAMPLE = "3f0c9a4e-2b1d-4c6e-9a7f-5e8d1c2b3a40"
UNKNOWN_ENUM = "VALUE_FROM_THE_FUTURE"
UNKNOWN_PROPERTY = "propertyFromTheFuture"

_SCALAR_EXAMPLES: dict[str, Any] = {
    "String": "text",
    "UUID": UUID_EXAMPLE,
    "OffsetDateTime": "2026-03-04T05:06:07.891Z",
    "LocalDate": "2026-03-04",
    "Integer": 7,
    "Long": 9_007_199_254,
    "BigDecimal": 12.345,
    "Boolean": True,
    "URI": "https://example.com/resource",
    "Object": {"detail": "value"},
}
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


#: Discriminators the digest marks optional but the 2.1.0 sources declare ``@Nonnull`` with
#: ``JsonInclude.Include.ALWAYS`` (CreditsUsage.java, Transaction.java,
#: VideoProcessingJobAppraisal.java): every answer carries them.
REQUIRED_IN_SOURCES = {
    ("CreditsUsage", "type"),
    ("Transaction", "type"),
    ("VideoProcessingJobAppraisal", "billingType"),
}


def fields_of(name: str) -> dict[str, dict[str, Any]]:
    """A schema's properties, inherited ones first."""
    model = MODELS[name]
    parent = model.get("extends")
    inherited = fields_of(parent) if parent else {}
    own = {
        prop: {**spec, "required": True} if (name, prop) in REQUIRED_IN_SOURCES else spec
        for prop, spec in model.get("fields", {}).items()
    }
    return {**inherited, **own}


def enum_values(owner: str | None, type_name: str) -> list[str] | None:
    """Values of an enum type: a top-level enum schema or one declared inside ``owner``."""
    if type_name in MODELS and MODELS[type_name]["kind"] != "object":
        values = list(MODELS[type_name]["values"])
        return [int(v) for v in values] if type_name in INTEGER_ENUMS else values
    scopes = [owner] if owner else []
    while scopes and scopes[-1] and MODELS[scopes[-1]].get("extends"):
        scopes.append(MODELS[scopes[-1]]["extends"])
    for scope in scopes:
        inline = MODELS[scope].get("enums") or {}
        if type_name in inline:
            return list(inline[type_name])
    return None


def discriminator_of(name: str) -> tuple[str, dict[str, str]] | None:
    """``(property, {value: variant schema})`` of a polymorphic schema."""
    mapping = MODELS[name].get("discriminator") or {}
    if not mapping:
        return None
    for prop, spec in fields_of(name).items():
        values = enum_values(name, spec["type"]) or []
        if set(mapping) <= set(values):
            return prop, mapping
    raise AssertionError(f"{name}: no property carries the discriminator {sorted(mapping)}")


def _split(type_name: str) -> tuple[str, str | None]:
    match = re.fullmatch(r"(List|Map)<(?:String, )?(.+)>", type_name)
    return (match.group(1), match.group(2)) if match else (type_name, None)


def variants(name: str) -> list[str]:
    found = discriminator_of(name)
    return list(found[1].values()) if found else [name]


def example(
    type_name: str,
    *,
    owner: str | None = None,
    variant: int = 0,
    unknown: bool = False,
) -> Any:
    """A spec-shaped value of ``type_name``. ``unknown`` adds a property no schema names to
    every object and uses a value no enum lists for every non-discriminator enum."""
    outer, inner = _split(type_name)
    if outer == "List":
        assert inner is not None
        if inner in MODELS and discriminator_of(inner):
            return [example(inner, variant=i, unknown=unknown) for i in range(len(variants(inner)))]
        return [example(inner, owner=owner, variant=variant, unknown=unknown)]
    if outer == "Map":
        return {"key": example(inner or "String", owner=owner, unknown=unknown)}
    values = enum_values(owner, type_name)
    if values is not None:
        if unknown:
            return UNKNOWN_INTEGER_ENUM if type_name in INTEGER_ENUMS else UNKNOWN_ENUM
        return values[variant % len(values)]
    if type_name in _SCALAR_EXAMPLES:
        return _SCALAR_EXAMPLES[type_name]
    if type_name not in MODELS:
        raise AssertionError(f"the digest has no type {type_name!r}")
    return _object(type_name, variant, unknown)


def _object(name: str, variant: int, unknown: bool) -> dict[str, Any]:
    concrete, tag = name, None
    found = discriminator_of(name)
    if found:
        prop, mapping = found
        value = list(mapping)[variant % len(mapping)]
        concrete, tag = mapping[value], (prop, value)
    body: dict[str, Any] = {}
    for prop, spec in fields_of(concrete).items():
        body[prop] = example(spec["type"], owner=concrete, variant=variant, unknown=unknown)
    if tag:
        body[tag[0]] = tag[1]
    if unknown:
        body[UNKNOWN_PROPERTY] = {"nested": [1, "two"]}
    return body


def all_variant_fields(name: str) -> dict[str, dict[str, Any]]:
    """Properties of a schema and, for a polymorphic one, of all its variants together."""
    merged = dict(fields_of(name))
    for variant_name in variants(name):
        merged.update(fields_of(variant_name))
    return merged


def dropped(sent: Any, kept: Any, path: str = "$") -> Iterator[str]:
    """Property paths present in ``sent`` that ``kept`` (the re-encoded model) lacks."""
    if isinstance(sent, dict):
        if not isinstance(kept, dict):
            yield path
            return
        for key, value in sent.items():
            if key == UNKNOWN_PROPERTY:
                continue
            if key not in kept or (kept[key] is None and value is not None):
                yield f"{path}.{key}"
            else:
                yield from dropped(value, kept[key], f"{path}.{key}")
    elif isinstance(sent, list):
        if not isinstance(kept, list) or len(kept) != len(sent):
            yield path
            return
        for i, (a, b) in enumerate(zip(sent, kept, strict=True)):
            yield from dropped(a, b, f"{path}[{i}]")


def unknown_enum_kept(sent: Any, kept: Any) -> bool:
    """Whether every unknown enum value of ``sent`` survives at the same place in ``kept``."""
    if isinstance(sent, dict) and isinstance(kept, dict):
        return all(
            unknown_enum_kept(v, kept.get(k)) for k, v in sent.items() if k != UNKNOWN_PROPERTY
        )
    if isinstance(sent, list) and isinstance(kept, list):
        return all(unknown_enum_kept(a, b) for a, b in zip(sent, kept, strict=False))
    if sent == UNKNOWN_ENUM:
        return bool(kept == UNKNOWN_ENUM)
    return True


def violations(
    value: Any,
    type_name: str,
    *,
    owner: str | None = None,
    path: str = "$",
    request: bool = False,
) -> Iterator[str]:
    """Every way ``value`` departs from ``type_name`` (empty when it conforms)."""
    outer, inner = _split(type_name)
    if outer in ("List", "Map"):
        expected = list if outer == "List" else dict
        if not isinstance(value, expected):
            yield f"{path}: expected {type_name}, got {type(value).__name__}"
            return
        items = enumerate(value) if isinstance(value, list) else value.items()
        for key, item in items:
            yield from violations(
                item, inner or "String", owner=owner, path=f"{path}[{key!r}]", request=request
            )
        return
    values = enum_values(owner, type_name)
    if values is not None:
        if value not in values:
            yield f"{path}: {value!r} is not a {type_name} value"
        return
    if type_name in _SCALAR_EXAMPLES:
        if not _scalar_ok(type_name, value):
            yield f"{path}: {value!r} is not a {type_name}"
        return
    if not isinstance(value, dict):
        yield f"{path}: expected a {type_name} object, got {type(value).__name__}"
        return
    yield from _object_violations(value, type_name, path, request)


def _object_violations(value: dict[str, Any], name: str, path: str, request: bool) -> Iterator[str]:
    concrete = name
    found = discriminator_of(name)
    if found and value.get(found[0]) in found[1]:
        concrete = found[1][value[found[0]]]
    fields = fields_of(concrete)
    for prop in value:
        if prop not in fields:
            yield f"{path}.{prop}: not a property of {concrete}"
        elif request and (concrete, prop) in READ_ONLY_IN_REQUESTS:
            yield f"{path}.{prop}: read-only, must not be sent"
    for prop, spec in fields.items():
        read_only = request and (concrete, prop) in READ_ONLY_IN_REQUESTS
        if prop not in value:
            if spec["required"] and not read_only:
                yield f"{path}.{prop}: required property missing"
            continue
        if value[prop] is None:
            if spec["required"] and not spec["nullable"] and not read_only:
                yield f"{path}.{prop}: null but required"
            continue
        yield from violations(
            value[prop], spec["type"], owner=concrete, path=f"{path}.{prop}", request=request
        )


def _scalar_ok(type_name: str, value: Any) -> bool:
    if type_name in ("Integer", "Long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "BigDecimal":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Boolean":
        return isinstance(value, bool)
    if type_name == "Object":
        return True
    if not isinstance(value, str):
        return False
    if type_name == "UUID":
        return bool(_UUID_RE.match(value))
    if type_name == "OffsetDateTime":
        return bool(_DATETIME_RE.match(value))
    if type_name == "LocalDate":
        return bool(_DATE_RE.match(value))
    return True


def path_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


def find_op(method: str, path: str) -> dict[str, Any] | None:
    """The operation a request (path without the ``/api`` prefix) addresses; a literal
    segment wins over a path parameter (``/projects/default`` over ``/projects/{id}``)."""
    matches = [op for op in OPS if op["method"] == method and path_pattern(op["path"]).match(path)]
    matches.sort(key=lambda op: op["path"].count("{"))
    return matches[0] if matches else None

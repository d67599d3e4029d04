"""Request/response helpers shared by every emulator route module."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any, NoReturn

from aiohttp import web


class ApiFault(Exception):
    """Raised by handlers; the error middleware turns it into the API's Error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        validation_errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.validation_errors = validation_errors
        self.headers = headers or {}
        self.details = details


def fail(status: int, code: str, message: str, **kwargs: Any) -> NoReturn:
    raise ApiFault(status, code, message, **kwargs)


def invalid(field: str, value: Any, message: str) -> NoReturn:
    """A 400 VALIDATION_ERROR naming one field."""
    fail(
        400,
        "VALIDATION_ERROR",
        f"Validation failed for {field}",
        validation_errors=[
            {"field": field, "value": None if value is None else str(value), "message": message}
        ],
    )


def not_found(what: str = "Resource") -> NoReturn:
    fail(404, "RESOURCE_NOT_FOUND", f"{what} not found")


def new_id() -> str:
    return str(uuid.uuid4())


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers,
    )


def no_content() -> web.Response:
    return web.Response(status=204)


async def read_json(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object; 400 when missing or malformed."""
    raw = await request.read()
    if not raw:
        if required:
            fail(400, "MISSING_REQUEST_BODY", "Required request body is missing")
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        fail(400, "INVALID_REQUEST_BODY", "Request body is not valid JSON")
    if not isinstance(data, dict):
        fail(400, "INVALID_REQUEST_BODY", "Request body must be a JSON object")
    return data


def path_uuid(request: web.Request, name: str) -> str:
    """A UUID path parameter, canonicalised; 400 when malformed."""
    raw = request.match_info[name]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        invalid(name, raw, "must be a valid UUID")


def query_uuid(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        invalid(name, raw, "must be a valid UUID")


def query_int(
    request: web.Request,
    name: str,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        invalid(name, raw, "must be an integer")
    if minimum is not None and value < minimum:
        invalid(name, raw, f"must be greater than or equal to {minimum}")
    if maximum is not None and value > maximum:
        invalid(name, raw, f"must be less than or equal to {maximum}")
    return value


def query_bool(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    invalid(name, raw, "must be true or false")


def query_enum(
    request: web.Request, name: str, allowed: Iterable[str], default: str | None
) -> str | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    options = list(allowed)
    if raw not in options:
        invalid(name, raw, "must be one of " + ", ".join(options))
    return raw


def require_text(body: dict[str, Any], field: str, *, min_len: int, max_len: int) -> str:
    value = body.get(field)
    if not isinstance(value, str):
        invalid(field, value, "must be a string")
    if not min_len <= len(value) <= max_len:
        invalid(field, value, f"size must be between {min_len} and {max_len}")
    return value


def optional_text(body: dict[str, Any], field: str, *, max_len: int) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        invalid(field, value, f"must be a string of at most {max_len} characters")
    return value


def paginate(
    request: web.Request,
    items: list[dict[str, Any]],
    *,
    sort_fields: Iterable[str] = ("createdAt", "updatedAt"),
    default_sort: str = "createdAt",
) -> dict[str, Any]:
    """Sort and slice ``items`` by the request's paging parameters into a page envelope."""
    page_number = query_int(request, "pageNumber", 0, minimum=0) or 0
    page_size = query_int(request, "pageSize", 10, minimum=1, maximum=100) or 10
    direction = query_enum(request, "sortDirection", ("ASC", "DESC"), "ASC")
    sort_by = query_enum(request, "sortBy", sort_fields, default_sort) or default_sort
    ordered = sorted(
        items,
        key=lambda item: (item.get(sort_by) or "", item.get("id") or ""),
        reverse=direction == "DESC",
    )
    start = page_number * page_size
    window = ordered[start : start + page_size]
    total = len(ordered)
    return {
        "pageNumber": page_number,
        "pageSize": page_size,
        "numberOfElements": len(window),
        "totalPages": (total + page_size - 1) // page_size,
        "totalElements": total,
        "items": window,
    }

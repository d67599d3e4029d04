"""Shapes shared across API areas: page envelopes and the Error body."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

import attrs

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One page of a paginated listing."""

    items: list[T]
    page_number: int
    page_size: int
    number_of_elements: int
    total_pages: int
    total_elements: int

    @property
    def is_last(self) -> bool:
        return self.page_number + 1 >= self.total_pages


@attrs.frozen
class ValidationError:
    """One field-level complaint in an Error body."""

    field: str | None = None
    value: str | None = None
    message: str | None = None


@attrs.frozen
class ErrorBody:
    """The API's Error response body."""

    timestamp: dt.datetime
    request_id: str
    request_path: str
    error_code: str
    message: str
    status_code: int
    error_code_enum: str | None = None
    validation_errors: list[ValidationError] | None = None
    error_details: Any = None

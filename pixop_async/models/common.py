"""Shapes shared across API areas: page envelopes and the Error body."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import attrs

from .enums import OpenEnum

T = TypeVar("T")
PageSelf = TypeVar("PageSelf", bound="Page[Any]")

#: The attribute (not an attrs field: the API has no such property) through which a page
#: fetched by a paginator knows how to fetch the page after it.
_NEXT = "_pixop_fetch_page"


@attrs.frozen(slots=False)
class Page(Generic[T]):
    """One page of a paginated listing.

    A page obtained from a paginator (``await paginator``, ``paginator.pages()``) can fetch
    the one after it: ``if page.has_next_page(): page = await page.get_next_page()``.
    """

    items: list[T]
    page_number: int
    page_size: int
    number_of_elements: int
    total_pages: int
    total_elements: int

    @property
    def is_last(self) -> bool:
        return self.page_number + 1 >= self.total_pages

    def _number(self) -> int:
        """The number this page was asked for by a paginator (else the one it states)."""
        linked = self.__dict__.get(_NEXT)
        return self.page_number if linked is None else int(linked[1])

    def has_next_page(self) -> bool:
        """Whether a page follows this one: not the last page, and not an empty one (the
        rule :meth:`~pixop_async.pagination.EnvelopePaginator.pages` stops by)."""
        return self._number() + 1 < self.total_pages and bool(self.items)

    async def get_next_page(self: PageSelf) -> PageSelf:
        """Fetch the page after this one, with the same filters, size and sort order.

        Raises ``LookupError`` on the last page (check :meth:`has_next_page` first) and
        ``RuntimeError`` for a page that no paginator fetched (built by hand, decoded
        directly, or copied with ``attrs.evolve``).
        """
        linked: tuple[Callable[[int], Awaitable[PageSelf]], int] | None = self.__dict__.get(_NEXT)
        if linked is None:
            raise RuntimeError(
                "this page was not fetched by a paginator, so it cannot fetch the next one"
            )
        if not self.has_next_page():
            raise LookupError(
                f"page {self._number()} is the last one ({self.total_pages} pages); "
                "check has_next_page() first"
            )
        fetch, number = linked
        return await fetch(number + 1)

    def __getstate__(self) -> dict[str, Any]:
        # The link to the paginator is a closure over the client: never pickled or copied.
        return {k: val for k, val in self.__dict__.items() if k != _NEXT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def link_next_page(
    page: PageSelf, fetch: Callable[[int], Awaitable[PageSelf]], number: int
) -> PageSelf:
    """Give ``page`` (page ``number`` as asked for) the way to fetch the pages after it
    (see :meth:`Page.get_next_page`). Navigation counts from ``number``, never from the
    server's ``pageNumber``, so a server that misstates it cannot make a walk repeat."""
    object.__setattr__(page, _NEXT, (fetch, number))
    return page


@attrs.frozen
class ValidationError:
    """One field-level complaint in an Error body."""

    field: str | None = None
    value: str | None = None
    message: str | None = None


class ErrorCode(OpenEnum):
    """The API's ``errorCodeEnum`` values (API 2.1.0); a code added later still parses."""

    UNKNOWN = "UNKNOWN"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    ACCOUNT_DISABLED = "ACCOUNT_DISABLED"
    ACCOUNT_EXPIRED = "ACCOUNT_EXPIRED"
    MISSING_API_KEY = "MISSING_API_KEY"
    INVALID_API_KEY = "INVALID_API_KEY"
    ACCESS_DENIED = "ACCESS_DENIED"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    TEAM_NOT_FOUND = "TEAM_NOT_FOUND"
    DEFAULT_TEAM_NOT_API_ENABLED = "DEFAULT_TEAM_NOT_API_ENABLED"
    INVALID_INPUT = "INVALID_INPUT"
    FORBIDDEN = "FORBIDDEN"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    WEBHOOK_NOT_ACTIVE = "WEBHOOK_NOT_ACTIVE"
    TOO_MANY_WEBHOOK_TEST_EVENTS = "TOO_MANY_WEBHOOK_TEST_EVENTS"
    CONTAINER_IS_NOT_SUPPORTED_FOR_SELECTED_CODEC = "CONTAINER_IS_NOT_SUPPORTED_FOR_SELECTED_CODEC"
    INSUFFICIENT_PROJECTED_BALANCE_ERROR = "INSUFFICIENT_PROJECTED_BALANCE_ERROR"
    PROJECT_WITH_VIDEOS_CANNOT_BE_DELETED = "PROJECT_WITH_VIDEOS_CANNOT_BE_DELETED"
    ACTIVE_API_KEY_CANNOT_BE_DELETED = "ACTIVE_API_KEY_CANNOT_BE_DELETED"
    VIDEO_IN_OPERATION_NOT_FAILED = "VIDEO_IN_OPERATION_NOT_FAILED"
    VIDEO_OUT_OPERATION_NOT_FAILED = "VIDEO_OUT_OPERATION_NOT_FAILED"
    VIDEO_ALREADY_BEING_COPIED_TO_OUTPUT_LOCATION = "VIDEO_ALREADY_BEING_COPIED_TO_OUTPUT_LOCATION"
    ONGOING_COPY_TO_OUTPUT_NEEDS_TO_BE_RESTARTED_OR_ABANDONED = (
        "ONGOING_COPY_TO_OUTPUT_NEEDS_TO_BE_RESTARTED_OR_ABANDONED"
    )
    BUCKET_NOT_FOUND = "BUCKET_NOT_FOUND"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"
    HEAD_BUCKET_ERROR = "HEAD_BUCKET_ERROR"
    HEAD_OBJECT_ERROR = "HEAD_OBJECT_ERROR"
    RESOLVE_OBJECT_METADATA_ERROR = "RESOLVE_OBJECT_METADATA_ERROR"
    CONTENT_RANGE_HEADER_INVALID = "CONTENT_RANGE_HEADER_INVALID"
    CONTENT_NOT_PARTIAL_ERROR = "CONTENT_NOT_PARTIAL_ERROR"
    PARSE_CONTENT_TYPE_ERROR = "PARSE_CONTENT_TYPE_ERROR"
    NO_CONTENT = "NO_CONTENT"
    OBJECT_ALREADY_EXISTS = "OBJECT_ALREADY_EXISTS"
    CONFLICTING_DERIVED_VIDEO_IDS = "CONFLICTING_DERIVED_VIDEO_IDS"
    MAXIMUM_AMOUNT_OF_ACTIVE_API_KEYS_REACHED = "MAXIMUM_AMOUNT_OF_ACTIVE_API_KEYS_REACHED"
    MAXIMUM_AMOUNT_OF_ACTIVE_WEBHOOKS_REACHED = "MAXIMUM_AMOUNT_OF_ACTIVE_WEBHOOKS_REACHED"
    INVALID_REQUEST_BODY = "INVALID_REQUEST_BODY"
    MISSING_REQUEST_BODY = "MISSING_REQUEST_BODY"
    TARGET_RESOLUTION_OUT_OF_ALLOWED_RANGE = "TARGET_RESOLUTION_OUT_OF_ALLOWED_RANGE"
    TARGET_RESOLUTION_CANNOT_BE_LOWER_THAN_CALCULATED_ASPECT_RATIO_RESOLUTION = (
        "TARGET_RESOLUTION_CANNOT_BE_LOWER_THAN_CALCULATED_ASPECT_RATIO_RESOLUTION"
    )
    INVALID_START_POSITION = "INVALID_START_POSITION"
    INVALID_END_POSITION = "INVALID_END_POSITION"
    MISSING_CUSTOM_RESOLUTION = "MISSING_CUSTOM_RESOLUTION"
    INVALID_INPUT_COLOR_CONVERSION = "INVALID_INPUT_COLOR_CONVERSION"
    INVALID_OUTPUT_COLOR_CONVERSION = "INVALID_OUTPUT_COLOR_CONVERSION"
    UNSUPPORTED_CONTENT_TYPE = "UNSUPPORTED_CONTENT_TYPE"
    CHECKSUM_MISMATCH = "CHECKSUM_MISMATCH"
    VIDEO_IN_RESTART_CHECKSUM_MISMATCH = "VIDEO_IN_RESTART_CHECKSUM_MISMATCH"
    INVALID_HTTPS_URL = "INVALID_HTTPS_URL"
    UNEXPECTED_CONTENT_RANGE = "UNEXPECTED_CONTENT_RANGE"
    VIDEO_PROCESSING_NOT_DONE = "VIDEO_PROCESSING_NOT_DONE"
    WEBHOOK_RATE_LIMIT_EXCEEDED = "WEBHOOK_RATE_LIMIT_EXCEEDED"
    VIDEO_NOT_FULLY_INGESTED = "VIDEO_NOT_FULLY_INGESTED"
    VIDEO_COMPARISON_CONFLICT = "VIDEO_COMPARISON_CONFLICT"
    BAD_REQUEST = "BAD_REQUEST"
    UNAUTHORIZED = "UNAUTHORIZED"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    INVALID_DATE_TIME_RANGE = "INVALID_DATE_TIME_RANGE"
    APPRAISAL_BILLING_OUT_DATED = "APPRAISAL_BILLING_OUT_DATED"
    AWS_MARKETPLACE_ACCESS_NOT_AVAILABLE = "AWS_MARKETPLACE_ACCESS_NOT_AVAILABLE"
    TEAM_NOT_BILLED_THROUGH_AWS_MARKETPLACE = "TEAM_NOT_BILLED_THROUGH_AWS_MARKETPLACE"


@attrs.frozen
class ErrorBody:
    """The API's Error response body, as :attr:`~pixop_async.errors.APIStatusError.error_body`
    carries it when an error response has this exact shape."""

    timestamp: dt.datetime
    request_id: uuid.UUID
    request_path: str
    error_code: str
    message: str
    status_code: int
    error_code_enum: ErrorCode | None = None
    validation_errors: list[ValidationError] | None = None
    error_details: Any = None

"""The exception tree of pixop_async and the one factory that maps API error bodies onto it.

Every exception raised on purpose by this package is a :class:`PixopError`. Exception texts
never carry credentials: they are built only from status codes, error codes, request ids,
paths and the server's human-readable message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models.common import ErrorBody, ErrorCode

#: An error body larger than this is not parsed as JSON (an HTML error page, say).
MAX_ERROR_BODY_PARSE = 256 * 1024
#: Messages taken from a non-JSON body are cut to this many characters.
MAX_FALLBACK_MESSAGE = 200
#: A server message longer than this is cut (the raw body stays in ``APIStatusError.body``).
MAX_MESSAGE = 2000
#: Longer "error codes" are not codes: kept cut as text, never made an ``ErrorCode``.
MAX_ERROR_CODE = 200


class PixopError(Exception):
    """Root of every error raised by pixop_async."""


class InvalidRequestError(PixopError, ValueError):
    """A request failed client-side validation; nothing was sent.

    ``field`` names the offending parameter (using the SDK's argument name) and ``rule``
    states the constraint it broke.
    """

    def __init__(self, field: str, rule: str, *, value_repr: str | None = None) -> None:
        self.field = field
        self.rule = rule
        text = f"{field}: {rule}"
        if value_repr is not None:
            text += f" (got {value_repr})"
        super().__init__(text)


class ClientClosedError(PixopError, RuntimeError):
    """The client was used after it was closed."""


class MissingCredentialsError(PixopError):
    """An operation needs credentials that were not given to the client."""


class APIConnectionError(PixopError):
    """The request could not be completed at the transport level (DNS, refused, reset)."""

    def __init__(self, message: str, *, attempts: int = 1, request_sent: bool = False) -> None:
        self.attempts = attempts
        self.request_sent = request_sent
        super().__init__(f"{message} (after {attempts} attempt{'s' if attempts != 1 else ''})")


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class CrossOriginBodyError(APIConnectionError):
    """A redirect would have re-sent the request body to another origin; refused."""


class APIStatusError(PixopError):
    """The API answered with an error status.

    Attributes mirror the API's Error body: ``error_code`` is a free-form string (new codes
    appear over time), ``error_code_enum`` the same code as an
    :class:`~pixop_async.models.ErrorCode` (``.known`` is False for a code newer than this
    SDK), ``timestamp`` when the server failed the request, ``validation_errors`` a list of
    ``{field, value, message}`` dicts and ``body`` the raw (possibly truncated) response
    body. ``error_body`` is the whole body decoded as
    :class:`~pixop_async.models.ErrorBody` when it has that exact shape, else None (an
    error page from a proxy, say); the other attributes are read leniently either way.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_code: str | None = None,
        request_id: str | None = None,
        request_path: str | None = None,
        validation_errors: list[dict[str, Any]] | None = None,
        error_details: Any = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        attempts: int = 1,
        error_code_enum: ErrorCode | None = None,
        timestamp: dt.datetime | None = None,
        error_body: ErrorBody | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.error_code = error_code
        self.error_code_enum = error_code_enum
        self.timestamp = timestamp
        self.error_body = error_body
        self.request_id = request_id
        self.request_path = request_path
        self.validation_errors = validation_errors or []
        self.error_details = error_details
        self.body = body
        self.headers: Mapping[str, str] = dict(headers or {})
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"HTTP {self.status}"]
        if self.error_code:
            parts.append(self.error_code)
        text = " ".join(parts) + f": {self.message}"
        if self.validation_errors:
            fields = ", ".join(
                f"{v.get('field')}: {v.get('message')}" for v in self.validation_errors[:5]
            )
            text += f" [{fields}]"
        if self.request_path:
            text += f" (path {self.request_path}"
            text += f", request {self.request_id})" if self.request_id else ")"
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        return text


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing, unknown or expired credentials."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409: the resource is not in a state that allows the operation."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429. ``retry_after`` is the server's advised wait in seconds, when it gave one."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(APIStatusError):
    """HTTP 5xx."""


class InvalidResponseError(PixopError):
    """A successful response whose body is not the JSON shape the API documents."""

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"") -> None:
        self.status = status
        self.body = body
        super().__init__(message)


class TransferError(PixopError):
    """A download or upload failed; nothing partial was left at the final path."""


class LocalFileError(TransferError, OSError):
    """Reading or writing the local file of a transfer failed (disk full, permissions...).

    It is also an :class:`OSError` carrying the original ``errno``, so ``errno.ENOSPC``
    checks keep working; ``path`` names the file concerned.
    """

    def __init__(self, error: OSError, path: str) -> None:
        OSError.__init__(self, error.errno, error.strerror or str(error))
        self.path = path

    def __str__(self) -> str:
        reason = self.strerror or "I/O error"
        return f"local file {self.path}: {reason} (errno {self.errno})"


class EncodedBodyError(TransferError):
    """A download answer carried a ``Content-Encoding`` other than ``identity``."""


class PathBusyError(TransferError):
    """Another download (in this process or another one) is writing to the same file."""


class PathSwappedError(TransferError):
    """The temp file or its directory was replaced behind our back; nothing was published."""


class TransferStalledError(TransferError):
    """A transfer moved less than its low-speed limit for too long; nothing was published."""


class TransferTimeoutError(TransferError):
    """A transfer did not finish within its overall deadline; nothing was published."""


class ChecksumMismatchError(TransferError):
    """The CRC32C of the bytes received differs from the expected one."""

    def __init__(self, message: str, *, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"{message}: expected CRC32C {expected:#010x}, got {actual:#010x}")


class PollTimeoutError(PixopError, TimeoutError):
    """A poller gave up waiting; ``last_state`` is the last state it saw."""

    def __init__(self, message: str, *, last_state: Any = None) -> None:
        self.last_state = last_state
        super().__init__(message)


class OperationFailedError(PixopError):
    """A long-running operation (import, ingestion, processing, export) ended in failure.

    ``state`` is the final state object with the server's failure details.
    """

    def __init__(self, message: str, *, state: Any = None, error_code: str | None = None) -> None:
        self.state = state
        self.error_code = error_code
        super().__init__(message)


class WebhookSignatureError(PixopError):
    """A webhook delivery's signature is missing, malformed, stale or does not verify."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return ServerError
    return APIStatusError


def _fallback_message(status: int, body: bytes) -> str:
    text = body[:MAX_FALLBACK_MESSAGE].decode("utf-8", "replace").strip()
    looks_like_markup = text.startswith("<")
    if not text or looks_like_markup:
        return f"HTTP {status} with a non-JSON body of {len(body)} bytes"
    return " ".join(text.split())


def _scalar(value: Any) -> bool:
    """Whether a body field is a usable text or number (not null, a list or an object)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""


def _cut(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_error_body(body: bytes) -> dict[str, Any] | None:
    if not body or len(body) > MAX_ERROR_BODY_PARSE:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        return None
    return parsed if isinstance(parsed, dict) else None


def _typed_parts(data: dict[str, Any], code: Any) -> dict[str, Any]:
    """``error_code_enum``, ``timestamp`` and ``error_body`` of a parsed error body; each is
    None when the body does not hold it in a usable form."""
    from .models.common import ErrorBody, ErrorCode
    from .models.converter import parse_datetime, structure

    parts: dict[str, Any] = {"error_code_enum": None, "timestamp": None, "error_body": None}
    raw_enum = next(
        (c for c in (data.get("errorCodeEnum"), code) if isinstance(c, str) and c.strip()), None
    )
    if raw_enum is not None and len(raw_enum) <= MAX_ERROR_CODE:
        parts["error_code_enum"] = ErrorCode(raw_enum)
    raw_time = data.get("timestamp")
    if isinstance(raw_time, str):
        with contextlib.suppress(ValueError):
            parts["timestamp"] = parse_datetime(raw_time)
    with contextlib.suppress(Exception):  # any shape that is not the documented Error body
        parts["error_body"] = structure(data, ErrorBody)
    return parts


def error_from_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    path: str | None = None,
    attempts: int = 1,
    retry_after: float | None = None,
) -> APIStatusError:
    """Build the typed error for an error response; never raises while doing so."""
    cls = status_error_class(status)
    data = _parse_error_body(body)
    kwargs: dict[str, Any] = {
        "body": body,
        "headers": headers,
        "attempts": attempts,
        "request_path": path,
    }
    if data is not None:
        message = _cut(str(data.get("message") or data.get("error") or f"HTTP {status}"))
        code = next(
            (
                c
                for c in (data.get("errorCode"), data.get("errorCodeEnum"), data.get("code"))
                if _scalar(c)
            ),
            None,
        )
        kwargs["error_code"] = _cut(str(code), MAX_ERROR_CODE) if code is not None else None
        request_id = data.get("requestId")
        kwargs["request_id"] = _cut(str(request_id), 100) if _scalar(request_id) else None
        request_path = data.get("requestPath")
        kwargs["request_path"] = (
            _cut(str(request_path), 2000) if _scalar(request_path) else path
        ) or None
        raw_validation = data.get("validationErrors")
        if isinstance(raw_validation, list):
            kwargs["validation_errors"] = [v for v in raw_validation if isinstance(v, dict)]
        kwargs["error_details"] = data.get("errorDetails")
        kwargs.update(_typed_parts(data, code))
    else:
        message = _fallback_message(status, body)
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after
    return cls(status, message, **kwargs)


class UnknownEnumValueWarning(UserWarning):
    """A request carries an enum value this SDK version does not know, passed on purpose
    (``SomeEnum("NEW_VALUE")``); it is sent unchecked and the server has the last word."""


def transport_reason(exc: BaseException) -> str | None:
    """The operating system's reason behind a connection error ("Connection refused"), from
    the exception's cause chain; only the errno's standard text, never addresses or headers."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        os_error = getattr(current, "os_error", None)
        for candidate in (os_error, current):
            if isinstance(candidate, OSError) and candidate.errno:
                return os.strerror(candidate.errno)
        current = current.__cause__ or current.__context__
    return None

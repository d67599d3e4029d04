"""The error factory maps any error response onto the right class without crashing."""

from __future__ import annotations

import json

import pytest

from pixop_async import errors
from pixop_async.errors import error_from_response


def _body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (418, errors.APIStatusError),
    ],
)
def test_status_classes(status: int, cls: type[errors.APIStatusError]) -> None:
    error = error_from_response(status, b"")
    assert type(error) is cls
    assert error.status == status
    assert isinstance(error, errors.PixopError)


def test_fields_from_error_body() -> None:
    body = _body(
        timestamp="2024-01-01T00:00:00Z",
        requestId="6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1",
        requestPath="/api/v1/projects",
        errorCode="VALIDATION_ERROR",
        message="Validation failed",
        statusCode=400,
        validationErrors=[{"field": "name", "value": "", "message": "size must be 1-47"}],
    )
    error = error_from_response(400, body)
    assert error.error_code == "VALIDATION_ERROR"
    assert error.request_id == "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"
    assert error.request_path == "/api/v1/projects"
    assert error.validation_errors[0]["field"] == "name"
    assert "name: size must be 1-47" in str(error)
    assert error.body == body


def test_unknown_error_code_is_kept_as_text() -> None:
    error = error_from_response(409, _body(errorCode="BRAND_NEW_CODE", message="m"))
    assert isinstance(error, errors.ConflictError)
    assert error.error_code == "BRAND_NEW_CODE"


def test_html_502_page_gives_short_message() -> None:
    page = b"<html><body>" + b"x" * 100_000 + b"</body></html>"
    error = error_from_response(502, page, path="/api/v1/account")
    assert isinstance(error, errors.ServerError)
    assert len(str(error)) < 300
    assert "non-JSON" in error.message


def test_huge_json_body_is_not_parsed() -> None:
    big = _body(message="m" * (errors.MAX_ERROR_BODY_PARSE + 10))
    error = error_from_response(500, big)
    assert isinstance(error, errors.ServerError)
    assert len(error.message) <= errors.MAX_FALLBACK_MESSAGE


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b"\xff\xfe", b"null", b'"text"'])
def test_malformed_bodies_never_crash(body: bytes) -> None:
    error = error_from_response(400, body)
    assert isinstance(error, errors.BadRequestError)


def test_rate_limit_error_carries_retry_after() -> None:
    error = error_from_response(429, b"{}", retry_after=12.0)
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 12.0


def test_attempts_are_reported() -> None:
    assert "after 3 attempts" in str(error_from_response(503, b"", attempts=3))


def test_invalid_request_error_is_value_error() -> None:
    error = errors.InvalidRequestError("name", "length must be between 1 and 47 characters")
    assert isinstance(error, ValueError)
    assert error.field == "name"
    assert str(error).startswith("name: length")


def test_error_code_enum_timestamp_and_typed_body() -> None:
    from pixop_async.models import ErrorBody, ErrorCode

    body = _body(
        timestamp="2026-11-29T10:00:00.123Z",
        requestId="7f6c2b1e-4a8d-4c3e-9b7a-1d2e3f4a5b6c",
        requestPath="/api/v1/videos",
        errorCode="TEAM_NOT_FOUND",
        errorCodeEnum="TEAM_NOT_FOUND",
        message="no team",
        statusCode=404,
    )
    error = error_from_response(404, body)
    assert error.error_code_enum is ErrorCode.TEAM_NOT_FOUND
    assert error.timestamp is not None and error.timestamp.year == 2026
    assert isinstance(error.error_body, ErrorBody)
    assert error.error_body.status_code == 404 and error.error_body.request_path == "/api/v1/videos"


def test_new_error_code_and_odd_bodies_stay_lenient() -> None:
    error = error_from_response(409, _body(errorCode="BRAND_NEW_CODE", timestamp="yesterday"))
    assert error.error_code_enum is not None and error.error_code_enum.value == "BRAND_NEW_CODE"
    assert not error.error_code_enum.known
    assert error.timestamp is None and error.error_body is None  # not the documented shape
    assert error_from_response(500, b"<html>").error_code_enum is None


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000,  # nesting deep enough to exhaust the JSON parser's recursion
        b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"validationErrors": [' + b"{" * 50_000 + b"}",
    ],
)
def test_absurdly_nested_bodies_never_crash(body: bytes) -> None:
    error = error_from_response(400, body, path="/api/v1/videos")
    assert isinstance(error, errors.BadRequestError)
    assert error.request_path == "/api/v1/videos"
    assert len(str(error)) < 400


def test_non_text_error_code_enum_falls_back_to_error_code() -> None:
    from pixop_async.models import ErrorCode

    error = error_from_response(404, _body(errorCode="TEAM_NOT_FOUND", errorCodeEnum=17))
    assert error.error_code == "TEAM_NOT_FOUND"
    assert error.error_code_enum is ErrorCode.TEAM_NOT_FOUND
    nested = error_from_response(400, _body(errorCode={"a": [1]}, errorCodeEnum=["X"]))
    assert nested.error_code is None and nested.error_code_enum is None


def test_oversized_and_nested_fields_are_cut_or_dropped() -> None:
    error = error_from_response(
        400,
        _body(
            message="m" * 100_000,
            errorCode="C" * 5000,
            requestId={"nested": "junk"},
            requestPath=["x"],
            validationErrors=[{"field": "f", "message": "bad"}] * 2000 + [1, None, "x"],
        ),
        path="/api/v1/projects",
    )
    assert len(error.message) <= errors.MAX_MESSAGE
    assert error.error_code is not None and len(error.error_code) <= errors.MAX_ERROR_CODE
    assert error.error_code_enum is None  # 5000 characters are not an error code
    assert error.request_id is None and error.request_path == "/api/v1/projects"
    assert len(error.validation_errors) == 2000  # the dicts are kept, the junk dropped
    assert len(str(error)) < errors.MAX_MESSAGE + errors.MAX_ERROR_CODE + 300

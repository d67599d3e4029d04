"""Legacy error bodies map onto typed errors; HAL pages parse and links stay on origin."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pixop_async import errors
from pixop_async.legacy import errors as legacy_errors
from pixop_async.legacy.errors import translate
from pixop_async.legacy.media import media_info
from pixop_async.legacy.pagination import HalPaginator, parse_hal_page, resolve_link
from pixop_async.models.legacy import LegacyProject

ORIGIN = "https://staging-api.pixop.com/videos/v1/projects?page=0&page-size=2"


def status_error(status: int, body: Any) -> errors.APIStatusError:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return errors.error_from_response(status, raw, {}, path="/videos/v1/projects")


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("InvalidJWTTokenFoundException", legacy_errors.InvalidJWTTokenError),
        ("NoJWTTokenFoundException", legacy_errors.NoJWTTokenError),
        ("ExpiredJWTTokenException", legacy_errors.ExpiredJWTTokenError),
        ("PrematureJWTTokenException", legacy_errors.PrematureJWTTokenError),
        ("UserBannedException", legacy_errors.UserBannedError),
        ("EternalJWTTokenException", legacy_errors.EternalJWTTokenError),
        ("InconsistentJWTClaimsException", legacy_errors.InconsistentJWTClaimsError),
        ("AuthException", legacy_errors.LegacyAuthServiceError),
    ],
)
def test_every_documented_exception_has_its_class(name: str, cls: type[Exception]) -> None:
    mapped = translate(status_error(401, {"exception": name, "errorMessage": "why"}))
    assert type(mapped) is cls
    assert isinstance(mapped, errors.AuthenticationError)
    assert mapped.error_code == name
    assert "why" in str(mapped)
    assert mapped.request_path == "/videos/v1/projects"


def test_banned_message_says_so() -> None:
    mapped = translate(status_error(403, {"exception": "UserBannedException", "errorMessage": "x"}))
    assert "banned" in str(mapped)
    assert mapped.status == 403


def test_unknown_exception_keeps_the_status_class() -> None:
    body = {"exception": "ProjectNotEmptyException", "errorMessage": "has videos"}
    mapped = translate(status_error(409, body))
    assert type(mapped) is errors.ConflictError
    assert mapped.error_code == "ProjectNotEmptyException"
    assert mapped.message == "has videos"


def test_non_legacy_bodies_pass_through() -> None:
    original = status_error(502, b"<html>bad gateway</html>")
    assert translate(original) is original


def test_parse_hal_page() -> None:
    data = {
        "page": "1",
        "pageSize": 2,
        "_links": {"next": {"href": "/videos/v1/projects?page=2"}, "self": {}, "bad": 3},
        "_embedded": {
            "projects": [
                {"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "name": "a", "_links": {}},
                "junk",
            ]
        },
    }
    page = parse_hal_page(data, "projects", LegacyProject)
    assert page.page == 1 and page.page_size == 2
    assert [p.name for p in page.items] == ["a"]
    assert page.links == {"next": "/videos/v1/projects?page=2"}
    empty = parse_hal_page({"page": 0}, "projects", LegacyProject)
    assert empty.items == [] and empty.next_href is None


def test_links_resolve_relative_and_refuse_other_origins() -> None:
    assert resolve_link("/videos/v1/projects?page=1", current=ORIGIN, origin=ORIGIN) == (
        "https://staging-api.pixop.com/videos/v1/projects?page=1"
    )
    for hostile in ("https://evil.example/steal", "http://staging-api.pixop.com/x"):
        with pytest.raises(legacy_errors.UnsafeLinkError):
            resolve_link(hostile, current=ORIGIN, origin=ORIGIN)


def _page(n: int, next_href: str | None) -> dict[str, Any]:
    links = {"next": {"href": next_href}} if next_href else {}
    item = {"id": f"00000000-0000-0000-0000-{n:012d}", "name": f"p{n}"}
    return {"page": n, "pageSize": 1, "_links": links, "_embedded": {"projects": [item]}}


async def test_paginator_follows_next_and_stops_on_a_loop() -> None:
    base = "https://h.test/videos/v1/projects"
    pages = {
        f"{base}?page=0": _page(0, "?page=1"),
        f"{base}?page=1": _page(1, f"{base}?page=2"),
        f"{base}?page=2": _page(2, f"{base}?page=0"),  # a loop back to the start
    }
    fetched: list[str] = []

    async def fetch(url: str) -> Any:
        fetched.append(url)
        return pages[url]

    paginator = HalPaginator(fetch, f"{base}?page=0", key="projects", cls=LegacyProject)
    assert [p.name for p in await paginator.to_list()] == ["p0", "p1", "p2"]
    assert fetched == list(pages)
    first = await paginator
    assert [p.name for p in first.items] == ["p0"]
    assert [p.name for p in await paginator.to_list(limit=2)] == ["p0", "p1"]


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="clip.mov"', "clip.mov"),
        ("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "passwd"),
        ('attachment; filename="C:\\\\Windows\\\\evil.exe"', "evil.exe"),
        ('attachment; filename="..\x07bell.mp4"', "_bell.mp4"),
        ('attachment; filename=".."', "download"),
        ("attachment", None),
        (None, None),
    ],
)
def test_media_info_sanitises_the_offered_name(
    disposition: str | None, expected: str | None
) -> None:
    headers = {"content-length": "42", "Etag": '"abc"', "Content-Type": "video/mp4"}
    if disposition is not None:
        headers["Content-Disposition"] = disposition
    info = media_info(headers)
    assert info.file_name == expected
    assert (info.size, info.etag, info.content_type) == (42, '"abc"', "video/mp4")


def test_media_info_without_length() -> None:
    assert media_info({}).size is None

"""The import URL rules, checked before any request (shared with the emulator)."""

from __future__ import annotations

import pytest

from pixop_async.errors import InvalidRequestError
from pixop_async.import_url import (
    check_import_url,
    check_resolved,
    is_loopback_http,
    url_problem,
)

ACCEPTED = [
    "https://cdn.example.com/videos/film.mp4",
    "https://cdn.example.com:443/film.mp4?X-Amz-Signature=abc",
    "HTTPS://Example.COM/a.mov",
    "https://8.8.8.8/film.mp4",
    "https://[2001:4860:4860::8888]/film.mp4",
    "https://172.32.0.1/just-outside-rfc1918.mp4",
]

REFUSED = [
    ("http://cdn.example.com/film.mp4", "https scheme"),
    ("ftp://cdn.example.com/film.mp4", "https scheme"),
    ("https://cdn.example.com:8443/film.mp4", "port 443"),
    ("https://cdn.example.com:80/film.mp4", "port 443"),
    ("https://cdn.example.com:99999/film.mp4", "not a valid URL"),
    ("https:///film.mp4", "name a host"),
    ("https://localhost/film.mp4", "loopback"),
    ("https://127.0.0.1/film.mp4", "loopback"),
    ("https://127.8.9.10/film.mp4", "loopback"),
    ("https://[::1]/film.mp4", "loopback"),
    ("https://[::ffff:127.0.0.1]/film.mp4", "loopback"),
    ("https://10.1.2.3/film.mp4", "private"),
    ("https://172.16.0.1/film.mp4", "private"),
    ("https://172.31.255.255/film.mp4", "private"),
    ("https://192.168.1.1/film.mp4", "private"),
    ("https://[fd12:3456::1]/film.mp4", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[fe80::1]/film.mp4", "link-local"),
    ("https://224.0.0.1/film.mp4", "multicast"),
    ("https://239.255.255.250/film.mp4", "multicast"),
    ("https://[ff02::1]/film.mp4", "multicast"),
    ("https://0.0.0.0/film.mp4", "unspecified"),
    ("https://example.com/has space.mp4", "whitespace"),
    ("", "length"),
    ("https://example.com/" + "a" * 4100, "length"),
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_public_https_urls_pass(url: str) -> None:
    assert url_problem(url) is None
    assert check_import_url(url) == url


@pytest.mark.parametrize(("url", "rule"), REFUSED)
def test_refused_urls_name_the_rule(url: str, rule: str) -> None:
    problem = url_problem(url)
    assert problem is not None and rule in problem
    with pytest.raises(InvalidRequestError) as refused:
        check_import_url(url)
    assert refused.value.field == "url"
    assert rule in str(refused.value)


def test_non_string_is_refused() -> None:
    assert url_problem(None) == "must be a string"


def test_secret_query_strings_stay_out_of_errors() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        check_import_url("http://cdn.example.com/film.mp4?X-Amz-Signature=topsecret")
    assert "topsecret" not in str(refused.value)


def test_loopback_http_only_with_the_test_option() -> None:
    url = "http://127.0.0.1:8123/source.mp4"
    assert is_loopback_http(url)
    assert url_problem(url) is not None
    assert url_problem(url, allow_loopback_http=True) is None
    # The option is narrow: other local addresses stay refused.
    assert url_problem("http://10.0.0.1/a.mp4", allow_loopback_http=True) is not None
    assert url_problem("http://localhost:8123/a.mp4", allow_loopback_http=True) is not None


async def test_resolved_addresses_are_checked() -> None:
    async def internal(host: str) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]

    async def public(host: str) -> list[str]:
        return ["93.184.216.34", "2606:2800:220:1::248"]

    async def nothing(host: str) -> list[str]:
        raise OSError(-2, "Name or service not known")

    url = "https://media.example.com/film.mp4"
    with pytest.raises(InvalidRequestError, match="resolves to a private"):
        await check_resolved(url, resolve=internal)
    assert await check_resolved(url, resolve=public) == url
    with pytest.raises(InvalidRequestError, match="does not resolve"):
        await check_resolved(url, resolve=nothing)
    # Literal addresses need no resolver and keep their literal check.
    with pytest.raises(InvalidRequestError, match="loopback"):
        await check_resolved("https://127.0.0.1/a.mp4", resolve=public)

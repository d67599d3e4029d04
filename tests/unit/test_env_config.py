"""``Pixop()`` and ``PixopLegacy()`` configured from the environment; the package logger."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pixop_async import DEFAULT_BASE_URL, LEGACY_STAGING_BASE_URL, Pixop, PixopLegacy
from pixop_async._logging import level_from_env
from pixop_async.errors import InvalidRequestError, MissingCredentialsError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("PIXOP_API_KEY", "PIXOP_BASE_URL", "PIXOP_LEGACY_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_key_and_url_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PIXOP_API_KEY", "pxk_from_env_0123456789")
    clean_env.setenv("PIXOP_BASE_URL", "http://127.0.0.1:9/api/")
    px = Pixop()
    assert px.base_url == "http://127.0.0.1:9/api"
    assert px._api_key_auth is not None
    assert px._api_key_auth._api_key == "pxk_from_env_0123456789"
    assert "pxk_from_env_0123456789" not in repr(px)


def test_explicit_arguments_win_over_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PIXOP_API_KEY", "pxk_from_env_0123456789")
    clean_env.setenv("PIXOP_BASE_URL", "http://127.0.0.1:9/api")
    px = Pixop("pxk_explicit_0123456789", base_url="http://127.0.0.1:10/api")
    assert px.base_url == "http://127.0.0.1:10/api"
    assert px._api_key_auth is not None
    assert px._api_key_auth._api_key == "pxk_explicit_0123456789"


def test_default_base_url_is_production(clean_env: pytest.MonkeyPatch) -> None:
    assert Pixop("pxk_0123456789abcdef").base_url == DEFAULT_BASE_URL
    clean_env.setenv("PIXOP_BASE_URL", "")
    assert Pixop("pxk_0123456789abcdef").base_url == DEFAULT_BASE_URL


def test_no_key_fails_at_construction_naming_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingCredentialsError, match="PIXOP_API_KEY"):
        Pixop()
    clean_env.setenv("PIXOP_API_KEY", "")
    with pytest.raises(MissingCredentialsError, match="api_key="):
        Pixop(base_url="http://127.0.0.1:9/api")


def test_keyless_clients_on_purpose(clean_env: pytest.MonkeyPatch) -> None:
    assert Pixop(require_api_key=False)._api_key_auth is None
    # API-key management only needs e-mail and password (HTTP Basic).
    assert Pixop(email="a@example.com", password="pw")._api_key_auth is None


def test_legacy_default_is_the_documented_staging_host(clean_env: pytest.MonkeyPatch) -> None:
    legacy = PixopLegacy(email="a@example.com", password="pw")
    assert legacy.base_url == LEGACY_STAGING_BASE_URL == "https://staging-api.pixop.com"
    clean_env.setenv("PIXOP_LEGACY_BASE_URL", "http://127.0.0.1:9/")
    assert PixopLegacy(email="a@example.com", password="pw").base_url == "http://127.0.0.1:9"
    explicit = PixopLegacy(email="a@example.com", password="pw", base_url="http://127.0.0.1:8")
    assert explicit.base_url == "http://127.0.0.1:8"


def test_package_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("pixop_async").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_log_level_values() -> None:
    assert level_from_env(None) is None
    assert level_from_env(" ") is None
    assert level_from_env("DEBUG") == logging.DEBUG
    assert level_from_env("info") == logging.INFO
    with pytest.raises(ValueError, match="PIXOP_LOG must be one of debug, info"):
        level_from_env("loud")


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "PIXOP_LOG"}
    full.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60
    )


LOG_BOTH = (
    "import logging, pixop_async; "
    "logging.getLogger('pixop_async.http').debug('debug-line'); "
    "logging.getLogger('pixop_async.http').info('info-line')"
)


def test_pixop_log_switch_prints_to_stderr() -> None:
    assert _run(LOG_BOTH).stderr == ""
    debug = _run(LOG_BOTH, PIXOP_LOG="debug").stderr
    assert "DEBUG pixop_async.http: debug-line" in debug
    assert "INFO pixop_async.http: info-line" in debug
    info = _run(LOG_BOTH, PIXOP_LOG="info").stderr
    assert "debug-line" not in info
    assert "info-line" in info
    bad = _run(LOG_BOTH, PIXOP_LOG="loud").stderr
    assert "PIXOP_LOG must be one of" in bad
    assert "debug-line" not in bad


# -- breaker fixes: bad settings fail at construction, naming their source, never echoed --


def test_key_file_newline_is_stripped_from_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    # a key read from a file (Docker/Kubernetes secrets) ends with a newline; it used to
    # pass construction and fail at the first call with aiohttp's "header injection" error
    clean_env.setenv("PIXOP_API_KEY", " pxk_from_file_0123456789\n")
    px = Pixop()
    assert px._api_key_auth is not None
    assert px._api_key_auth._api_key == "pxk_from_file_0123456789"
    clean_env.setenv("PIXOP_API_KEY", " \n")
    with pytest.raises(MissingCredentialsError):
        Pixop()


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("pxk_in\nside_SECRET", "api_key"),
        ("pxk_trailing_SECRET\n", "api_key"),
        (" pxk_leading_SECRET", "api_key"),
        ("pxk_tab\tSECRET", "api_key"),
    ],
)
def test_keys_with_whitespace_or_controls_are_refused(
    clean_env: pytest.MonkeyPatch, key: str, field: str
) -> None:
    with pytest.raises(InvalidRequestError, match="must not contain whitespace") as err:
        Pixop(key)
    assert err.value.field == field and "SECRET" not in str(err.value)
    clean_env.setenv("PIXOP_API_KEY", "pxk_var\x1bSECRET")
    with pytest.raises(InvalidRequestError, match="whitespace or control") as err:
        Pixop()
    assert err.value.field == "PIXOP_API_KEY" and "SECRET" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("ftp://api.example.com/api", "must be an http:// or https:// URL"),
        ("api.pixop.com/api", "must be an http:// or https:// URL"),
        ("https:///api", "must be an http:// or https:// URL"),
        ("https://user:SECRET@api.pixop.com/api", "must not hold credentials"),
        ("https://api.pixop.com/api?key=SECRET", "must not have a query"),
        ("https://api.pixop.com/api#x", "must not have a query or a fragment"),
        ("https://api.pixop.com:99999/api", "is not a valid URL"),
    ],
)
def test_bad_base_urls_fail_at_construction(
    clean_env: pytest.MonkeyPatch, url: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError, match=rule) as err:
        Pixop("pxk_0123456789abcdef", base_url=url)
    assert err.value.field == "base_url" and "SECRET" not in str(err.value)
    clean_env.setenv("PIXOP_BASE_URL", url)
    with pytest.raises(InvalidRequestError, match=rule) as err:
        Pixop("pxk_0123456789abcdef")
    assert err.value.field == "PIXOP_BASE_URL"
    clean_env.setenv("PIXOP_LEGACY_BASE_URL", url)
    with pytest.raises(InvalidRequestError, match=rule) as err:
        PixopLegacy(email="a@example.com", password="pw")
    assert err.value.field == "PIXOP_LEGACY_BASE_URL"

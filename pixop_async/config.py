"""Client configuration: endpoints, timeouts, connection limits and the retry policy."""

from __future__ import annotations

from typing import Any

import attrs

from ._proxy import safe_proxy, split_proxy
from .retry import RetryPolicy

#: Environment variables read by ``Pixop()`` when the matching argument is not given.
API_KEY_ENV = "PIXOP_API_KEY"
BASE_URL_ENV = "PIXOP_BASE_URL"

DEFAULT_BASE_URL = "https://api.pixop.com/api"
STAGING_BASE_URL = "https://staging-api.pixop.com/api"
#: The legacy v1 services' root. Pixop's v1 documentation gives only the staging host
#: (``https://staging-api.pixop.com/{accounts,videos,media}``) and no production one, so the
#: default stays on the documented host; pass ``base_url=`` (or set ``PIXOP_LEGACY_BASE_URL``)
#: for any other. It is named as staging so nobody mistakes it for production.
LEGACY_STAGING_BASE_URL = "https://staging-api.pixop.com"
DEFAULT_LEGACY_BASE_URL = LEGACY_STAGING_BASE_URL
LEGACY_BASE_URL_ENV = "PIXOP_LEGACY_BASE_URL"


def _optional_positive(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"ClientConfig.{attribute.name} must be > 0 seconds or None")


def _proxy_url(_instance: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"ClientConfig.proxy must be a str URL or None, not {type(value).__name__}")
    try:
        split_proxy(value)
    except ValueError as exc:
        raise ValueError(f"ClientConfig.{exc}") from None


@attrs.frozen
class ClientConfig:
    """Settings for one client's HTTP session.

    ``connection_limit`` and ``connection_limit_per_host`` size the aiohttp connector; the
    transfer engine's connection limits should not exceed them. Timeouts are in seconds
    (``None`` disables one). ``verify_ssl=False`` turns TLS verification off and logs a
    warning; it exists for test rigs only.

    Proxies: ``proxy="http://[user:password@]host:port"`` sends every request of the client
    (API calls and transfers) through that proxy. Without it, and with ``trust_env=True``
    (the default), ``HTTPS_PROXY``/``HTTP_PROXY`` are used for the matching URLs except the
    hosts ``NO_PROXY`` lists. A proxy's password never appears in reprs, logs or errors.
    """

    connect_timeout: float | None = 10.0
    read_timeout: float | None = 60.0
    total_timeout: float | None = None
    connection_limit: int = attrs.field(default=64, validator=attrs.validators.ge(1))
    connection_limit_per_host: int = attrs.field(default=32, validator=attrs.validators.ge(0))
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    verify_ssl: bool = True
    max_redirects: int = attrs.field(default=5, validator=attrs.validators.ge(0))
    #: Largest error body read into memory; the rest is discarded.
    max_error_body: int = 64 * 1024
    #: Largest success body of an API call; a larger one is an InvalidResponseError.
    max_response_body: int = attrs.field(default=64 * 1024 * 1024, validator=attrs.validators.ge(1))
    #: Bound of one whole API call (rate-budget wait, attempts, retry waits), in seconds;
    #: past it the call raises APITimeoutError. ``None``: no bound beyond the ones below.
    call_timeout: float | None = attrs.field(default=None, validator=_optional_positive)
    #: Stall rule of one API attempt: headers and the whole (small) JSON body must arrive
    #: within this many seconds, however slowly they drip; else the attempt is abandoned as
    #: a timed-out transport failure (retried when the method allows).
    attempt_timeout: float | None = attrs.field(default=120.0, validator=_optional_positive)
    #: Largest ``X-RateLimit-Reset`` believed, in seconds (Pixop's windows are a minute).
    max_rate_limit_reset: float = attrs.field(default=120.0, validator=attrs.validators.gt(0))
    #: Proxy of every request, ``http://[user:password@]host:port`` (``None``: see
    #: ``trust_env``). aiohttp tunnels ``https://`` targets through it with CONNECT.
    proxy: str | None = attrs.field(
        default=None, validator=_proxy_url, repr=lambda v: repr(safe_proxy(v))
    )
    #: Read ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` when ``proxy`` is not set (only
    #: those: ``~/.netrc`` is never read).
    trust_env: bool = True

"""Proxy choice for one request: ``ClientConfig.proxy``, else ``HTTPS_PROXY``/``HTTP_PROXY``
minus ``NO_PROXY``.

aiohttp's own ``trust_env=True`` is not used: it also reads ``~/.netrc`` and adds those
credentials as an ``Authorization`` header to any host listed there — pre-signed storage
URLs included — and refuses a request that already has one (HTTP Basic calls). Here only
the proxy variables are read, through the standard library's parser. Proxy credentials
(``http://user:pass@proxy:3128``) are split off the URL and given to aiohttp separately so
the URL that can reach a log or a message never holds them.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping

import aiohttp
import attrs
from yarl import URL

log = logging.getLogger("pixop_async")


@attrs.frozen
class ProxyRoute:
    """Where one request goes: through ``url`` (no userinfo) with ``auth``, or direct."""

    url: URL | None = None
    auth: aiohttp.BasicAuth | None = attrs.field(default=None, repr=False)


DIRECT = ProxyRoute()


def split_proxy(value: str | URL) -> ProxyRoute:
    """A proxy URL as a :class:`ProxyRoute`; ``ValueError`` for one aiohttp cannot use."""
    try:
        url = URL(str(value))
    except ValueError:
        raise ValueError("proxy is not a valid URL") from None
    if url.scheme != "http" or not url.host:
        # aiohttp speaks to proxies in plain HTTP only (it tunnels https:// targets with
        # CONNECT); an https:// proxy URL would fail on every request
        raise ValueError(
            f"proxy must be an http://host[:port] URL (got scheme {url.scheme or 'none'!r})"
        )
    auth = None
    if url.user is not None:
        auth = aiohttp.BasicAuth(url.user, url.password or "")
    return ProxyRoute(url.with_user(None).with_path("").with_query(None), auth)


def safe_proxy(value: str | URL | None) -> str | None:
    """A proxy URL for reprs and messages: its password replaced by ``***``."""
    if value is None:
        return None
    try:
        url = URL(str(value))
    except ValueError:
        return "<invalid URL>"
    return str(url.with_password("***")) if url.password else str(url)


def env_proxies(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The proxy variables of ``environ`` (default: the process environment):
    ``{"http": ..., "https": ..., "no": ...}``, a lower-case name before its upper-case
    twin (curl's order), empty values ignored, and ``HTTP_PROXY`` ignored in a CGI request
    (``REQUEST_METHOD`` set: "httpoxy", a client-controlled ``Proxy:`` header).

    A proxy given without a scheme (``proxy.internal:3128``) is an ``http://`` proxy, as
    curl, requests and Go read it. One that cannot be used (``socks5://``, ``https://``)
    is dropped with a warning naming the variable, rather than silently going direct."""
    environ = os.environ if environ is None else environ
    found: dict[str, str] = {}
    for scheme in ("http", "https", "no"):
        for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
            value = environ.get(name, "").strip()
            if not value:
                continue
            if scheme != "no":
                if "://" not in value:
                    value = f"http://{value}"
                try:
                    split_proxy(value)
                except ValueError as exc:
                    log.warning("ignoring %s=%s: %s", name, safe_proxy(value), exc)
                    break
            found[scheme] = value
            break
    if "REQUEST_METHOD" in environ:
        found.pop("http", None)
    return found


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (``no_proxy``) exempts ``host``: ``*`` exempts every host;
    ``example.com``, ``.example.com`` and ``*.example.com`` exempt that host and its
    subdomains; an IP address or CIDR block (``10.0.0.0/8``) exempts the addresses in it;
    ``host:port`` only that port. Matching ignores case."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.startswith("["):  # [v6-address] or [v6-address]:port
            entry, _, rest = entry[1:].partition("]")
            if rest.startswith(":") and rest[1:].isdigit():
                entry_port = int(rest[1:])
        elif entry.count(":") == 1:
            name, _, port_text = entry.partition(":")
            if port_text.isdigit():
                entry, entry_port = name, int(port_text)
        if entry_port is not None and entry_port != port:
            continue
        entry = entry.removeprefix("*.").lstrip(".").rstrip(".")  # *.example.com as Go reads it
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == entry or host.endswith("." + entry):
            return True
    return False


def choose_route(url: URL, explicit: ProxyRoute | None, env: Mapping[str, str]) -> ProxyRoute:
    """The route of a request to ``url``: the explicit proxy for every request when one is
    configured; else the environment's proxy for the URL's scheme unless ``NO_PROXY``
    matches its host; else direct."""
    if explicit is not None:
        return explicit
    proxy = env.get(url.scheme)
    if not proxy or not url.host:
        return DIRECT
    if bypassed(url.host, url.port, env.get("no", "")):
        return DIRECT
    try:
        return split_proxy(proxy)
    except ValueError:
        return DIRECT  # an unusable variable is ignored, as curl and requests do

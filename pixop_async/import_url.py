"""The rules an import source URL must satisfy, checked before the request is sent.

Pixop only fetches from public HTTPS servers: the scheme must be ``https``, the port 443,
and the host must not be (or, with :func:`check_resolved`, resolve to) a loopback,
private (RFC 1918 / IPv6 unique-local), link-local, multicast or unspecified address.
:func:`url_problem` is pure and is shared with the emulator, which enforces the same rules.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import SplitResult, urlsplit

from .errors import InvalidRequestError

URL_MAX = 4096
HTTPS_PORT = 443

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")
)


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not a public address Pixop may fetch from (None if it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_problem(address.ipv4_mapped)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("0.0.0.0/8")
    ):
        return "unspecified"
    if any(address in network for network in _PRIVATE_NETWORKS):
        return "private (site-local)"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The IP address a URL host names literally (``[::1]`` or ``10.0.0.1``), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _split(url: str) -> SplitResult | str:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    return parts


def is_loopback_http(url: str) -> bool:
    """Whether ``url`` is a plain-HTTP URL on 127.0.0.1 (what a local emulator started with
    ``allow_http_sources`` accepts as an import source)."""
    parts = _split(url)
    return not isinstance(parts, str) and parts.scheme == "http" and parts.hostname == "127.0.0.1"


def url_problem(url: object, *, allow_loopback_http: bool = False) -> str | None:
    """The first rule ``url`` breaks, as a phrase, or None when it is acceptable.

    ``allow_loopback_http`` lets ``http://127.0.0.1`` URLs through (tests against a local
    emulator only; Pixop itself refuses them)."""
    if not isinstance(url, str):
        return "must be a string"
    if not 1 <= len(url) <= URL_MAX:
        return f"length must be between 1 and {URL_MAX} characters"
    if any(ch.isspace() for ch in url):
        return "must not contain whitespace"
    if allow_loopback_http and is_loopback_http(url):
        return None
    parts = _split(url)
    if isinstance(parts, str):
        return parts
    if parts.scheme.lower() != "https":
        return "must use the https scheme"
    host = parts.hostname
    if not host:
        return "must name a host"
    if parts.port is not None and parts.port != HTTPS_PORT:
        return f"must use port {HTTPS_PORT}"
    if host == "localhost" or host.endswith(".localhost"):
        return "must not name a loopback host"
    address = literal_address(host)
    if address is not None:
        problem = address_problem(address)
        if problem is not None:
            return f"must not point to a {problem} address"
    return None


def check_import_url(url: object, field: str = "url", *, allow_loopback_http: bool = False) -> str:
    """Return ``url`` if Pixop would accept it as an import source; raise
    :class:`~pixop_async.errors.InvalidRequestError` naming the broken rule otherwise."""
    problem = url_problem(url, allow_loopback_http=allow_loopback_http)
    if problem is not None:
        raise InvalidRequestError(field, problem)
    assert isinstance(url, str)
    return url


Resolver = Callable[[str], Awaitable[Iterable[str]]]


async def system_resolve(host: str) -> list[str]:
    """Addresses of ``host`` from the system resolver (off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, HTTPS_PORT, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def check_resolved(
    url: str, field: str = "url", *, resolve: Resolver = system_resolve
) -> str:
    """:func:`check_import_url`, then resolve the host and refuse it when any address it
    resolves to is non-public (what the server does on its side)."""
    check_import_url(url, field)
    host = urlsplit(url).hostname or ""
    if literal_address(host) is not None:
        return url
    try:
        addresses = list(await resolve(host))
    except OSError as exc:
        raise InvalidRequestError(field, f"host does not resolve ({exc.strerror or exc})") from None
    if not addresses:
        raise InvalidRequestError(field, "host does not resolve to any address")
    for text in addresses:
        address = literal_address(text)
        problem = address_problem(address) if address is not None else None
        if problem is not None:
            raise InvalidRequestError(field, f"host resolves to a {problem} address")
    return url

"""The URL to give a webhook subscription for a receiver bound to a local address.

A receiver bound to a wildcard address (``0.0.0.0``, ``::``) listens on every interface,
but ``http://0.0.0.0:8090/...`` is not an address anything can send to, and
``px.webhooks.create`` refuses it. On this machine the loopback address reaches the same
socket, and a local emulator started with ``allow_http_sources`` accepts it (create the
webhook with ``allow_loopback_http=True``). Real Pixop needs a public ``https://`` URL that
only your proxy or tunnel knows: use that one in production.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ..import_url import is_loopback_http

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}


def advertised_url(url: str) -> str:
    """``url`` with a wildcard bind host replaced by the loopback address; else unchanged."""
    parts = urlsplit(url)
    host = parts.hostname if parts.hostname is not None else ""
    if host not in _WILDCARDS:
        return url
    netloc = _WILDCARDS[host] if parts.port is None else f"{_WILDCARDS[host]}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def receiver_url_hint(url: object, *, allow_loopback_http: bool) -> str | None:
    """What to do instead when a refused webhook URL looks like a local receiver's:
    a wildcard bind address, or the loopback URL without ``allow_loopback_http``."""
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    if host in _WILDCARDS:
        return (
            "0.0.0.0 and :: are bind addresses nothing can send to: use the URL "
            "WebhookReceiver.serve() yields, or serve(public_url='https://...')"
        )
    if is_loopback_http(url) and not allow_loopback_http:
        return (
            "a local receiver's URL works only with a local emulator and "
            "allow_loopback_http=True; for Pixop give the public https URL that reaches "
            "it (WebhookReceiver.serve(public_url=...))"
        )
    return None

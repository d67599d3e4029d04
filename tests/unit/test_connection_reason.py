"""An unreachable API keeps the operating system's reason in the SDK's own error text."""

from __future__ import annotations

import socket

import pytest

import pixop_async as pixop
from pixop_async.errors import APIConnectionError


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


async def test_connection_refused_is_named_in_the_error() -> None:
    config = pixop.ClientConfig(retry=pixop.RetryPolicy(max_attempts=1))
    base = f"http://127.0.0.1:{_closed_port()}/api"
    async with pixop.Pixop(api_key="secret-key", base_url=base, config=config) as px:
        with pytest.raises(APIConnectionError) as info:
            await px.account.get()
    text = str(info.value)
    assert "connection refused" in text
    assert "secret-key" not in text

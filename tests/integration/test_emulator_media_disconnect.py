"""The emulator's media server when a client has gone mid-body (a split segment, a
cancelled download): asyncio's ``sendfile`` on the closing transport is reported as the
``ConnectionError`` the handler drops quietly, not as a server error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pixop_async.emulator.media import _sendfile


async def test_sendfile_on_a_closing_transport_is_a_connection_error(tmp_path: Path) -> None:
    async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    body = tmp_path / "body.bin"
    body.write_bytes(b"x" * 4096)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    try:
        with body.open("rb") as handle:
            await _sendfile(transport, handle, 0, 1024)  # an open transport sends
            transport.close()  # the peer is gone: asyncio would raise a bare RuntimeError
            with pytest.raises(ConnectionResetError):
                await _sendfile(transport, handle, 1024, 1024)
    finally:
        transport.close()
        server.close()
        await server.wait_closed()

"""A small real HTTP forward proxy on 127.0.0.1 for tests: absolute-form requests and
CONNECT tunnels, one request per client connection, counted and recorded.

``ForwardProxy(credentials="user:pass")`` answers 407 to a request without the matching
``Proxy-Authorization: Basic`` header. Request bodies are forwarded by ``Content-Length``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any

from yarl import URL


class ForwardProxy:
    """``async with ForwardProxy() as proxy:`` — ``proxy.url``, ``proxy.requests``."""

    def __init__(self, *, credentials: str | None = None) -> None:
        self.credentials = credentials
        #: (method, request target) of every request the proxy received
        self.requests: list[tuple[str, str]] = []
        #: the Proxy-Authorization header of every request (None when absent)
        self.proxy_auth: list[str | None] = []
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.url = ""

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = [line.split(":", 1) for line in lines[1:] if line]
        fields = {name.strip().lower(): value.strip() for name, value in headers}
        self.requests.append((method, target))
        self.proxy_auth.append(fields.get("proxy-authorization"))
        if self.credentials is not None:
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if fields.get("proxy-authorization") != expected:
                writer.write(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                await writer.drain()
                return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            return
        url = URL(target)
        assert url.is_absolute(), f"a forward proxy gets absolute-form targets, not {target}"
        body = b""
        if "content-length" in fields:
            body = await reader.readexactly(int(fields["content-length"]))
        kept = [
            f"{name.strip()}: {value.strip()}"
            for name, value in headers
            if not name.strip().lower().startswith("proxy-")
            and name.strip().lower() != "connection"
        ]
        request = "\r\n".join([f"{method} {url.raw_path_qs} HTTP/1.1", *kept, "Connection: close"])
        assert url.host is not None and url.port is not None
        up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
        up_writer.write(request.encode("latin-1") + b"\r\n\r\n" + body)
        await up_writer.drain()
        response_head = await up_reader.readuntil(b"\r\n\r\n")
        response_lines = [
            line
            for line in response_head.decode("latin-1").split("\r\n")
            if line and not line.lower().startswith("connection:")
        ]
        writer.write(("\r\n".join([*response_lines, "Connection: close"]) + "\r\n\r\n").encode())
        await _pipe(up_reader, writer)
        up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.write_eof()

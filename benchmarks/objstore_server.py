"""A far-object-store stand-in for the transfer benchmarks.

Serves the files under ``--root`` over HTTP/1.1 the way an object store behind a long link
behaves, with every knob on the command line:

- ``--rate BYTES``: every accepted TCP connection is paced by the kernel
  (``SO_MAX_PACING_RATE``), so a client gains nothing from many short requests on one
  connection and everything from more connections — unlike nginx's ``limit_rate``, which
  grants each response a one-second head start;
- ``--latency MS``: a first-byte delay on every request, paid before the status line;
- strong ETags, ``Range`` (one range per request), ``If-Range``, ``If-Match``,
  ``If-None-Match`` and ``HEAD``; bodies leave by ``sendfile``.

    python benchmarks/objstore_server.py --root /tmp/www --port 8081 --rate 26214400 --latency 30

Prints ``ready http://127.0.0.1:PORT`` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import os
import re
import socket
from pathlib import Path
from urllib.parse import unquote, urlsplit

SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)  # Linux value
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
REASONS = {
    200: "OK",
    206: "Partial Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    416: "Range Not Satisfiable",
}


def etag_of(stat: os.stat_result) -> str:
    return f'"{stat.st_ino:x}-{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def parse_range(value: str, size: int) -> tuple[int, int] | str | None:
    """``(start, end_inclusive)``, ``None`` for no usable range, ``"416"`` when unsatisfiable."""
    match = RANGE.match(value.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range
        length = int(last)
        if length == 0:
            return "416"
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return "416"
    return start, min(end, size - 1)


class Store:
    def __init__(self, root: Path, rate: int, latency: float) -> None:
        self.root = root.resolve()
        self.rate = rate
        self.latency = latency

    def resolve(self, target: str) -> Path | None:
        path = (self.root / unquote(urlsplit(target).path).lstrip("/")).resolve()
        if self.root not in path.parents or not path.is_file():
            return None
        return path

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if self.rate and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, self.rate)
        try:
            while await self.one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = ([*lines[0].split(" "), "", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        if self.latency:
            await asyncio.sleep(self.latency)
        keep = headers.get("connection", "").lower() != "close"
        if method not in ("GET", "HEAD"):
            await self.reply(writer, 405, {}, keep)
            return keep
        path = self.resolve(target)
        if path is None:
            await self.reply(writer, 404, {}, keep)
            return keep
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            await self.serve(writer, handle, stat, method, headers, keep)
        return keep

    async def serve(
        self,
        writer: asyncio.StreamWriter,
        handle: object,
        stat: os.stat_result,
        method: str,
        headers: dict[str, str],
        keep: bool,
    ) -> None:
        etag = etag_of(stat)
        base = {
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "Accept-Ranges": "bytes",
        }
        if_match = headers.get("if-match")
        if if_match and if_match not in ("*", etag):
            await self.reply(writer, 412, base, keep)
            return
        if headers.get("if-none-match") == etag:
            await self.reply(writer, 304, base, keep)
            return
        size = stat.st_size
        start, end, status = 0, size - 1, 200
        wanted = headers.get("range")
        if_range = headers.get("if-range")
        if wanted and (if_range is None or if_range == etag):
            parsed = parse_range(wanted, size)
            if parsed == "416":
                await self.reply(writer, 416, {**base, "Content-Range": f"bytes */{size}"}, keep)
                return
            if isinstance(parsed, tuple):
                start, end, status = parsed[0], parsed[1], 206
                base["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        await self.reply(writer, status, {**base, "Content-Length": str(length)}, keep, body=False)
        if method == "GET" and length:
            loop = asyncio.get_running_loop()
            await loop.sendfile(writer.transport, handle, start, length)  # type: ignore[arg-type]

    async def reply(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        headers: dict[str, str],
        keep: bool,
        body: bool = True,
    ) -> None:
        if body:
            headers = {**headers, "Content-Length": "0"}
        head = [f"HTTP/1.1 {status} {REASONS.get(status, '')}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"Connection: {'keep-alive' if keep else 'close'}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()


async def serve(root: Path, port: int, rate: int, latency_ms: float) -> None:
    store = Store(root, rate, latency_ms / 1000)
    server = await asyncio.start_server(store.handle, "127.0.0.1", port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"ready http://127.0.0.1:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=int, default=0, help="bytes/s per connection; 0: none")
    parser.add_argument("--latency", type=float, default=0.0, help="first-byte delay, ms")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.root, args.port, args.rate, args.latency))


if __name__ == "__main__":
    main()

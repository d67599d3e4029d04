"""An S3 upload sink for benchmarks: the four multipart calls, CRC checks, bytes discarded.

``python benchmarks/s3_sink.py --port P --pace BYTES_PER_S [--latency S]`` serves on 127.0.0.1:P.

* ``POST /b/k?uploads`` starts an upload; ``PUT /b/k?partNumber=N&uploadId=U`` hashes the
  part as it streams in (CRC32C, or CRC32 for clients that send ``x-amz-checksum-crc32``)
  and answers ``400 BadDigest`` when it differs from the header; the bytes are discarded.
  ``POST /b/k?uploadId=U`` completes (checking a full-object CRC32C, combined from the
  parts, when one is sent); ``DELETE`` aborts.
* Latency: ``--latency SECONDS`` holds every answer that long after the request (and its
  body) arrived, like a far store's round trip plus its processing time: a connection
  waiting for an UploadPart answer sends nothing meanwhile.
* Pacing: every accepted connection is relayed to the HTTP handler over a second loopback
  connection whose socket has ``SO_MAX_PACING_RATE`` set to ``--pace``. Pacing shapes what
  a socket *sends*, so the relay's outbound socket (carrying the client's upload) is the one
  paced; TCP flow control then holds the client to that rate, per connection.

Prints ``ready <port>`` when listening, and ``stats {...}`` JSON on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import signal
import socket
import sys
import zlib
from pathlib import Path

import google_crc32c
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pixop_async.transfer.checksum import crc32c_combine_all

SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)
PUMP = 256 * 1024


def _b64(value: int) -> str:
    return base64.b64encode(value.to_bytes(4, "big")).decode()


def _xml(body: str) -> web.Response:
    return web.Response(
        text='<?xml version="1.0" encoding="UTF-8"?>\n' + body, content_type="application/xml"
    )


def _error(code: str, status: int = 400) -> web.Response:
    return web.Response(
        status=status,
        text=f"<Error><Code>{code}</Code><Message>{code}</Message></Error>",
        content_type="application/xml",
    )


class Sink:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.uploads: dict[str, dict[int, tuple[int, int]]] = {}
        self.stats = {"parts": 0, "bytes": 0, "bad_digest": 0, "crc32c": 0, "crc32": 0}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        answer = await self._answer(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        return answer

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if request.method == "POST" and "uploads" in query:
            upload_id = secrets.token_hex(16)
            self.uploads[upload_id] = {}
            return _xml(
                "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>"
            )
        upload = self.uploads.get(query.get("uploadId", ""))
        if upload is None:
            return _error("NoSuchUpload", 404)
        if request.method == "PUT" and "partNumber" in query:
            return await self._part(request, upload, int(query["partNumber"]))
        if request.method == "POST":
            await request.read()
            parts = [upload[n] for n in sorted(upload)]
            claimed = request.headers.get("x-amz-checksum-crc32c")
            whole = _b64(crc32c_combine_all(parts)) if parts else None
            full = request.headers.get("x-amz-checksum-type", "FULL_OBJECT") == "FULL_OBJECT"
            if claimed is not None and full and claimed != whole:
                return _error("BadDigest")
            extra = f"<ChecksumCRC32C>{claimed}</ChecksumCRC32C>" if claimed else ""
            return _xml(
                "<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                f'<ETag>"{secrets.token_hex(16)}-{len(parts)}"</ETag>{extra}'
                "</CompleteMultipartUploadResult>"
            )
        if request.method == "DELETE":
            self.uploads.pop(query["uploadId"], None)
            return web.Response(status=204)
        return _error("NotImplemented", 501)

    async def _part(
        self, request: web.Request, upload: dict[int, tuple[int, int]], number: int
    ) -> web.Response:
        want_c = request.headers.get("x-amz-checksum-crc32c")
        want_z = request.headers.get("x-amz-checksum-crc32")
        crc_c, crc_z, size = 0, 0, 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if want_z is None:
                crc_c = google_crc32c.extend(crc_c, chunk)
            else:
                crc_z = zlib.crc32(chunk, crc_z)
        self.stats["parts"] += 1
        self.stats["bytes"] += size
        headers = {"ETag": f'"{number:08x}{crc_c:08x}"'}
        if want_z is not None:
            self.stats["crc32"] += 1
            if want_z != _b64(crc_z):
                self.stats["bad_digest"] += 1
                return _error("BadDigest")
            headers["x-amz-checksum-crc32"] = want_z
        else:
            self.stats["crc32c"] += 1
            if want_c is None or want_c != _b64(crc_c):
                self.stats["bad_digest"] += 1
                return _error("BadDigest")
            headers["x-amz-checksum-crc32c"] = want_c
        upload[number] = (crc_c, size)
        return web.Response(headers=headers)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(PUMP):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(port: int, pace: int, latency: float = 0.0) -> None:
    sink = Sink(latency)
    app = web.Application(client_max_size=6 * 1024**3)
    app.router.add_route("*", "/{tail:.*}", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    inner = web.TCPSite(runner, "127.0.0.1", 0)
    await inner.start()
    inner_port = inner._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = socket.create_connection(("127.0.0.1", inner_port))
        if pace:
            sock.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, pace)
        up_reader, up_writer = await asyncio.open_connection(sock=sock)
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", port)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print("stats " + json.dumps(sink.stats), flush=True)
    server.close()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pace", type=int, default=0, help="bytes/s per connection (0: none)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds before every answer (0: none)"
    )
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.pace, args.latency))


if __name__ == "__main__":
    main()

"""A fault-injecting HTTP proxy in front of moto's S3 server.

Moto does not check part checksums, so this proxy does what S3 does: it hashes each
UploadPart body and answers ``400 BadDigest`` (S3's XML error body) when the body does not
match its ``x-amz-checksum-crc32c``. ``corrupt_parts`` lists part numbers whose body is
damaged (one byte flipped) the first time they pass, to show the engine re-sends them.
Everything else is forwarded unchanged. ``part_puts`` counts UploadPart requests by number.
"""

from __future__ import annotations

import asyncio
import base64
import collections
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import google_crc32c
from aiohttp import web
from yarl import URL

from tests.servers import serve

BAD_DIGEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadDigest</Code>'
    "<Message>The CRC32C you specified did not match the calculated checksum.</Message>"
    "<RequestId>proxy</RequestId></Error>"
)
INTERNAL_200 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    "<Message>We encountered an internal error. Please try again.</Message>"
    "<RequestId>proxy</RequestId></Error>"
)
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "expect"}


def _error_500() -> web.Response:
    return web.Response(
        status=500,
        text="<Error><Code>InternalError</Code><Message>lost</Message></Error>",
        content_type="application/xml",
    )


class FaultProxy:
    def __init__(self, upstream: str, corrupt_parts: set[int] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.corrupt_parts = set(corrupt_parts or ())
        #: parts damaged on every pass, and parts answered with 403 AccessDenied
        self.always_corrupt: set[int] = set()
        self.deny_parts: set[int] = set()
        #: CompleteMultipartUpload calls forwarded to moto whose answer is replaced by a 500
        self.lose_complete_answers = 0
        self.completed: set[str] = set()
        self.part_puts: collections.Counter[int] = collections.Counter()
        self.bad_digests: list[int] = []
        #: CompleteMultipartUpload calls answered 200 with an <Error> body (not forwarded)
        self.complete_200_errors = 0
        #: UploadPart requests of these numbers are never answered (a stalled store)
        self.stall_parts: set[int] = set()
        #: UploadPart answers whose x-amz-checksum-crc32c is replaced by another value
        self.wrong_echo = False
        #: ListParts calls answered 500 (not forwarded), and the page size forced on the rest
        self.fail_list_parts = 0
        self.list_parts_page: int | None = None
        self.list_parts_calls = 0
        #: CreateMultipartUpload calls wait for this event before they are forwarded
        self.hold_create: asyncio.Event | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.method == "POST" and "uploads" in request.query and self.hold_create:
            await self.hold_create.wait()
        number = request.query.get("partNumber")
        if request.method == "PUT" and number is not None and "uploadId" in request.query:
            part = int(number)
            self.part_puts[part] += 1
            if part in self.stall_parts:
                await asyncio.sleep(3600)
            if part in self.deny_parts:
                return web.Response(
                    status=403,
                    text="<Error><Code>AccessDenied</Code><Message>denied</Message></Error>",
                    content_type="application/xml",
                )
            if (part in self.corrupt_parts or part in self.always_corrupt) and body:
                self.corrupt_parts.discard(part)
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            claimed = request.headers.get("x-amz-checksum-crc32c")
            actual = base64.b64encode(
                int(google_crc32c.value(body)).to_bytes(4, "big")
            ).decode()
            if claimed is not None and claimed != actual:
                self.bad_digests.append(part)
                return web.Response(status=400, text=BAD_DIGEST, content_type="application/xml")
        completing = request.method == "POST" and "uploadId" in request.query
        raw_path = request.raw_path
        if request.method == "GET" and "uploadId" in request.query:
            self.list_parts_calls += 1
            if self.fail_list_parts > 0:
                self.fail_list_parts -= 1
                return _error_500()
            if self.list_parts_page is not None:  # moto does not check signatures
                raw_path += f"&max-parts={self.list_parts_page}"
        if completing and request.query["uploadId"] in self.completed:
            # S3 forgets a completed upload; moto would complete it again
            return web.Response(
                status=404,
                text="<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>",
                content_type="application/xml",
            )
        if completing and self.complete_200_errors > 0:
            self.complete_200_errors -= 1
            return web.Response(status=200, text=INTERNAL_200, content_type="application/xml")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.request(
                request.method,
                URL(self.upstream + raw_path, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as upstream,
        ):
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            if completing and upstream.status == 200:
                self.completed.add(request.query["uploadId"])
            if completing and self.lose_complete_answers > 0:
                self.lose_complete_answers -= 1
                return _error_500()
            if self.wrong_echo and number is not None:
                out = {k: v for k, v in out.items() if k.lower() != "x-amz-checksum-crc32c"}
                out["x-amz-checksum-crc32c"] = "AAAAAA=="
            if request.method == "HEAD" and "Content-Length" in upstream.headers:
                out["Content-Length"] = upstream.headers["Content-Length"]
                return web.Response(status=upstream.status, headers=out)
            return web.Response(status=upstream.status, body=payload, headers=out)


@asynccontextmanager
async def fault_proxy(upstream: str, corrupt_parts: set[int] | None = None) -> AsyncIterator[
    tuple[str, FaultProxy]
]:
    proxy = FaultProxy(upstream, corrupt_parts)
    app = web.Application(client_max_size=1024**3)
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    async with serve(app) as url:
        yield url, proxy

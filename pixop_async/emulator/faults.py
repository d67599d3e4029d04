"""Fault injection for the emulator's API routes.

Tests queue faults: ``server.faults.add(Fault(status=503, times=2, path="/api/v1/account"))``
makes the next two matching requests fail before reaching their handler. Media faults
(resets mid-body, corruption) live with the media serving code.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable

import attrs
from aiohttp import web

Next = Callable[[], Awaitable[web.StreamResponse]]


@attrs.define
class Fault:
    """One injected failure.

    ``status`` answers with that status (an HTML page when ``html`` is set); ``delay``
    stalls for that many seconds first (``status=None`` then passes through to the real
    handler, which a client read timeout can catch); ``reset`` closes the connection without
    answering. ``path`` is a regex matched against the request path; ``times`` counts how
    many requests it hits.
    """

    status: int | None = None
    times: int = 1
    path: str = ".*"
    method: str | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    html: bool = False
    reset: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None

    async def respond(self, request: web.Request, proceed: Next) -> web.StreamResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.reset:
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError
        if self.status is None:
            return await proceed()
        if self.html:
            filler = "x" * 4096
            page = f"<html><body><h1>{self.status} Bad Gateway</h1>{filler}</body></html>"
            return web.Response(
                status=self.status, text=page, content_type="text/html", headers=self.headers
            )
        body = {
            "errorCode": "INJECTED_FAULT",
            "message": "injected fault",
            "statusCode": self.status,
            "requestPath": request.path,
        }
        return web.Response(
            status=self.status,
            body=json.dumps(body).encode(),
            content_type="application/json",
            headers=self.headers,
        )


class FaultPlan:
    """Queued faults, consumed in order by matching requests."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self.hits = 0

    def add(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.matches(method, path):
                fault.times -= 1
                self.hits += 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

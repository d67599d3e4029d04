"""An aiohttp low-level server that keeps slow clients from locking deliveries out.

Two rules, both per connection:

* **head deadline**: a connection must complete a request head (request line and headers)
  within ``header_timeout`` seconds of connecting, or of the end of its previous request;
  otherwise it is closed. Headers dripped a byte at a time no longer hold a connection.
* **connection cap**: at most ``max_connections`` connections are open. A new connection
  over the cap evicts the oldest connection that is not inside a request (the kind a
  slowloris client holds open); when every connection is inside a request, the one whose
  request began first is evicted (a client that sends a well-formed head and then drips
  its body holds its request until the body deadline, a real delivery for milliseconds).
  A real delivery, which sends its head and body at once, therefore always gets through;
  refusing the newcomer instead let a few hundred such clients lock deliveries out for good.

The body-read deadline lives in the receiver's handler (it reads the body itself).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class GuardedServer(web.Server):
    """``web.Server`` enforcing the head deadline and the connection cap (module docstring)."""

    def __init__(self, handler: Handler, *, max_connections: int, header_timeout: float) -> None:
        super().__init__(self._guarded, access_log=None, handler_cancellation=True)
        if max_connections < 1 or header_timeout <= 0:
            raise ValueError("max_connections must be >= 1 and header_timeout > 0")
        self._inner = handler
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        # open connections, oldest first, with the timer of their head deadline (None while
        # a request is being handled)
        self._open: collections.OrderedDict[RequestHandler, asyncio.TimerHandle | None] = (
            collections.OrderedDict()
        )
        self.stats: collections.Counter[str] = collections.Counter()

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def _arm(self, proto: RequestHandler) -> None:
        loop = asyncio.get_running_loop()
        self._open[proto] = loop.call_later(self.header_timeout, self._expire, proto)

    def _expire(self, proto: RequestHandler) -> None:
        if self._open.get(proto) is not None:  # still waiting for a head
            self.stats["head_timeouts"] += 1
            self._drop(proto)

    def _drop(self, proto: RequestHandler) -> None:
        timer = self._open.pop(proto, None)
        if timer is not None:
            timer.cancel()
        proto.force_close()

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        if len(self._open) >= self.max_connections:
            idle = next((p for p, timer in self._open.items() if timer is not None), None)
            if idle is None:
                # all inside a request; they are ordered by when it began (see _guarded)
                idle = next(iter(self._open))
                self.stats["evicted_busy"] += 1
            else:
                self.stats["evicted"] += 1
            self._drop(idle)
        self._arm(handler)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        timer = self._open.pop(handler, None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(handler, exc)

    async def _guarded(self, request: web.BaseRequest) -> web.StreamResponse:
        proto = request.protocol
        timer = self._open.get(proto)
        if timer is not None:
            timer.cancel()
        if proto in self._open:
            self._open[proto] = None  # inside a request: evicted only when all are
            self._open.move_to_end(proto)  # in-request connections stay in start order
        try:
            return await self._inner(request)
        finally:
            if proto in self._open:
                self._arm(proto)  # the next request head on this connection has a deadline

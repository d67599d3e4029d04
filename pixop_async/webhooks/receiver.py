"""``WebhookReceiver``: an aiohttp.web endpoint that verifies, de-duplicates and dispatches
Pixop webhook deliveries."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web

from .._lifecycle import AsyncClosing
from ..errors import WebhookSignatureError
from ..import_url import check_import_url
from ._guard import GuardedServer
from .events import MAX_EVENT_BODY, ReceivedEvent, WebhookEventError, parse_event
from .keys import PublicKeyCache
from .listen_url import advertised_url
from .signature import DEFAULT_TOLERANCE, check_signed_headers
from .store import EventStore, MemoryEventStore, Publish, accept_shared

log = logging.getLogger("pixop_async.webhooks")

EventCallback = Callable[[ReceivedEvent], Awaitable[None] | None]
Listener = Callable[[ReceivedEvent], None]
DEFAULT_PATH = "/webhooks/pixop"


class SeenIds:
    """A bounded set remembering the most recent ids (oldest forgotten first)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: str) -> None:
        self._ids[item] = None
        self._ids.move_to_end(item)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


_CLOSED = object()
#: Events remembered per video for waits that begin after their event arrived.
_EVENTS_PER_VIDEO = 8


async def _read_capped(request: web.BaseRequest, limit: int) -> bytes:
    """At most ``limit`` bytes of the request body (a short read means the body ended)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = await request.content.read(limit - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _reply(status: int, outcome: str, **headers: str) -> web.Response:
    return web.json_response({"status": outcome}, status=status, headers=headers or None)


class WebhookReceiver(AsyncClosing):
    """Receives Pixop webhook deliveries over HTTP.

    ``keys`` is a :class:`PublicKeyCache` (normally built from a client:
    ``PublicKeyCache(px)``) or a fixed ``{key id: base64 key}`` mapping.

    For each POST the receiver reads the raw body (at most ``max_body`` bytes), verifies the
    signature and timestamp (``tolerance`` seconds either way, which refuses replays of old
    deliveries), parses the event, drops an event id it has already accepted (the last
    ``dedupe_capacity`` ids are remembered) and answers at once; the event is handed over
    after the response:

    * to ``callback`` (an async or plain callable) in a background task, at most
      ``max_concurrency`` at a time and ``queue_size`` waiting (beyond that deliveries get
      503); exceptions are logged, never sent back to Pixop;
    * to :meth:`events` iterators, through a queue of ``queue_size`` events. With
      ``queue=True`` the queue keeps events from the start; by default (``queue=None``,
      no callback) it starts with the first :meth:`events` iteration, so a receiver that
      only wakes pollers never holds events nobody will read, nor refuses deliveries for
      them. ``queue=False`` turns it off. Events in the queue are consumed once (several
      iterators share them). When the queue is full the delivery is refused with 503 so
      Pixop retries it later: nothing is lost and memory stays bounded;
    * to listeners added with :meth:`add_listener` (used by :func:`wait_for_event`), and
      to a short per-video history (:meth:`recent_events`, the last ``history_size``
      videos) so a wait that begins after its event arrived still sees it.

    With ``store`` (an :class:`~pixop_async.webhooks.store.EventStore`, e.g. a
    ``RedisEventStore`` shared by every replica) and/or ``publish`` (an async callable such
    as ``pipeline.StreamPublisher``), an event id is claimed in the store, published, then
    confirmed before the 202; a failed hand-over releases the claim and answers 503.

    Answers: 202 accepted, 200 duplicate, 401 bad/unknown-key/stale signature (missing or
    malformed signature headers are refused before any key fetch), 400 body that is not a
    well-formed event, 408 body not received within ``body_timeout`` seconds, 413 body too
    large, 503 when the public keys cannot be fetched (or not within ``key_timeout``
    seconds) or the queue is full.

    Mount :attr:`handler` on a route of your own aiohttp app, add :meth:`routes`, use
    :meth:`app` as a sub-app, or run it standalone with ``async with receiver.serve() as url``.
    """

    def __init__(
        self,
        keys: PublicKeyCache | Mapping[str, str],
        *,
        callback: EventCallback | None = None,
        queue: bool | None = None,
        queue_size: int = 1000,
        path: str = DEFAULT_PATH,
        tolerance: float = DEFAULT_TOLERANCE,
        dedupe_capacity: int = 10_000,
        max_body: int = MAX_EVENT_BODY,
        max_concurrency: int = 16,
        history_size: int = 10_000,
        body_timeout: float = 10.0,
        key_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        store: EventStore | None = None,
        publish: Publish | None = None,
    ) -> None:
        if queue_size < 1 or max_concurrency < 1 or max_body < 1:
            raise ValueError("queue_size, max_concurrency and max_body must be >= 1")
        if tolerance < 0:
            raise ValueError("tolerance must be >= 0")
        self.keys = keys if isinstance(keys, PublicKeyCache) else PublicKeyCache(keys=keys)
        self.callback = callback
        self.path = path
        self.tolerance = tolerance
        self.max_body = max_body
        self.body_timeout = body_timeout
        if not key_timeout > 0:
            raise ValueError("key_timeout must be > 0 seconds")
        self.key_timeout = key_timeout
        self.server: GuardedServer | None = None
        #: The URL :meth:`serve` answers on locally (``None`` until it runs).
        self.local_url: str | None = None
        self._clock = clock
        self._seen = SeenIds(dedupe_capacity)
        # Shared dedupe (many replicas) and/or hand-over to a stream: see store.py.
        self.publish = publish
        self.store = store if store is not None or publish is None else MemoryEventStore()
        ttl = getattr(self.store, "ttl", None)
        if isinstance(ttl, (int, float)) and ttl < 2 * tolerance:
            # a delivery signed at t verifies until t + tolerance (clocks either way):
            # forgetting its id sooner lets a replay of it be acted on again
            raise ValueError(
                f"store ttl ({ttl:g} s) must be at least twice the signature tolerance "
                f"({tolerance:g} s), or replays of a delivery would be accepted"
            )
        # None: lazy (made by the first events() iteration); False: never
        self._queue_mode = queue if queue is not None else (None if callback is None else False)
        # One slot more than queue_size so the end-of-stream marker always fits.
        self._queue_size = queue_size
        self._queue: asyncio.Queue[object] | None = (
            asyncio.Queue(maxsize=queue_size + 1) if self._queue_mode else None
        )
        self._history: collections.OrderedDict[uuid.UUID, list[ReceivedEvent]] = (
            collections.OrderedDict()
        )
        self._history_size = max(0, history_size)
        self._listeners: list[Listener] = []
        # listeners of one video each (wait_for_event): a delivery calls only its video's,
        # not every waiting job's (with 10,000 waits, 2.5 ms of event loop per delivery)
        self._video_listeners: dict[uuid.UUID, list[Listener]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._closed = False
        self.stats: collections.Counter[str] = collections.Counter()

    def __repr__(self) -> str:
        return f"WebhookReceiver(path={self.path!r}, keys={self.keys!r})"

    # -- HTTP ---------------------------------------------------------------------------------

    async def handler(self, request: web.BaseRequest) -> web.StreamResponse:
        """The aiohttp handler for one delivery (mount it on a POST route).

        Everything checkable without keys (headers, timestamp, base64) is checked before
        the keys may be fetched; the body must arrive within ``body_timeout`` seconds."""
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        if self._closed:
            return _reply(503, "closed")
        if request.content_length is not None and request.content_length > self.max_body:
            self.stats["too_large"] += 1
            return _reply(413, "too large")
        try:
            check_signed_headers(request.headers, now=self._clock(), tolerance=self.tolerance)
        except WebhookSignatureError as exc:
            self.stats["rejected"] += 1
            log.warning("refused webhook delivery from %s: %s", request.remote, exc)
            return _reply(401, "invalid signature")
        try:
            body = await asyncio.wait_for(
                _read_capped(request, self.max_body + 1), self.body_timeout
            )
        except asyncio.TimeoutError:
            self.stats["slow_body"] += 1
            return _reply(408, "body too slow", Connection="close")
        if len(body) > self.max_body:
            self.stats["too_large"] += 1
            return _reply(413, "too large")
        try:
            # a key listing that hangs must not hold every delivery (and its connection,
            # which the connection cap cannot evict mid-request) with it
            await asyncio.wait_for(
                self.keys.verify(
                    body, request.headers, now=self._clock(), tolerance=self.tolerance
                ),
                self.key_timeout,
            )
        except WebhookSignatureError as exc:
            self.stats["rejected"] += 1
            log.warning("refused webhook delivery from %s: %s", request.remote, exc)
            return _reply(401, "invalid signature")
        except Exception as exc:  # key listing unavailable: let Pixop retry later
            self.stats["keys_unavailable"] += 1
            log.warning("cannot verify webhook delivery, keys unavailable: %s", exc)
            return _reply(503, "keys unavailable", **{"Retry-After": "30"})
        try:
            event = parse_event(body, request.headers)
        except WebhookEventError as exc:
            self.stats["malformed"] += 1
            log.warning("refused malformed webhook delivery: %s", exc)
            return _reply(400, "malformed event")
        if self.store is not None:
            return await self._accept_shared(event)
        event_id = str(event.id)
        if event_id in self._seen:
            self.stats["duplicates"] += 1
            return _reply(200, "duplicate")
        if self._busy():
            self.stats["queue_full"] += 1
            return _reply(503, "busy", **{"Retry-After": "5"})
        self._seen.add(event_id)
        self.stats["accepted"] += 1
        self._dispatch(event)
        return _reply(202, "accepted")

    async def _accept_shared(self, event: ReceivedEvent) -> web.Response:
        assert self.store is not None
        try:
            status, outcome = await accept_shared(event, self.store, self.publish, self._busy)
        except Exception as exc:  # store or stream unreachable: let Pixop retry later
            self.stats["handover_failed"] += 1
            log.warning("cannot hand webhook event %s over: %s", event.id, exc)
            return _reply(503, "unavailable", **{"Retry-After": "5"})
        self.stats[{200: "duplicates", 202: "accepted"}.get(status, "deferred")] += 1
        if status == 202:
            self._dispatch(event)
        return _reply(status, outcome, **({"Retry-After": "5"} if status == 503 else {}))

    def _busy(self) -> bool:
        """Whether taking one more event would exceed the queue or the callback backlog."""
        if self._queue is not None and self._queue.qsize() >= self._queue_size:
            return True
        return self.callback is not None and len(self._tasks) >= self._queue_size

    def routes(self) -> list[web.RouteDef]:
        """Route definitions for ``app.add_routes(...)``: POST on :attr:`path`."""
        return [web.post(self.path, self.handler)]

    def app(self) -> web.Application:
        """A standalone application serving :attr:`path`; closing it drains the receiver."""
        application = web.Application(client_max_size=self.max_body + 1024)
        application.add_routes(self.routes())

        async def _cleanup(_app: web.Application) -> None:
            await self.close()

        application.on_cleanup.append(_cleanup)
        return application

    @contextlib.asynccontextmanager
    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_url: str | None = None,
        max_connections: int = 256,
        header_timeout: float = 10.0,
    ) -> AsyncIterator[str]:
        """Serve :attr:`path` on ``host:port`` (a free port by default); yields the URL to
        give ``px.webhooks.create``.

        That URL is ``public_url`` when given: the public ``https://`` address your reverse
        proxy or tunnel forwards to this server (real Pixop delivers only there). It is
        checked before anything is bound, and a URL Pixop would refuse raises
        :class:`~pixop_async.errors.InvalidRequestError` naming ``public_url`` and the
        rule. Without it, the URL is the local one, with a wildcard bind host (``0.0.0.0``,
        ``::``) replaced by the loopback address, since nothing can send to a wildcard:
        ``http://127.0.0.1:PORT/path``, which a local emulator accepts with
        ``allow_loopback_http=True``. :attr:`local_url` keeps the local URL either way.

        The standalone server defends against slow clients (see
        :mod:`pixop_async.webhooks._guard`): a connection must send a complete request
        head within ``header_timeout`` seconds, and beyond ``max_connections`` open
        connections the oldest one not inside a request (else the one longest inside its
        request) is closed for the newcomer. When
        you mount :attr:`handler` in your own app, give your server such limits yourself.
        """
        if public_url is not None:
            check_import_url(public_url, "public_url")

        async def dispatch(request: web.BaseRequest) -> web.StreamResponse:
            if request.path != self.path:
                return _reply(404, "not found")
            return await self.handler(request)

        self.server = GuardedServer(
            dispatch, max_connections=max_connections, header_timeout=header_timeout
        )
        runner = web.ServerRunner(self.server)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            sockets = getattr(site._server, "sockets", None) or []
            bound = int(sockets[0].getsockname()[1]) if sockets else port
            shown_host = f"[{host}]" if ":" in host else host
            self.local_url = advertised_url(f"http://{shown_host}:{bound}{self.path}")
            yield public_url if public_url is not None else self.local_url
        finally:
            await runner.cleanup()
            await self.close()

    # -- delivery -----------------------------------------------------------------------------

    def _remember(self, event: ReceivedEvent) -> None:
        if self._history_size == 0 or event.video_id is None:
            return
        events = self._history.setdefault(event.video_id, [])
        self._history.move_to_end(event.video_id)
        events.append(event)
        del events[:-_EVENTS_PER_VIDEO]
        while len(self._history) > self._history_size:
            self._history.popitem(last=False)

    def recent_events(self, video_id: uuid.UUID) -> list[ReceivedEvent]:
        """The last few accepted events of ``video_id``, oldest first (bounded history)."""
        return list(self._history.get(video_id, ()))

    def _dispatch(self, event: ReceivedEvent) -> None:
        self._remember(event)
        listeners = list(self._listeners)
        if event.video_id is not None:
            listeners.extend(self._video_listeners.get(event.video_id, ()))
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("webhook listener failed")
        if self._queue is not None:
            self._queue.put_nowait(event)  # room was checked before accepting
        if self.callback is not None:
            task = asyncio.get_running_loop().create_task(self._run_callback(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_callback(self, event: ReceivedEvent) -> None:
        assert self.callback is not None
        async with self._slots:
            try:
                result = self.callback(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("webhook callback failed for event %s", event.id)

    def add_listener(self, listener: Listener, *, video_id: uuid.UUID | None = None) -> None:
        """Call ``listener(event)`` synchronously for every accepted event (keep it quick),
        or with ``video_id`` for that video's events only (cheap however many there are)."""
        if video_id is None:
            self._listeners.append(listener)
        else:
            self._video_listeners.setdefault(video_id, []).append(listener)

    def remove_listener(self, listener: Listener, *, video_id: uuid.UUID | None = None) -> None:
        """Undo :meth:`add_listener` (with the same ``video_id``)."""
        if video_id is None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)
            return
        listeners = self._video_listeners.get(video_id)
        if listeners is None:
            return
        with contextlib.suppress(ValueError):
            listeners.remove(listener)
        if not listeners:
            del self._video_listeners[video_id]

    async def events(self) -> AsyncIterator[ReceivedEvent]:
        """Accepted events, in arrival order, until :meth:`close` is called."""
        if self._queue is None:
            if self._queue_mode is False:
                raise RuntimeError(
                    "this receiver has a callback or queue=False; create it with queue=True"
                    " to iterate"
                )
            self._queue = asyncio.Queue(maxsize=self._queue_size + 1)
            if self._closed:
                self._queue.put_nowait(_CLOSED)
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                self._queue.put_nowait(_CLOSED)  # wake the next iterator too
                return
            assert isinstance(item, ReceivedEvent)
            yield item

    async def drain(self) -> None:
        """Wait until every callback started so far has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop accepting deliveries, finish running callbacks and end :meth:`events`."""
        if self._closed:
            return
        self._closed = True
        await self.drain()
        if self._queue is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_CLOSED)

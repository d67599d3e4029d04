"""Real, signed webhook deliveries.

The :class:`WebhookHub` of an emulator state holds the webhooks, their events and the
signing keys. It listens to ``state.event_listeners``; each video event becomes a webhook
event for every active webhook of the video's team subscribed to its type, delivered with
aiohttp to the webhook URL:

* body: the ``WebhookEventPayload`` JSON; headers ``X-Pixop-Signature`` (base64 DER ECDSA
  P-256 / SHA-256 over ``timestamp + "." + body``), ``X-Pixop-Public-Key-Id``,
  ``X-Pixop-Timestamp`` (unix seconds, emulator clock), ``X-Pixop-Algorithm``;
* throttled to the webhook's ``rateLimitPerSecond``;
* retried on non-2xx answers and transport errors with exponential backoff
  (:func:`retry_delay`, scaled by ``config.speed``; a 429's ``Retry-After`` wins) while the
  total delay stays within ``maxTotalRetryDelayMinutes`` (:func:`may_retry`);
* every attempt recorded as a ``WebhookEndpointResponse`` on the event.

Keys: one P-256 key is generated at startup; :meth:`WebhookHub.rotate_key` adds a new
signing key and keeps the previous one valid for a grace period, so two keys are listed.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import time
import weakref
from typing import Any

import aiohttp
import attrs
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..retry import parse_retry_after
from .clock import iso
from .http import new_id
from .middleware import STATE_KEY
from .state import EmulatorState

ALGORITHM = "SHA256withECDSA"
RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 300.0
KEY_GRACE_SECONDS = 24 * 3600
REQUEST_TIMEOUT_SECONDS = 10.0
BODY_KEEP = 100
HEADER_KEEP = 50
WAIT_STEP_SECONDS = 0.02


# --------------------------------------------------------------------------- pure decisions


def retry_delay(
    attempt: int, *, base: float = RETRY_BASE_SECONDS, cap: float = RETRY_CAP_SECONDS
) -> float:
    """Backoff before retry number ``attempt`` (1-based): base, 2·base, 4·base... capped."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


def may_retry(first_attempt_at: float, next_attempt_at: float, max_total_minutes: int) -> bool:
    """Whether a retry at ``next_attempt_at`` stays within the webhook's total retry delay."""
    return next_attempt_at - first_attempt_at <= max_total_minutes * 60


def signed_message(timestamp: str, body: bytes) -> bytes:
    """What a delivery signature covers: ``timestamp + "." + raw body``."""
    return timestamp.encode() + b"." + body


# --------------------------------------------------------------------------- keys


@attrs.define
class SigningKey:
    id: str
    private_key: ec.EllipticCurvePrivateKey = attrs.field(repr=False)
    created_at: str
    expires_at: str | None = None

    @property
    def public_b64(self) -> str:
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, timestamp: str, body: bytes) -> str:
        signature = self.private_key.sign(
            signed_message(timestamp, body), ec.ECDSA(hashes.SHA256())
        )
        return base64.b64encode(signature).decode()

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "algorithm": "EC",
            "publicKey": self.public_b64,
            "expiresAt": self.expires_at,
        }


# --------------------------------------------------------------------------- the hub


class WebhookHub:
    """Webhooks, events and keys of one emulator state, and the delivery machinery."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.test_events_sent: dict[str, list[float]] = {}  # team id -> clock times
        self.keys: list[SigningKey] = []
        # per webhook: its sends queue in arrival order; when its last one was made
        self._pace_locks: dict[str, asyncio.Lock] = {}
        self._last_send: dict[str, float] = {}
        self._video_teams: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.rotate_key()

    # -- keys ---------------------------------------------------------------------------

    def rotate_key(self) -> SigningKey:
        """Start signing with a new key; older keys stay valid for a grace period."""
        now = self.state.clock.now()
        for key in self.keys:
            if key.expires_at is None:
                key.expires_at = iso(now + dt.timedelta(seconds=KEY_GRACE_SECONDS))
        key = SigningKey(new_id(), ec.generate_private_key(ec.SECP256R1()), iso(now))
        self.keys.append(key)
        return key

    def valid_keys(self) -> list[SigningKey]:
        now = iso(self.state.clock.now())
        return [k for k in self.keys if k.expires_at is None or k.expires_at > now]

    @property
    def signing_key(self) -> SigningKey:
        return self.keys[-1]

    # -- events -------------------------------------------------------------------------

    def on_video_event(self, event_type: str, video_id: str) -> None:
        """``state.event_listeners`` hook: queue deliveries for subscribed webhooks."""
        # Only this video's team is recorded (a scan of every video per event made
        # deliveries quadratic in the number of jobs); it is kept for events after deletion.
        video = self.state.videos.get(video_id)
        if video is not None:
            self._video_teams[video_id] = video["teamId"]
        team_id = self._video_teams.get(video_id)
        if team_id is None:
            return
        for webhook in list(self.webhooks.values()):
            if (
                webhook["teamId"] == team_id
                and webhook["active"]
                and event_type in webhook["eventTypes"]
            ):
                self.enqueue(webhook, event_type, video_id, test=False)

    def enqueue(
        self, webhook: dict[str, Any], event_type: str, video_id: str, *, test: bool
    ) -> dict[str, Any]:
        """Record a new event for ``webhook`` and start delivering it."""
        stamp = self.state.stamp()
        event = {
            **stamp,
            "teamId": webhook["teamId"],
            "payload": {
                "id": stamp["id"],
                "webhookId": webhook["id"],
                "eventType": event_type,
                "occurredAt": stamp["createdAt"],
                "test": test,
                "attemptCount": 0,
                "data": {"type": "VIDEO", "videoId": video_id},
            },
            "nextAttemptEarliestAt": stamp["createdAt"],
            "successful": None,
            "responses": [],
        }
        self.events[event["id"]] = event
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return event  # no loop (a synchronous caller): stays queued, never sent
        task = loop.create_task(self._deliver(webhook["id"], event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return event

    # -- delivery -----------------------------------------------------------------------

    async def _wait_until(self, when: float) -> None:
        """Sleep until the emulator clock reaches ``when`` (``clock.advance`` shortens it)."""
        # Polls the clock rather than sleeping once: tests may advance the clock meanwhile.
        while (left := when - self.state.clock.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(left, WAIT_STEP_SECONDS))

    async def _pace(self, webhook: dict[str, Any], event: dict[str, Any]) -> float | None:
        """Keep at most ``rateLimitPerSecond`` sends a second to one webhook: each send is
        made at least ``1 / rateLimitPerSecond`` after the previous one *as it was made*
        (a send that woke late does not let the next one bunch up behind it), in the order
        the sends asked. Returns when this one is made (emulator clock), or None when by
        its turn the webhook is gone or no longer takes the event (:meth:`_takes`)."""
        webhook_id = webhook["id"]
        lock = self._pace_locks.get(webhook_id)
        if lock is None:
            lock = self._pace_locks[webhook_id] = asyncio.Lock()
        async with lock:  # (first come, first served)
            last = self._last_send.get(webhook_id)
            if last is not None:
                await self._wait_until(last + 1.0 / webhook["rateLimitPerSecond"])
            if not self._takes(webhook_id, event):
                return None  # deleted or deactivated while it waited: no send, no turn used
            sent = self._last_send[webhook_id] = self.state.clock.time()
        return sent

    def _takes(self, webhook_id: str, event: dict[str, Any]) -> bool:
        """Whether the webhook still exists and takes ``event`` (active, or a test event)."""
        webhook = self.webhooks.get(webhook_id)
        return webhook is not None and bool(webhook["active"] or event["payload"]["test"])

    def _seconds(self, base: float) -> float:
        return base / max(self.state.config.speed, 1e-6)

    async def _deliver(self, webhook_id: str, event: dict[str, Any]) -> None:
        first_attempt_at: float | None = None
        attempt = 0
        while True:
            webhook = self.webhooks.get(webhook_id)
            sent = None
            if webhook is not None and self._takes(webhook_id, event):
                sent = await self._pace(webhook, event)
            if webhook is None or sent is None:  # gone or deactivated (or while it waited)
                self._finish(event, successful=False)
                return
            attempt += 1
            first_attempt_at = first_attempt_at or sent
            response = await self._attempt(webhook, event, attempt, sent)
            if 200 <= response["statusCode"] < 300:
                self._finish(event, successful=True)
                return
            delay = self._seconds(retry_delay(attempt))
            advised = response.get("_retry_after")
            if advised is not None:
                delay = max(delay, advised)
            response.pop("_retry_after", None)
            next_at = self.state.clock.time() + delay
            if not may_retry(first_attempt_at, next_at, webhook["maxTotalRetryDelayMinutes"]):
                self._finish(event, successful=False)
                return
            event["nextAttemptEarliestAt"] = iso(_at(next_at))
            self.state.touch(event)
            await self._wait_until(next_at)

    def _finish(self, event: dict[str, Any], *, successful: bool) -> None:
        event["successful"] = successful
        event["nextAttemptEarliestAt"] = None
        self.state.touch(event)

    async def _attempt(
        self, webhook: dict[str, Any], event: dict[str, Any], attempt: int, sent: float
    ) -> dict[str, Any]:
        event["payload"]["attemptCount"] = attempt
        body = json.dumps(event["payload"]).encode()
        key = self.signing_key
        timestamp = str(int(self.state.clock.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Pixop-Signature": key.sign(timestamp, body),
            "X-Pixop-Public-Key-Id": key.id,
            "X-Pixop-Timestamp": timestamp,
            "X-Pixop-Algorithm": ALGORITHM,
        }
        requested_at = iso(_at(sent))  # the time the pacing let it out
        started = time.monotonic()
        record: dict[str, Any] = {"requestedAt": requested_at, "responseBody": None}
        try:
            async with self._client().post(webhook["url"], data=body, headers=headers) as resp:
                text = (await resp.content.read(4096)).decode("utf-8", "replace")
                record.update(statusCode=resp.status, responseBody=text[:BODY_KEEP])
                if not 200 <= resp.status < 300:
                    record["responseHeaders"] = {
                        k: v[:HEADER_KEEP] for k, v in resp.headers.items()
                    }
                if resp.status == 429:
                    retry_after = parse_retry_after(
                        resp.headers.get("Retry-After"), now=time.time()
                    )
                    if retry_after is not None:
                        record["responseRetryAt"] = iso(_at(self.state.clock.time() + retry_after))
                        record["_retry_after"] = retry_after
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            record.update(
                statusCode=0,
                errorCode="CONNECTION_FAILED",
                errorMessage=f"{type(exc).__name__}: {exc}"[:200],
            )
        record["responseTimeMillis"] = int((time.monotonic() - started) * 1000)
        stored = {k: v for k, v in record.items() if not k.startswith("_")}
        event["responses"].append(stored)
        self.state.touch(event)
        return record

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
            )
        return self._session

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


def _at(unix: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, tz=dt.timezone.utc)


_HUBS: weakref.WeakKeyDictionary[EmulatorState, WebhookHub] = weakref.WeakKeyDictionary()


def hub(state: EmulatorState) -> WebhookHub:
    """The webhook hub of ``state`` (created, and subscribed to its events, on first use)."""
    found = _HUBS.get(state)
    if found is None:
        found = _HUBS[state] = WebhookHub(state)
        state.event_listeners.append(found.on_video_event)
    return found


def extension(app: web.Application) -> None:
    """Subscribe the hub at startup and stop deliveries on shutdown."""

    async def start(app: web.Application) -> None:
        hub(app[STATE_KEY])

    async def stop(app: web.Application) -> None:
        await hub(app[STATE_KEY]).close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)

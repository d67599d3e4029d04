"""A cache of Pixop's webhook public keys, refreshed when a delivery names an unknown key."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..budget import urgent
from ..models.converter import parse_datetime
from .signature import (
    DEFAULT_TOLERANCE,
    UnknownPublicKeyError,
    check_signed_headers,
    verify_signature,
)

if TYPE_CHECKING:
    from ..client import Pixop

log = logging.getLogger("pixop_async.webhooks")

#: An unknown key id triggers at most one refetch per this many seconds.
DEFAULT_MIN_REFETCH_INTERVAL = 60.0
#: Keys older than this are refreshed on the next verification (revocations reach us).
DEFAULT_MAX_AGE = 3600.0
#: Seconds a key listing fetch may take before it counts as failed (and is backed off).
DEFAULT_FETCH_TIMEOUT = 30.0


@attrs.frozen
class KeyRecord:
    """One published public key: its id, base64 SubjectPublicKeyInfo and optional expiry."""

    key_id: str
    public_key: str = attrs.field(repr=False)
    expires_at: dt.datetime | None = None


Fetcher = Callable[[], Awaitable[Iterable[KeyRecord]]]


def _record(item: Any) -> KeyRecord:
    """A KeyRecord from a JSON dict or from a model with ``id``/``public_key``."""
    if isinstance(item, Mapping):
        key_id, public, expires = item.get("id"), item.get("publicKey"), item.get("expiresAt")
    else:
        key_id = getattr(item, "id", None)
        public = getattr(item, "public_key", None)
        expires = getattr(item, "expires_at", None)
    if key_id is None or not isinstance(public, str):
        raise ValueError("webhook public key entry lacks id or publicKey")
    return KeyRecord(str(key_id), public, parse_datetime(expires) if expires is not None else None)


def client_fetcher(client: Pixop) -> Fetcher:
    """Fetch keys with ``client.webhooks.public_keys.list()``."""

    async def fetch() -> list[KeyRecord]:
        # every delivery waits on this fetch: it goes ahead of the client's other requests
        with urgent():
            listed = await client.webhooks.public_keys.list()
        return [_record(item) for item in listed]

    return fetch


def _retrieve(task: asyncio.Future[bool]) -> None:
    """Mark a fetch's failure as seen (every waiter may have given up on it already)."""
    if not task.cancelled():
        task.exception()


class KeysUnavailableError(Exception):
    """The key listing could not be fetched (or a failed fetch is still being backed off)."""


class PublicKeyCache:
    """Holds the webhook public keys and verifies deliveries against them.

    Give it a :class:`~pixop_async.Pixop` client (keys come from
    ``GET /v1/webhooks/public-keys``), or ``fetch=`` an async callable returning
    :class:`KeyRecord` items, or ``keys=`` a fixed ``{key id: base64 key}`` mapping.

    A delivery is checked for everything that needs no key (headers present, algorithm,
    timestamp window, key id, base64/DER signature) before the cache may fetch anything, so
    junk never costs a fetch. Keys are fetched on first use; fetches are single-flight
    (deliveries arriving meanwhile all wait on the one fetch) and rate-limited in every
    state: a delivery naming a key id the cache does not hold triggers one refetch at most
    once per ``min_refetch_interval`` seconds, and after a failed fetch the next attempt
    waits 1 s, then 2 s, 4 s ... up to ``min_refetch_interval`` (deliveries meanwhile get
    :class:`KeysUnavailableError`, which the receiver answers with 503 so Pixop retries).
    Every key in the listing is kept, which covers rotations where two keys are valid at
    once; a key that disappears from a later listing is kept until its ``expiresAt`` passes
    (a retried delivery may still use it). After ``max_age`` seconds the listing is
    refreshed on the next verification; if that refresh fails the old keys stay in use.
    A fetch runs as a task of its own (a delivery that gives up does not cancel it for the
    others) and fails after ``fetch_timeout`` seconds.
    """

    def __init__(
        self,
        client: Pixop | None = None,
        *,
        fetch: Fetcher | None = None,
        keys: Mapping[str, str] | None = None,
        min_refetch_interval: float = DEFAULT_MIN_REFETCH_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE,
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fetch is None and client is not None:
            fetch = client_fetcher(client)
        if fetch is None and keys is None:
            raise ValueError("PublicKeyCache needs a client, fetch= or keys=")
        self._fetch = fetch
        self._records: dict[str, KeyRecord] = {
            kid: KeyRecord(kid, key) for kid, key in (keys or {}).items()
        }
        self.min_refetch_interval = min_refetch_interval
        self.max_age = max_age
        self._clock = clock
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch attempt, successful or not
        self._failures = 0  # consecutive failed fetches
        self._inflight: asyncio.Future[bool] | None = None
        if not fetch_timeout > 0:
            raise ValueError("fetch_timeout must be > 0 seconds")
        self.fetch_timeout = fetch_timeout
        self.fetch_count = 0

    def __repr__(self) -> str:
        return f"PublicKeyCache(key_ids={sorted(self._records)!r})"

    def snapshot(self) -> dict[str, str]:
        """The keys currently held, as ``{key id: base64 key}``."""
        return {kid: rec.public_key for kid, rec in self._records.items()}

    def _merge(self, fresh: Iterable[KeyRecord]) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        merged = {rec.key_id: rec for rec in fresh}
        for kid, old in self._records.items():
            if kid not in merged and old.expires_at is not None and old.expires_at > now:
                merged[kid] = old
        self._records = merged

    def next_fetch_allowed(self) -> float:
        """The earliest time (on the cache's clock) a new fetch may start."""
        if self._attempted_at is None:
            return float("-inf")
        if self._failures:
            backoff = min(self.min_refetch_interval, 2.0 ** (self._failures - 1))
            return self._attempted_at + backoff
        return self._attempted_at + self.min_refetch_interval

    async def refresh(self, *, force: bool = False) -> bool:
        """Refetch the listing unless the rate rule forbids it (``force`` skips the wait
        after a success, never the back-off after a failure).

        Returns whether a fetch took place. Concurrent callers share one fetch; a fetch
        error propagates to all of them.
        """
        if self._fetch is None:
            return False
        if self._inflight is None:
            now = self._clock()
            if now < self.next_fetch_allowed() and (self._failures or not force):
                if self._failures and self._fetched_at is None:
                    raise KeysUnavailableError("webhook public keys unavailable; backing off")
                return False
            self._attempted_at = now
            self.fetch_count += 1
            # The fetch is a task of its own, owned by no delivery: a delivery cancelled
            # while waiting (its sender hung up, its handler timed out) must not cancel the
            # fetch every other delivery is waiting on.
            task = asyncio.get_running_loop().create_task(self._fetch_once(self._fetch))
            task.add_done_callback(_retrieve)
            self._inflight = task
        return await asyncio.shield(self._inflight)

    async def _fetch_once(self, fetch: Fetcher) -> bool:
        try:
            records = list(await asyncio.wait_for(fetch(), self.fetch_timeout))
            self._merge(records)
        except BaseException:
            self._failures += 1
            raise
        else:
            self._failures = 0
            self._fetched_at = self._clock()
            log.debug("fetched %d webhook public keys", len(records))
            return True
        finally:
            self._inflight = None

    async def _ensure_fresh(self) -> None:
        if self._fetch is None:
            return
        if self._fetched_at is None:
            await self.refresh(force=True)
        elif self._clock() - self._fetched_at >= self.max_age:
            try:
                await self.refresh()
            except Exception:  # keep serving with the keys we have
                log.warning("refreshing webhook public keys failed; using cached keys")

    async def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        now: float | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        """:func:`verify_signature` against the cached keys, refetching once for an unknown id.

        Raises :class:`~pixop_async.errors.WebhookSignatureError` when the delivery does not
        verify (checked first without keys, so junk never causes a fetch); errors from
        fetching the keys (API or connection errors, :class:`KeysUnavailableError`)
        propagate as is.
        """
        when = time.time() if now is None else now
        check_signed_headers(headers, now=when, tolerance=tolerance)
        await self._ensure_fresh()
        try:
            verify_signature(body, headers, self.snapshot(), now=when, tolerance=tolerance)
        except UnknownPublicKeyError:
            if not await self.refresh():
                raise
            verify_signature(body, headers, self.snapshot(), now=when, tolerance=tolerance)

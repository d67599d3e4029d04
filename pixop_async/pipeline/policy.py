"""Pure decisions of the stream worker: backoff, when to dead-letter, message field checks."""

from __future__ import annotations

import enum
import math
import random
import re
from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import APIStatusError, InvalidRequestError
from ..webhooks.events import WebhookEventError
from ._redis import has_undecodable

#: Stream/group/consumer names we create: plain, short, no spaces or control characters.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}\Z")
#: A Redis stream entry id: milliseconds-sequence.
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}\Z")


def check_name(value: Any, field: str) -> str:
    """``value`` if it is a usable stream/group/consumer name, else a ValueError naming it."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(
            f"{field} must be 1-128 characters of letters, digits and _ . : - "
            f"(starting with a letter or digit), got {value!r}"
        )
    return value


#: A stream key: a plain name, or one led by a Redis Cluster hash tag (``{jobs}:in``), which
#: keeps the stream and its dead-letter stream (``{jobs}:in:dead``) in one slot.
_KEY = re.compile(r"^(\{[A-Za-z0-9_.:\-]{1,64}\})?[A-Za-z0-9_.:\-]{0,127}\Z")


def check_key(value: Any, field: str) -> str:
    """``value`` if it is a usable stream key (a name as :func:`check_name` allows, or one
    led by a ``{hash tag}``), else a ValueError naming it."""
    if not isinstance(value, str) or not value.startswith("{"):
        return check_name(value, field)
    if len(value) > 128 or not _KEY.fullmatch(value):
        raise ValueError(
            f"{field} must be a {{hash tag}} of letters, digits and _ . : - followed by such "
            f"characters, 128 at most, got {value!r}"
        )
    return value


def check_entry_id(value: Any) -> str:
    if not isinstance(value, str) or not _ENTRY_ID.fullmatch(value):
        raise ValueError(f"not a stream entry id: {value!r}")
    return value


@attrs.frozen
class WorkerSettings:
    """Knobs of a :class:`~pixop_async.pipeline.StreamWorker` (validated on creation).

    ``idle_timeout``: a message unacknowledged and untouched this long (seconds) is taken
    over by another worker; running handlers refresh their messages every
    ``idle_timeout / 3`` so a slow handler is not mistaken for a dead one.
    ``max_deliveries``: after this many deliveries a failing message goes to the dead-letter
    stream. Retries wait ``backoff_base * 2**(n-1)`` seconds (jittered, at most
    ``backoff_cap``, and always below the idle timeout). A permanent error (see
    :func:`is_permanent`) goes to the dead-letter stream at once.

    ``trim``: after acknowledging, trim the stream below the oldest entry any consumer
    group still needs (:mod:`pixop_async.pipeline.trim`: never an entry pending in, or not
    yet delivered to, any group), at most once per ``trim_every`` acknowledgements or
    ``trim_interval`` seconds; ``trim_approximate`` lets Redis trim whole nodes only
    (cheaper; exact trimming removes every entry below the floor). Turn it off for a
    stream also read outside consumer groups (``XRANGE`` as a log).
    """

    concurrency: int = 8
    idle_timeout: float = 30.0
    max_deliveries: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 10.0
    block: float = 1.0
    claim_interval: float | None = None
    shutdown_grace: float = 10.0
    trim: bool = True
    trim_every: int = 100
    trim_interval: float = 5.0
    trim_approximate: bool = True

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise ValueError("concurrency must be an integer >= 1")
        if not isinstance(self.max_deliveries, int) or self.max_deliveries < 1:
            raise ValueError("max_deliveries must be an integer >= 1")
        for name in ("idle_timeout", "block"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 seconds")
        for name in ("backoff_base", "backoff_cap", "shutdown_grace"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0 seconds")
        if self.claim_interval is not None and not self.claim_interval > 0:
            raise ValueError("claim_interval must be > 0 seconds")
        for name in ("trim", "trim_approximate"):
            # a truthy "no" or "false" from a config file must not switch trimming on
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False")
        if (
            isinstance(self.trim_every, bool)
            or not isinstance(self.trim_every, int)
            or self.trim_every < 1
        ):
            raise ValueError("trim_every must be an integer >= 1")
        if (
            isinstance(self.trim_interval, bool)
            or not isinstance(self.trim_interval, int | float)
            or not 0 <= self.trim_interval < math.inf
        ):
            raise ValueError("trim_interval must be a finite number of seconds >= 0")

    @property
    def heartbeat(self) -> float:
        return self.idle_timeout / 3

    @property
    def claim_every(self) -> float:
        """How often to look for idle messages (by default a third of the idle timeout)."""
        return self.claim_interval if self.claim_interval is not None else self.idle_timeout / 3


def backoff(settings: WorkerSettings, deliveries: int, rand: float | None = None) -> float:
    """Seconds to wait before delivery ``deliveries + 1`` (full jitter in the upper half).

    Capped below half the idle timeout so the waiting message is never taken for abandoned.
    """
    ceiling = min(settings.backoff_cap, settings.backoff_base * 2.0 ** max(0, deliveries - 1))
    ceiling = min(ceiling, settings.idle_timeout / 2)
    r = random.random() if rand is None else rand
    return ceiling * (0.5 + r / 2)


class Next(enum.Enum):
    RUN = "run"
    RETRY = "retry"
    DEAD = "dead"


class PermanentError(Exception):
    """Raise it (or raise from it) in a handler for a failure no retry can mend: the message
    goes to the dead-letter stream at once."""


#: 4xx statuses a later delivery may get past: timeout, conflict (a state that moves on),
#: locked, too early, too many requests.
TRANSIENT_CLIENT_STATUSES = frozenset({408, 409, 423, 425, 429})
#: 4xx statuses about the worker's credentials (its key, its proxy's), not the message: a
#: revoked or rotated key must not send a whole backlog to the dead letters at once.
CREDENTIAL_STATUSES = frozenset({401, 403, 407})


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying the handler cannot help: :class:`PermanentError`, input the SDK
    refused before sending (:class:`~pixop_async.errors.InvalidRequestError`), a webhook
    entry that is not a valid event, an exception raised ``from`` a :class:`PermanentError`,
    or an API 4xx other than :data:`TRANSIENT_CLIENT_STATUSES` and
    :data:`CREDENTIAL_STATUSES` (400 validation, 404, 422...). Everything else (5xx,
    401/403/407, transport errors, timeouts, the handler's own exceptions) is retried, and
    dead-lettered after ``max_deliveries``."""
    if isinstance(exc, PermanentError | InvalidRequestError | WebhookEventError):
        return True
    if _raised_from_permanent(exc):
        return True
    if isinstance(exc, APIStatusError):
        retried = TRANSIENT_CLIENT_STATUSES | CREDENTIAL_STATUSES
        return 400 <= exc.status < 500 and exc.status not in retried
    return False


def _raised_from_permanent(exc: BaseException) -> bool:
    """Whether ``exc`` was raised ``from`` a :class:`PermanentError` (at any depth of
    explicit causes; an exception merely raised while handling one does not count)."""
    seen: set[int] = set()
    cause = exc.__cause__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, PermanentError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__
    return False


def on_failure(settings: WorkerSettings, deliveries: int, *, permanent: bool = False) -> Next:
    """After a failed delivery number ``deliveries``: try again, or dead-letter it (at once
    for a permanent failure)."""
    if permanent:
        return Next.DEAD
    return Next.DEAD if deliveries >= settings.max_deliveries else Next.RETRY


def on_receipt(settings: WorkerSettings, deliveries: int) -> Next:
    """A (re)claimed message already delivered too often goes straight to dead letters."""
    return Next.DEAD if deliveries > settings.max_deliveries else Next.RUN


def check_fields(raw: Any) -> dict[str, str]:
    """A stream entry's fields as ``{str: str}`` (anything else is refused)."""
    if not isinstance(raw, Mapping):
        raise ValueError("stream entry fields must be a mapping")
    fields: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError("stream entry fields must be text")
        if has_undecodable(key) or has_undecodable(value):
            raise ValueError("stream entry fields must be UTF-8 text")
        fields[key] = value
    return fields

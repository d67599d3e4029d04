"""Webhooks admin: ``/v1/webhooks``, ``/v1/webhooks/events``, ``/v1/webhooks/public-keys``."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable
from typing import Any

from .. import validation as v
from .._listing import ListCall
from ..errors import InvalidRequestError
from ..ids import TeamId, VideoId, WebhookEventId, WebhookId, WebhookPublicKeyId
from ..import_url import check_import_url
from ..models.converter import format_datetime
from ..models.enums import FilterMode, SortBy, SortDirection
from ..models.webhooks import (
    Webhook,
    WebhookEvent,
    WebhookEventType,
    WebhookPatch,
    WebhookPost,
    WebhookPublicKey,
)
from ..pagination import AsyncPaginator
from ..webhooks.listen_url import receiver_url_hint
from ._base import Resource, TeamListing, body, decode, team_paging_params

RATE_LIMIT_RANGE = (1, 1000)
RETRY_MINUTES_RANGE = (0, 1440)
#: Active webhooks a team may have at once (more answers 409).
MAX_ACTIVE_WEBHOOKS = 10


def _url(value: Any, allow_loopback_http: bool) -> str:
    try:
        return check_import_url(value, "url", allow_loopback_http=allow_loopback_http)
    except InvalidRequestError as exc:
        hint = receiver_url_hint(value, allow_loopback_http=allow_loopback_http)
        if hint is None:
            raise
        raise InvalidRequestError("url", f"{exc.rule}; {hint}") from None


def _event_types(values: Any) -> list[WebhookEventType]:
    if isinstance(values, str | WebhookEventType) or not isinstance(values, Iterable):
        raise InvalidRequestError("event_types", "must be a list of event types")
    chosen = [v.one_of(f"event_types[{i}]", t, WebhookEventType) for i, t in enumerate(values)]
    if not chosen:
        raise InvalidRequestError("event_types", "must name at least one event type")
    return list(dict.fromkeys(chosen))


def _rate(value: Any) -> int:
    lo, hi = RATE_LIMIT_RANGE
    return v.integer("rate_limit_per_second", value, minimum=lo, maximum=hi)


def _retry_minutes(value: Any) -> int:
    lo, hi = RETRY_MINUTES_RANGE
    return v.integer("max_total_retry_delay_minutes", value, minimum=lo, maximum=hi)


def _when(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise InvalidRequestError(field, "must be a datetime.datetime")
    return format_datetime(value)


class WebhookEventsResource(Resource):
    """Events queued for your webhooks, with each delivery attempt's response."""

    def list(
        self,
        *,
        team_id: TeamId | str | None = None,
        successful_mode: FilterMode | str | None = None,
        test_mode: FilterMode | str | None = None,
        occurred_at_from: dt.datetime | None = None,
        occurred_at_until: dt.datetime | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[WebhookEvent]:
        """Events, optionally only (``ONLY``) or never (``EXCLUDE``) successful/test ones,
        occurring in ``[occurred_at_from, occurred_at_until)``."""
        params = team_paging_params(team_id, page_number, page_size, sort_direction, sort_by)
        if successful_mode is not None:
            params["successfulMode"] = v.one_of(
                "successful_mode", successful_mode, FilterMode
            ).value
        if test_mode is not None:
            params["testMode"] = v.one_of("test_mode", test_mode, FilterMode).value
        params["occurredAtFrom"] = _when("occurred_at_from", occurred_at_from)
        params["occurredAtUntil"] = _when("occurred_at_until", occurred_at_until)
        if (
            occurred_at_from is not None
            and occurred_at_until is not None
            and _aware(occurred_at_until) <= _aware(occurred_at_from)
        ):
            raise InvalidRequestError("occurred_at_until", "must be later than occurred_at_from")
        return self._paginate(WebhookEvent, "/v1/webhooks/events", params)

    async def get(self, event_id: WebhookEventId | str) -> WebhookEvent:
        """One delivered (or attempted) webhook event with its delivery attempts."""
        eid = v.uuid_str("event_id", event_id)
        return await self._get_model(WebhookEvent, "GET", f"/v1/webhooks/events/{eid}")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class WebhookPublicKeysResource(Resource):
    """The keys that sign deliveries (two during a rotation)."""

    def list(self) -> ListCall[WebhookPublicKey]:
        """The signing keys: ``await`` gives the list, ``async for`` walks it."""
        return ListCall(self._list)

    async def _list(self) -> builtins.list[WebhookPublicKey]:
        response = await self._call("GET", "/v1/webhooks/public-keys")
        return decode(response, list[WebhookPublicKey])

    async def get(self, key_id: WebhookPublicKeyId | str) -> WebhookPublicKey:
        """One signing key by its id."""
        kid = v.uuid_str("key_id", key_id)
        return await self._get_model(WebhookPublicKey, "GET", f"/v1/webhooks/public-keys/{kid}")


class WebhooksResource(TeamListing[Webhook]):
    """Create and manage webhook subscriptions; ``events`` and ``public_keys`` hang off it.

    ``url`` must be public HTTPS on port 443 (checked before sending, as Pixop checks it);
    ``allow_loopback_http=True`` also lets ``http://127.0.0.1`` URLs through, for tests
    against a local emulator started with ``allow_http_sources=True``.
    """

    _path = "/v1/webhooks"
    _model = Webhook

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.events = WebhookEventsResource(client)
        self.public_keys = WebhookPublicKeysResource(client)

    async def create(
        self,
        name: str,
        url: str,
        event_types: Iterable[WebhookEventType | str],
        *,
        rate_limit_per_second: int = 10,
        active: bool = True,
        description: str | None = None,
        select_team_id: TeamId | str | None = None,
        allow_loopback_http: bool = False,
    ) -> Webhook:
        """Subscribe ``url`` to ``event_types``. A team may have at most 10 active webhooks
        (the API answers 409 beyond that).

        The retry window (``max_total_retry_delay_minutes``) is read-only on creation in API
        2.1.0: the server sets its default (180 minutes); change it with :meth:`update`.
        """
        payload = body(
            WebhookPost(
                name=v.text("name", name, min_len=1),
                url=_url(url, allow_loopback_http),
                rate_limit_per_second=_rate(rate_limit_per_second),
                event_types=_event_types(event_types),
                active=v.boolean("active", active),
                description=v.optional_text("description", description),
            )
        )
        params = {"selectTeamId": v.optional_uuid("select_team_id", select_team_id)}
        return await self._get_model(Webhook, "POST", "/v1/webhooks", params=params, json=payload)

    async def get(self, webhook_id: WebhookId | str) -> Webhook:
        """One webhook subscription by its id."""
        wid = v.uuid_str("webhook_id", webhook_id)
        return await self._get_model(Webhook, "GET", f"/v1/webhooks/{wid}")

    async def update(
        self,
        webhook_id: WebhookId | str,
        *,
        name: str | None = None,
        url: str | None = None,
        event_types: Iterable[WebhookEventType | str] | None = None,
        rate_limit_per_second: int | None = None,
        max_total_retry_delay_minutes: int | None = None,
        description: str | None = None,
        allow_loopback_http: bool = False,
    ) -> Webhook:
        """Change the given fields (use :meth:`activate`/:meth:`deactivate` for ``active``)."""
        wid = v.uuid_str("webhook_id", webhook_id)
        patch = WebhookPatch(
            name=v.optional_text("name", name, min_len=1),
            description=v.optional_text("description", description),
            url=None if url is None else _url(url, allow_loopback_http),
            rate_limit_per_second=None
            if rate_limit_per_second is None
            else _rate(rate_limit_per_second),
            max_total_retry_delay_minutes=None
            if max_total_retry_delay_minutes is None
            else _retry_minutes(max_total_retry_delay_minutes),
            event_types=None if event_types is None else _event_types(event_types),
        )
        if patch == WebhookPatch():
            raise InvalidRequestError("webhook_id", "update needs at least one field to change")
        return await self._get_model(Webhook, "PATCH", f"/v1/webhooks/{wid}", json=body(patch))

    async def delete(self, webhook_id: WebhookId | str) -> None:
        """Delete a webhook subscription; no further deliveries are made to it."""
        wid = v.uuid_str("webhook_id", webhook_id)
        await self._call("DELETE", f"/v1/webhooks/{wid}")

    async def activate(self, webhook_id: WebhookId | str) -> Webhook:
        """Activate (no effect if active); 409 when the team already has 10 active ones."""
        wid = v.uuid_str("webhook_id", webhook_id)
        return await self._get_model(Webhook, "POST", f"/v1/webhooks/{wid}/activate")

    async def deactivate(self, webhook_id: WebhookId | str) -> Webhook:
        """Pause deliveries to a webhook (no effect if already inactive)."""
        wid = v.uuid_str("webhook_id", webhook_id)
        return await self._get_model(Webhook, "POST", f"/v1/webhooks/{wid}/deactivate")

    async def test(
        self,
        webhook_id: WebhookId | str,
        *,
        video_id: VideoId | str | None = None,
        event_type: WebhookEventType | str | None = None,
    ) -> WebhookEvent:
        """Send a test event (random video id / subscribed type when omitted). The API
        answers 409 for an inactive webhook or a type it is not subscribed to."""
        wid = v.uuid_str("webhook_id", webhook_id)
        params: dict[str, Any] = {"videoId": v.optional_uuid("video_id", video_id)}
        if event_type is not None:
            params["eventType"] = v.one_of("event_type", event_type, WebhookEventType).value
        return await self._get_model(
            WebhookEvent, "POST", f"/v1/webhooks/{wid}/test", params=params
        )

"""The escape hatch for enum values newer than the SDK: a pseudo-member built on purpose is
sent with a warning; the same text as a plain string is still refused before sending."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from pixop_async import Pixop
from pixop_async.errors import InvalidRequestError, UnknownEnumValueWarning
from pixop_async.models.enums import SortDirection
from pixop_async.models.processing_enums import ResolutionTag, Scaler
from pixop_async.models.processing_options import (
    Filters,
    FilterSettings,
    Resolution,
    VideoProcessingConfigurationOptions,
)
from pixop_async.models.webhooks import WebhookEventType
from tests.servers import serve

VIDEO = "11111111-2222-4333-8444-555555555555"
WEBHOOK = {
    "id": VIDEO,
    "createdAt": "2026-01-01T00:00:00Z",
    "updatedAt": "2026-01-01T00:00:00Z",
    "teamId": VIDEO,
    "active": True,
    "name": "w",
    "url": "https://hooks.example.com/x",
    "rateLimitPerSecond": 10,
    "maxTotalRetryDelayMinutes": 180,
    "eventTypes": ["video_out.cancelled"],
}
STATUS = {"videoId": VIDEO}
PAGE = {
    "items": [],
    "pageNumber": 0,
    "pageSize": 10,
    "numberOfElements": 0,
    "totalPages": 0,
    "totalElements": 0,
}


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[list[tuple[str, dict[str, str], Any]], Pixop]]:
    seen: list[tuple[str, dict[str, str], Any]] = []

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        seen.append((request.path, dict(request.query), json.loads(raw) if raw else None))
        if request.path.endswith("/webhooks") and request.method == "POST":
            return web.json_response(WEBHOOK)
        if request.method == "GET":
            return web.json_response(PAGE)
        return web.json_response(STATUS)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with serve(app) as root, Pixop("key", base_url=root + "/api") as px:
        yield seen, px


async def test_a_new_event_type_goes_out_with_a_warning(server: Any) -> None:
    seen, px = server
    with pytest.warns(UnknownEnumValueWarning, match=r"event_types\[0\].*video_out.cancelled"):
        created = await px.webhooks.create(
            "w", "https://hooks.example.com/x", [WebhookEventType("video_out.cancelled")]
        )
    assert seen[-1][2]["eventTypes"] == ["video_out.cancelled"]
    assert not created.event_types[0].known  # and it decodes back


async def test_the_same_text_as_a_plain_string_is_refused(server: Any) -> None:
    seen, px = server
    with pytest.raises(InvalidRequestError) as info:
        await px.webhooks.create("w", "https://hooks.example.com/x", ["video_out.cancelled"])
    assert info.value.field == "event_types[0]"
    assert seen == []


async def test_query_enums_take_the_escape_hatch_too(server: Any) -> None:
    seen, px = server
    with pytest.warns(UnknownEnumValueWarning, match="sort_direction"):
        await px.videos.list(sort_direction=SortDirection("RANDOM"))
    assert seen[-1][1]["sortDirection"] == "RANDOM"
    with pytest.raises(InvalidRequestError):
        await px.videos.list(sort_direction="RANDOM")


async def test_processing_options_with_a_new_scaler(server: Any) -> None:
    seen, px = server
    options = VideoProcessingConfigurationOptions(
        filters=Filters(scaler=Scaler("DVRES3")),
        filter_settings=FilterSettings(resolution=Resolution(tag=ResolutionTag.FULL_HD)),
    )
    with pytest.warns(UnknownEnumValueWarning, match=r"options\.filters\.scaler.*DVRES3"):
        await px.processing.start(VIDEO, options)
    assert seen[-1][2]["filters"] == {"scaler": "DVRES3"}

    as_mapping = {
        "filters": {"scaler": Scaler("DVRES3")},
        "filterSettings": {"resolution": {"tag": "FULL_HD"}},
    }
    with pytest.warns(UnknownEnumValueWarning):
        await px.processing.start(VIDEO, as_mapping)
    assert seen[-1][2]["filters"] == {"scaler": "DVRES3"}

    sent = len(seen)
    typo = {"filters": {"scaler": "DVRES3"}, "filterSettings": {"resolution": {"tag": "FULL_HD"}}}
    with pytest.raises(InvalidRequestError) as info:
        await px.processing.start(VIDEO, typo)
    assert info.value.field == "options.filters.scaler"
    # the rest of the options is still checked when one value is deliberate
    broken = VideoProcessingConfigurationOptions(filters=Filters(scaler=Scaler("DVRES3")))
    with pytest.warns(UnknownEnumValueWarning), pytest.raises(InvalidRequestError) as info:
        await px.processing.start(VIDEO, broken)
    assert "resolution" in info.value.field
    assert len(seen) == sent

"""The escape hatch for enum values newer than the SDK: a pseudo-member built on purpose is
sent with a warning; the same text as a plain string is still refused before sending."""

from __future__ import annotations

import json
import warnings
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
    # (and a request refused for another reason warns of nothing: nothing is sent)
    broken = VideoProcessingConfigurationOptions(filters=Filters(scaler=Scaler("DVRES3")))
    with warnings.catch_warnings(record=True) as caught, pytest.raises(InvalidRequestError) as info:
        warnings.simplefilter("always")
        await px.processing.start(VIDEO, broken)
    assert "resolution" in info.value.field
    assert [w for w in caught if issubclass(w.category, UnknownEnumValueWarning)] == []
    assert len(seen) == sent


@pytest.mark.parametrize("text", ["", " ", "DV RES3", "DVRES3\n", "x" * 129, "-DVRES3", "é"])
async def test_a_pseudo_member_must_still_look_like_an_enum_value(server: Any, text: str) -> None:
    """The hatch lets a new value through, not any text: blank, spaced, multi-line or
    oversized pseudo-members are refused before sending, without a warning."""
    seen, px = server
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InvalidRequestError) as info:
            await px.videos.list(sort_direction=SortDirection(text))
        assert info.value.field == "sort_direction"
        with pytest.raises(InvalidRequestError) as info:
            await px.webhooks.create(
                "w", "https://hooks.example.com/x", ["video.deleted", WebhookEventType(text)]
            )
        assert info.value.field == "event_types[1]"
        options = VideoProcessingConfigurationOptions(
            filters=Filters(scaler=Scaler(text)),
            filter_settings=FilterSettings(resolution=Resolution(tag=ResolutionTag.FULL_HD)),
        )
        with pytest.raises(InvalidRequestError) as info:
            await px.processing.start(VIDEO, options)
        assert info.value.field == "options.filters.scaler"
    assert len(str(info.value)) < 300
    assert [w for w in caught if issubclass(w.category, UnknownEnumValueWarning)] == []
    assert seen == []


async def test_longest_plausible_pseudo_member_still_passes(server: Any) -> None:
    seen, px = server
    with pytest.warns(UnknownEnumValueWarning):
        await px.videos.list(sort_direction=SortDirection("A" + "b_.:+-9" * 18 + "x" * 1))
    assert len(seen[-1][1]["sortDirection"]) == 128


async def test_a_new_codec_is_not_judged_by_rules_about_known_codecs(server: Any) -> None:
    """Container/codec and HDR10/HEVC rules know only the SDK's codecs: a codec sent on
    purpose goes out (the server has the last word); a known wrong codec is still refused."""
    from pixop_async.models.processing_options import (
        Codec,
        Colorimetry,
        EncodingConfiguration,
        HdrFormat,
        MediaContainer,
        OutputColorSpaceConversion,
        OutputMappingMode,
        ProcessingSettings,
    )

    seen, px = server
    base = {
        "container": MediaContainer.MP4,
        "filters": Filters(scaler=Scaler.DVRES2),
        "filter_settings": FilterSettings(resolution=Resolution(tag=ResolutionTag.FULL_HD)),
    }
    new = VideoProcessingConfigurationOptions(
        encoding_configuration=EncodingConfiguration(codec=Codec("AV1")), **base
    )
    with pytest.warns(UnknownEnumValueWarning, match="codec"):
        await px.processing.start(VIDEO, new)
    assert seen[-1][2]["encodingConfiguration"] == {"codec": "AV1"}
    hdr10 = ProcessingSettings(
        output_color_space_conversion=OutputColorSpaceConversion(
            mapping_mode=OutputMappingMode.USER_PRIORITY,
            color_profile=Colorimetry(hdr_format=HdrFormat.HDR10),
        )
    )
    with pytest.warns(UnknownEnumValueWarning):
        await px.processing.start(
            VIDEO,
            VideoProcessingConfigurationOptions(
                encoding_configuration=EncodingConfiguration(codec=Codec("AV1")),
                processing_settings=hdr10,
                **base,
            ),
        )
    sent = len(seen)
    for wrong in (
        VideoProcessingConfigurationOptions(
            encoding_configuration=EncodingConfiguration(codec=Codec.XDCAM), **base
        ),
        VideoProcessingConfigurationOptions(
            encoding_configuration=EncodingConfiguration(codec=Codec.H264),
            processing_settings=hdr10,
            **base,
        ),
    ):
        with pytest.raises(InvalidRequestError):
            await px.processing.start(VIDEO, wrong)
    assert len(seen) == sent

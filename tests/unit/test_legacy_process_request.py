"""ProcessVideoRequest enforces the process-video table client-side, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixop_async.errors import InvalidRequestError
from pixop_async.legacy import Codec, ProcessVideoRequest, ResolutionTag, Scaler
from pixop_async.legacy.process_request import (
    AppleProresProfile,
    ClarityBoost,
    DnxhdHrProfile,
)


def rejected(field: str, **options: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        ProcessVideoRequest(**options)
    assert info.value.field == field, str(info.value)
    return info.value


def test_full_example_from_the_spec_serialises_to_the_nested_shape() -> None:
    req = ProcessVideoRequest(
        container="mov",
        codec="dnxhd",
        dnxhd_hr_profile="dnxhd_sq",
        yuv="4:2:2",
        bits=8,
        mbps=20.5,
        deinterlacer="deint",
        denoiser="denoise",
        stabilizer="dejit",
        scaler="pabsr1",
        tag="hd_1080p",
        clarity_boost="low",
        start_position_ms=0,
        end_position_ms=30000,
    )
    assert req.to_json() == {
        "mediaContainerCodec": {"container": "mov", "codec": "dnxhd"},
        "dnxhdHrProfile": "dnxhd_sq",
        "chromaSubsampling": {"yuv": "4:2:2", "bits": 8},
        "bitrate": {"mbps": 20.5},
        "deinterlacer": "deint",
        "denoiser": "denoise",
        "stabilizer": "dejit",
        "scaler": "pabsr1",
        "resolution": {"tag": "hd_1080p"},
        "clarityBoost": "low",
        "range": {"startPositionMilliseconds": 0, "endPositionMilliseconds": 30000},
    }


def test_empty_request_sends_an_empty_body() -> None:
    assert ProcessVideoRequest().to_json() == {}


@pytest.mark.parametrize(
    ("field", "options"),
    [
        ("container", {"container": "avi"}),
        ("codec", {"codec": "vp9"}),
        ("apple_prores_profile", {"codec": "prores", "apple_prores_profile": "ultra"}),
        ("dnxhd_hr_profile", {"codec": "dnxhd", "dnxhd_hr_profile": "dnxhr_xx"}),
        ("yuv", {"yuv": "4:2:1"}),
        ("bits", {"bits": 9}),
        ("bits", {"bits": "8"}),
        ("mbps", {"mbps": 0.001}),
        ("mbps", {"mbps": 4000.5}),
        ("mbps", {"mbps": float("nan")}),
        ("deinterlacer", {"deinterlacer": "bob"}),
        ("denoiser", {"denoiser": "nlmeans"}),
        ("stabilizer", {"stabilizer": "vidstab"}),
        ("scaler", {"scaler": "lanczos"}),
        ("tag", {"tag": "sd_576i"}),
        ("width", {"width": 15, "height": 100}),
        ("width", {"width": 7681, "height": 100}),
        ("height", {"width": 100, "height": 4321}),
        ("height", {"width": 100, "height": 15}),
        ("clarity_boost", {"scaler": "pabsr1", "clarity_boost": "extreme"}),
        ("start_position_ms", {"start_position_ms": -1}),
        ("end_position_ms", {"end_position_ms": 1.5}),
        # cross-field rules
        ("apple_prores_profile", {"codec": "h264", "apple_prores_profile": "hq"}),
        ("apple_prores_profile", {"apple_prores_profile": "hq"}),
        ("dnxhd_hr_profile", {"codec": "prores", "dnxhd_hr_profile": "dnxhr_hq"}),
        ("dnxhd_hr_profile", {"dnxhd_hr_profile": "dnxhr_hq"}),
        ("width", {"tag": "uhd_4k", "width": 3840, "height": 2160}),
        ("height", {"tag": "uhd_4k", "height": 2160}),
        ("height", {"width": 1280}),
        ("width", {"height": 720}),
        ("clarity_boost", {"clarity_boost": "high"}),
        ("clarity_boost", {"scaler": "dvres", "clarity_boost": "high"}),
        ("end_position_ms", {"start_position_ms": 5000, "end_position_ms": 5000}),
    ],
)
def test_each_rule_of_the_table_is_enforced(field: str, options: dict[str, Any]) -> None:
    rejected(field, **options)


def test_accepted_boundaries() -> None:
    ProcessVideoRequest(mbps=0.01)
    ProcessVideoRequest(mbps=4000)
    ProcessVideoRequest(width=16, height=16)
    ProcessVideoRequest(width=7680, height=4320)
    ProcessVideoRequest(clarity_boost="none")
    ProcessVideoRequest(scaler=Scaler.PABSR1, clarity_boost=ClarityBoost.VERY_HIGH)
    ProcessVideoRequest(codec=Codec.PRORES, apple_prores_profile="4444xq")
    ProcessVideoRequest(codec="dnxhd", dnxhd_hr_profile=DnxhdHrProfile.DNXHR_444)


def test_clip_is_checked_against_the_video_duration() -> None:
    req = ProcessVideoRequest(start_position_ms=1000, end_position_ms=60001)
    req.check_clip(70000)
    with pytest.raises(InvalidRequestError) as info:
        req.check_clip(60000)
    assert info.value.field == "end_position_ms"


OPTIONAL = st.none()
CODECS = st.one_of(OPTIONAL, st.sampled_from([c.value for c in Codec]))
PRORES = st.one_of(OPTIONAL, st.sampled_from([p.value for p in AppleProresProfile]))
DNX = st.one_of(OPTIONAL, st.sampled_from([p.value for p in DnxhdHrProfile]))
TAGS = st.one_of(OPTIONAL, st.sampled_from([t.value for t in ResolutionTag]))
SIZES = st.one_of(OPTIONAL, st.integers(min_value=0, max_value=9000))
SCALERS = st.one_of(OPTIONAL, st.sampled_from([s.value for s in Scaler]))
BOOSTS = st.one_of(OPTIONAL, st.sampled_from([b.value for b in ClarityBoost]))
MBPS = st.one_of(OPTIONAL, st.floats(min_value=0, max_value=5000, allow_nan=False))


def table_allows(o: dict[str, Any]) -> bool:
    """The spec's table, written independently of the implementation."""
    if o["apple_prores_profile"] is not None and o["codec"] != "prores":
        return False
    if o["dnxhd_hr_profile"] is not None and o["codec"] != "dnxhd":
        return False
    if o["mbps"] is not None and not 0.01 <= o["mbps"] <= 4000.0:
        return False
    w, h = o["width"], o["height"]
    if w is not None and not 16 <= w <= 7680:
        return False
    if h is not None and not 16 <= h <= 4320:
        return False
    if o["tag"] is not None and (w is not None or h is not None):
        return False
    if o["tag"] is None and (w is None) != (h is None):
        return False
    return not (o["clarity_boost"] not in (None, "none") and o["scaler"] != "pabsr1")


@settings(max_examples=400, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "codec": CODECS,
            "apple_prores_profile": PRORES,
            "dnxhd_hr_profile": DNX,
            "tag": TAGS,
            "width": SIZES,
            "height": SIZES,
            "scaler": SCALERS,
            "clarity_boost": BOOSTS,
            "mbps": MBPS,
        }
    )
)
def test_model_accepts_exactly_what_the_table_allows(options: dict[str, Any]) -> None:
    try:
        req = ProcessVideoRequest(**options)
    except InvalidRequestError as exc:
        assert not table_allows(options), f"refused a valid request: {exc}"
        assert exc.field in options
    else:
        assert table_allows(options), f"accepted an invalid request: {options}"
        body = req.to_json()
        if options["tag"] is not None:
            assert body["resolution"] == {"tag": options["tag"]}

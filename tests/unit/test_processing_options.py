"""The processing options model and its rules (client-side validation)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixop_async.errors import InvalidRequestError, UnknownEnumValueWarning
from pixop_async.models import processing_options as po
from pixop_async.models.processing_rules import CONTAINER_CODECS, check_options, raise_first
from pixop_async.models.webhooks import WebhookEventType


def field_of(options: Any) -> str:
    with pytest.raises(InvalidRequestError) as info:
        if isinstance(options, po.VideoProcessingConfigurationOptions):
            options.validate()
        else:
            raise_first(options)
    return info.value.field


def valid(options: dict[str, Any]) -> bool:
    return not check_options(options)


# --------------------------------------------------------------------------- model


def test_enums_cover_the_reference() -> None:
    assert len(list(WebhookEventType)) == 22
    assert len(list(po.EncodingProfile)) == 35
    assert [m.value for m in po.ResolutionTag][-4:] == ["1X", "2X", "3X", "4X"]
    assert po.AspectRatioTag("16:9") is po.AspectRatioTag.RATIO_16_9
    assert po.ChromaSubsampling("4:2:0") is po.ChromaSubsampling.YUV_420
    future = po.Scaler("DVRES3")  # unknown values parse
    assert not future.known
    # as text they are refused; as a pseudo-member built on purpose they pass with a warning
    # (the escape hatch for values newer than the SDK) while every other rule still applies
    assert field_of({"filters": {"scaler": "DVRES3"}}) == "options.filters.scaler"
    # (the warning comes only with options that go out: refused ones warn of nothing)
    bad = po.VideoProcessingConfigurationOptions(filters=po.Filters(scaler=future))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownEnumValueWarning)
        assert field_of(bad) == "options.filter_settings.resolution"
    good = po.VideoProcessingConfigurationOptions(
        filters=po.Filters(scaler=future),
        filter_settings=po.FilterSettings(resolution=po.Resolution(tag=po.ResolutionTag.FULL_HD)),
    )
    with pytest.warns(UnknownEnumValueWarning, match="options.filters.scaler"):
        assert good.validate() is good


def test_json_round_trip_uses_api_names() -> None:
    options = po.VideoProcessingConfigurationOptions(
        encoding_configuration=po.EncodingConfiguration(
            codec=po.Codec.HEVC,
            pixel_format=po.PixelFormat(yuv=po.ChromaSubsampling.YUV_420, bit_depth=10),
            bitrate=8_000_000,
        ),
        container=po.MediaContainer.MP4,
        filters=po.Filters(scaler=po.Scaler.DVRES2, frame_rate_converter=po.FrameRateConverter.VFI),
        filter_settings=po.FilterSettings(
            dvres2_variant=po.Dvres2Variant.FINE_TUNING,
            resolution=po.Resolution(width=1920, aspect_ratio_tag=po.AspectRatioTag.RATIO_16_9),
            frame_rate=po.FrameRateSetting(tag=po.FrameRateTag.VIDEO_HD_FAST),
        ),
        processing_settings=po.ProcessingSettings(
            output_color_space_conversion=po.OutputColorSpaceConversion(
                mapping_mode=po.OutputMappingMode.USER_PRIORITY,
                color_profile=po.Colorimetry(hdr_format=po.HdrFormat.HDR10, max_cll=1000),
                inverse_tone_mapper=po.InverseToneMapper(
                    algorithm=po.InverseToneMapperAlgorithm.INFINITEHDR, saturation_boost=1.2
                ),
            ),
            output_scanning=po.OutputScanning.PROGRESSIVE,
        ),
    )
    data = options.validate().to_json()
    assert data["encodingConfiguration"]["pixelFormat"] == {"yuv": "4:2:0", "bitDepth": 10}
    assert data["filterSettings"]["dvres2Variant"] == "FINE_TUNING"
    assert data["filterSettings"]["resolution"] == {"width": 1920, "aspectRatioTag": "16:9"}
    assert data["processingSettings"]["outputColorSpaceConversion"]["inverseToneMapper"] == {
        "algorithm": "INFINITEHDR",
        "saturationBoost": 1.2,
    }
    assert po.VideoProcessingConfigurationOptions.from_json(data) == options


# --------------------------------------------------------------------------- compatibility


CODEC_SOURCES: dict[str, dict[str, Any]] = {
    "H264": {"encodingConfiguration": {"codec": "H264"}},
    "MPEG2": {"encodingConfiguration": {"codec": "MPEG2"}},
    "HEVC": {"encodingConfiguration": {"codec": "HEVC"}},
    "XDCAM": {"encodingConfiguration": {"codec": "XDCAM"}},
    "FFV1": {"encodingConfiguration": {"codec": "FFV1"}},
    "PRORES": {"encodingProfile": "PRORES_4444_XQ"},
    "DNXHD": {"encodingProfile": "DNXHR_LB"},
}


@pytest.mark.parametrize("container", ["MOV", "MXF", "MP4", "MPEGTS"])
@pytest.mark.parametrize("codec", sorted(CODEC_SOURCES))
def test_container_codec_table(container: str, codec: str) -> None:
    options = {"container": container, **CODEC_SOURCES[codec]}
    allowed = codec in CONTAINER_CODECS[container]
    problems = check_options(options)
    assert (not problems) == allowed
    if not allowed:
        assert problems[0].code == "CONTAINER_IS_NOT_SUPPORTED_FOR_SELECTED_CODEC"
        assert field_of(options) == "options.container"


def test_profile_with_configuration_is_refused_only_in_strict_mode() -> None:
    options = {"encodingProfile": "PRORES_422_LT", "encodingConfiguration": {"codec": "H264"}}
    assert field_of(options) == "options.encoding_configuration"
    assert check_options(options, strict=False) == []


# --------------------------------------------------------------------------- filter settings


@pytest.mark.parametrize(
    ("filters", "needed"),
    [
        ({"deinterlacer": "YADIF"}, "interlaced_field_order_mode"),
        ({"reshaper": "CROP"}, "normalized_crop_coordinates"),
        ({"prescaler": "SCALE"}, "prescaled_resolution"),
        ({"augmenter": "FACEFORWARD"}, "face_forward"),
        ({"scaler": "DVRES"}, "resolution"),
        ({"frameRateConverter": "FBLEND"}, "frame_rate"),
        ({"postProcessor": "FILMGRAIN"}, "film_grain"),
    ],
)
def test_filters_need_their_settings(filters: dict[str, str], needed: str) -> None:
    assert field_of({"filters": filters}) == f"options.filter_settings.{needed}"


def test_pabsr1_needs_a_clarity_boost() -> None:
    options = {"filters": {"scaler": "PABSR1"}, "filterSettings": {"resolution": {"tag": "2X"}}}
    assert field_of(options) == "options.filter_settings.clarity_boost"
    options["filterSettings"]["clarityBoost"] = "LOW"
    assert valid(options)


@pytest.mark.parametrize(
    ("resolution", "ok"),
    [
        ({"tag": "FULL_HD"}, True),
        ({"width": 1280, "height": 720}, True),
        ({"width": 1280, "aspectRatioTag": "4:3"}, True),
        ({"height": 720, "aspectRatioTag": "DISPLAY"}, True),
        ({"width": 1280}, False),
        ({"aspectRatioTag": "16:9"}, False),
        ({}, False),
    ],
)
def test_resolution_needs_a_complete_size(resolution: dict[str, Any], ok: bool) -> None:
    options = {"filters": {"scaler": "SCALE"}, "filterSettings": {"resolution": resolution}}
    problems = check_options(options)
    assert (not problems) == ok
    if not ok:
        assert problems[0].code == "MISSING_CUSTOM_RESOLUTION"


def test_crop_corners_must_be_ordered() -> None:
    crop = {"x1": 0.5, "y1": 0.1, "x2": 0.4, "y2": 0.9}
    options = {
        "filters": {"reshaper": "CROP"},
        "filterSettings": {"normalizedCropCoordinates": crop},
    }
    assert field_of(options) == "options.filter_settings.normalized_crop_coordinates.x2"


def test_frame_rate_needs_a_tag_or_fps() -> None:
    options = {"filters": {"frameRateConverter": "FPS"}, "filterSettings": {"frameRate": {}}}
    assert field_of(options) == "options.filter_settings.frame_rate"


# --------------------------------------------------------------------------- ranges


INT_RANGES = [
    (("filterSettings", "faceForward", "colorBoost"), 0, 30),
    (("filterSettings", "faceForward", "relightIntensity"), 0, 200),
    (("filterSettings", "faceForward", "backgroundBlur"), 0, 20),
    (("filterSettings", "filmGrain", "grainStrength"), 0, 50),
    (("filterSettings", "prescaledResolution", "width"), 16, 7680),
    (("filterSettings", "prescaledResolution", "height"), 16, 4320),
    (("filterSettings", "resolution", "width"), 16, 7680),
    (("filterSettings", "resolution", "height"), 16, 4320),
]
BASES: dict[str, dict[str, Any]] = {
    "faceForward": {
        "colorBoost": 0,
        "autoWhiteBalance": True,
        "relightIntensity": 0,
        "backgroundBlur": 0,
    },
    "filmGrain": {"grainSize": "FINE", "grainStrength": 0},
    "prescaledResolution": {"width": 16, "height": 16},
    "resolution": {"width": 16, "height": 16},
}


def with_value(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    group, name = path[1], path[2]
    return {"filterSettings": {group: {**BASES[group], name: value}}}


def snake_path(path: tuple[str, ...]) -> str:
    import re

    return "options." + ".".join(re.sub(r"([A-Z])", r"_\1", p).lower() for p in path)


@pytest.mark.parametrize(("path", "lo", "hi"), INT_RANGES)
@given(data=st.data())
def test_integer_ranges(path: tuple[str, ...], lo: int, hi: int, data: st.DataObject) -> None:
    inside = data.draw(st.integers(lo, hi))
    assert valid(with_value(path, inside))
    outside = data.draw(st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1)))
    assert field_of(with_value(path, outside)) == snake_path(path)
    assert field_of(with_value(path, float(inside) + 0.5)) == snake_path(path)
    assert field_of(with_value(path, True)) == snake_path(path)


@given(fps=st.floats(0.001, 999, allow_nan=False))
def test_fps_range_inside(fps: float) -> None:
    options = {
        "filters": {"frameRateConverter": "FPS"},
        "filterSettings": {"frameRate": {"fps": fps}},
    }
    assert valid(options)


@given(fps=st.one_of(st.floats(max_value=0.000999), st.floats(min_value=999.0001)))
def test_fps_range_outside(fps: float) -> None:
    options = {"filterSettings": {"frameRate": {"fps": fps}}}
    assert field_of(options) == "options.filter_settings.frame_rate.fps"


@given(point=st.floats(allow_nan=False, allow_infinity=False))
def test_normalized_coordinates(point: float) -> None:
    crop = {"x1": 0.0, "y1": 0.0, "x2": 1.0, "y2": point}
    problems = check_options({"filterSettings": {"normalizedCropCoordinates": crop}})
    assert (not problems) == (0 < point <= 1)


def test_bitrate_and_bit_depth() -> None:
    assert valid({"encodingConfiguration": {"bitrate": 10_000}})
    assert field_of({"encodingConfiguration": {"bitrate": 9_999}}) == (
        "options.encoding_configuration.bitrate"
    )
    for depth in (8, 10, 12):
        assert valid({"encodingConfiguration": {"pixelFormat": {"bitDepth": depth}}})
    assert field_of({"encodingConfiguration": {"pixelFormat": {"bitDepth": 9}}}) == (
        "options.encoding_configuration.pixel_format.bit_depth"
    )


def test_required_fields_and_types() -> None:
    assert field_of({"filterSettings": {"filmGrain": {"grainStrength": 3}}}) == (
        "options.filter_settings.film_grain.grain_size"
    )
    assert field_of({"filters": "DVRES2"}) == "options.filters"
    assert field_of([]) == "options"
    assert field_of({"container": "AVI"}) == "options.container"


# --------------------------------------------------------------------------- colour


def output(profile: dict[str, Any], mode: str = "USER_PRIORITY", **extra: Any) -> dict[str, Any]:
    conversion = {"mappingMode": mode, "colorProfile": profile}
    return {"processingSettings": {"outputColorSpaceConversion": conversion}, **extra}


def test_strict_user_needs_a_complete_profile() -> None:
    complete = {
        "colorSpace": "BT709",
        "colorPrimaries": "BT709",
        "transferCharacteristics": "BT709",
        "colorRange": "LIMITED",
    }
    assert valid(output(complete, "STRICT_USER"))
    partial = {k: v for k, v in complete.items() if k != "colorRange"}
    problems = check_options(output(partial, "STRICT_USER"))
    assert problems[0].code == "INVALID_OUTPUT_COLOR_CONVERSION"
    assert problems[0].path[-1] == "colorRange"
    inputs = {"processingSettings": {"inputColorSpaceConversion": {"mappingMode": "STRICT_USER"}}}
    assert check_options(inputs)[0].code == "INVALID_INPUT_COLOR_CONVERSION"


def test_hdr_formats_constrain_colorimetry_and_encoding() -> None:
    assert valid(output({"hdrFormat": "HLG", "transferCharacteristics": "ARIB_STD_B67"}))
    wrong_transfer = output({"hdrFormat": "HLG", "transferCharacteristics": "SMPTE2084"})
    assert field_of(wrong_transfer).endswith("color_profile.transfer_characteristics")
    assert field_of(output({"hdrFormat": "PQ10", "colorSpace": "BT709"})).endswith(".color_space")
    h264 = {"encodingConfiguration": {"codec": "H264"}}
    assert field_of(output({"hdrFormat": "HDR10"}, **h264)).endswith("color_profile.hdr_format")
    eight_bit = {"encodingConfiguration": {"codec": "HEVC", "pixelFormat": {"bitDepth": 8}}}
    assert field_of(output({"hdrFormat": "HDR10"}, **eight_bit)) == (
        "options.encoding_configuration.pixel_format.bit_depth"
    )
    assert valid(output({"hdrFormat": "HDR10"}, encodingConfiguration={"codec": "HEVC"}))


def test_mastering_display_needs_points_without_a_tag() -> None:
    display = {"red": {"x": 0.68, "y": 0.32}}
    problems = check_options(output({"masteringDisplay": display}))
    assert [p.path[-1] for p in problems] == ["green", "blue", "whitePoint"]
    assert valid(output({"masteringDisplay": {"tag": "P3_D65", "maxLuminance": 1000}}))
    assert not valid(output({"masteringDisplay": {"tag": "P3_D65", "maxLuminance": 10001}}))

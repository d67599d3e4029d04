"""The documented rules of processing options, checked on their JSON form.

:func:`check_options` walks an options object (API JSON: camelCase keys) and returns every
:class:`Violation` it finds: wrong types, unknown enum values, out-of-range numbers, missing
required fields, and the cross-field rules (a filter needs its settings, codec/container
compatibility, HDR requirements, complete colour profiles in ``STRICT_USER`` mode...).

The same function serves the SDK (``VideoProcessingConfigurationOptions.validate()`` raises
the first violation as :class:`~pixop_async.errors.InvalidRequestError` with a snake_case dotted
path) and the emulator (which answers 400 with the violation's ``code``).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ..errors import InvalidRequestError
from . import processing_options as po


@attrs.frozen
class Violation:
    """One broken rule: ``path`` (camelCase JSON keys), the ``rule`` and an API error code."""

    path: tuple[str, ...]
    rule: str
    code: str = "VALIDATION_ERROR"

    def dotted(self, root: str = "options", *, snake: bool = False) -> str:
        parts = [_snake(p) for p in self.path] if snake else list(self.path)
        return ".".join([root, *parts]) if root else ".".join(parts)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), name)


# --------------------------------------------------------------------------- schema


@attrs.frozen
class Spec:
    """The type and bounds of one JSON field."""

    kind: str  # "enum" | "int" | "num" | "bool" | "str" | "obj"
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    values: frozenset[Any] = frozenset()
    fields: Mapping[str, Spec] | None = None


def _enum(cls: type[enum.Enum], required: bool = False) -> Spec:
    return Spec("enum", required, values=frozenset(m.value for m in cls))


def _int(lo: float | None = None, hi: float | None = None, required: bool = False) -> Spec:
    return Spec("int", required, lo, hi)


def _num(lo: float | None = None, hi: float | None = None, required: bool = False) -> Spec:
    return Spec("num", required, lo, hi)


def _obj(fields: Mapping[str, Spec], required: bool = False) -> Spec:
    return Spec("obj", required, fields=fields)


_POINT = _obj({"x": _num(0, 1), "y": _num(0, 1)})
_COLORIMETRY = _obj(
    {
        "colorSpace": _enum(po.ColorSpace),
        "colorPrimaries": _enum(po.ColorPrimaries),
        "transferCharacteristics": _enum(po.TransferCharacteristics),
        "colorRange": _enum(po.ColorRange),
        "hdrFormat": _enum(po.HdrFormat),
        "masteringDisplay": _obj(
            {
                "tag": _enum(po.MasteringDisplayTag),
                "red": _POINT,
                "green": _POINT,
                "blue": _POINT,
                "whitePoint": _POINT,
                "minLuminance": _num(0, 10000),
                "maxLuminance": _num(0, 10000),
            }
        ),
        "maxCll": _num(0, 10000),
        "maxFall": _num(0, 10000),
    }
)
_RESOLUTION_BOUNDS = {"width": (16, 7680), "height": (16, 4320)}

OPTIONS = _obj(
    {
        "encodingProfile": _enum(po.EncodingProfile),
        "encodingConfiguration": _obj(
            {
                "codec": _enum(po.Codec),
                "pixelFormat": _obj(
                    {
                        "yuv": _enum(po.ChromaSubsampling),
                        "bitDepth": Spec("int", values=frozenset(po.BIT_DEPTHS)),
                        "name": Spec("str"),
                    }
                ),
                "bitrate": _int(10000),
            }
        ),
        "container": _enum(po.MediaContainer),
        "filters": _obj(
            {
                "deinterlacer": _enum(po.Deinterlacer),
                "reshaper": _enum(po.Reshaper),
                "prescaler": _enum(po.Prescaler),
                "denoiser": _enum(po.Denoiser),
                "stabilizer": _enum(po.Stabilizer),
                "augmenter": _enum(po.Augmenter),
                "scaler": _enum(po.Scaler),
                "frameRateConverter": _enum(po.FrameRateConverter),
                "debander": _enum(po.Debander),
                "postProcessor": _enum(po.PostProcessor),
            }
        ),
        "filterSettings": _obj(
            {
                "interlacedFieldOrderMode": _enum(po.InterlacedFieldOrderMode),
                "normalizedCropCoordinates": _obj(
                    {k: _num(0, 1, required=True) for k in ("x1", "y1", "x2", "y2")}
                ),
                "cropRectangle": _obj(
                    {
                        "width": _int(1, required=True),
                        "height": _int(1, required=True),
                        "x": _int(0),
                        "y": _int(0),
                    }
                ),
                "prescaledResolution": _obj(
                    {k: _int(lo, hi, required=True) for k, (lo, hi) in _RESOLUTION_BOUNDS.items()}
                ),
                "faceForward": _obj(
                    {
                        "colorBoost": _int(0, 30, required=True),
                        "autoWhiteBalance": Spec("bool", required=True),
                        "relightIntensity": _int(0, 200, required=True),
                        "backgroundBlur": _int(0, 20, required=True),
                    }
                ),
                "dvres2Variant": _enum(po.Dvres2Variant),
                "clarityBoost": _enum(po.ClarityBoost),
                "resolution": _obj(
                    {
                        "tag": _enum(po.ResolutionTag),
                        **{k: _int(lo, hi) for k, (lo, hi) in _RESOLUTION_BOUNDS.items()},
                        "aspectRatioTag": _enum(po.AspectRatioTag),
                    }
                ),
                "frameRate": _obj({"tag": _enum(po.FrameRateTag), "fps": _num(0.001, 999)}),
                "filmGrain": _obj(
                    {
                        "grainSize": _enum(po.GrainSize, required=True),
                        "grainStrength": _int(0, 50, required=True),
                    }
                ),
            }
        ),
        "processingSettings": _obj(
            {
                "inputColorSpaceConversion": _obj(
                    {
                        "mappingMode": _enum(po.InputMappingMode, required=True),
                        "colorProfile": _COLORIMETRY,
                        "metadataOnly": Spec("bool"),
                        "toneMapper": _obj(
                            {
                                "algorithm": _enum(po.ToneMapperAlgorithm, required=True),
                                "outputNits": _num(0, 10000),
                            }
                        ),
                    }
                ),
                "outputColorSpaceConversion": _obj(
                    {
                        "mappingMode": _enum(po.OutputMappingMode, required=True),
                        "colorProfile": _COLORIMETRY,
                        "metadataOnly": Spec("bool"),
                        "inverseToneMapper": _obj(
                            {
                                "algorithm": _enum(po.InverseToneMapperAlgorithm, required=True),
                                "outputNits": _num(0, 10000),
                                "saturationBoost": _num(0),
                            }
                        ),
                    }
                ),
                "fixedOutputResolution": _enum(po.FixedOutputResolution),
                "outputScanning": _enum(po.OutputScanning),
            }
        ),
    }
)


def _check_value(
    spec: Spec,
    value: Any,
    path: tuple[str, ...],
    deliberate: frozenset[tuple[str, ...]] = frozenset(),
) -> Iterator[Violation]:
    if spec.kind == "obj":
        if not isinstance(value, dict):
            yield Violation(path, "must be an object")
            return
        assert spec.fields is not None
        for name, field_spec in spec.fields.items():
            item = value.get(name)
            if item is None:
                if field_spec.required:
                    yield Violation((*path, name), "is required")
                continue
            yield from _check_value(field_spec, item, (*path, name), deliberate)
        return
    if spec.kind == "enum":
        if path in deliberate and isinstance(value, str):
            return  # an unknown value sent on purpose (see .escape)
        if not isinstance(value, str) or value not in spec.values:
            allowed = ", ".join(sorted(spec.values))
            yield Violation(path, f"must be one of {allowed}")
        return
    if spec.kind == "bool":
        if not isinstance(value, bool):
            yield Violation(path, "must be true or false")
        return
    if spec.kind == "str":
        if not isinstance(value, str):
            yield Violation(path, "must be a string")
        return
    yield from _check_number(spec, value, path)


def _check_number(spec: Spec, value: Any, path: tuple[str, ...]) -> Iterator[Violation]:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if spec.kind == "int" and not is_int:
        yield Violation(path, "must be an integer")
        return
    if spec.kind == "num" and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        yield Violation(path, "must be a finite number")
        return
    if spec.values and value not in spec.values:
        yield Violation(path, "must be one of " + ", ".join(str(v) for v in sorted(spec.values)))
    if spec.lo is not None and value < spec.lo:
        yield Violation(path, f"must be >= {spec.lo:g}")
    if spec.hi is not None and value > spec.hi:
        yield Violation(path, f"must be <= {spec.hi:g}")


# --------------------------------------------------------------------------- cross rules

#: Codecs each container can carry (ProRes and DNxHD come from encoding profiles).
CONTAINER_CODECS: Mapping[str, frozenset[str]] = {
    "MOV": frozenset({"H264", "PRORES", "DNXHD", "HEVC", "MPEG2", "FFV1"}),
    "MXF": frozenset({"H264", "XDCAM", "MPEG2", "DNXHD"}),
    "MP4": frozenset({"H264", "HEVC"}),
    "MPEGTS": frozenset({"H264", "HEVC", "MPEG2"}),
}

#: filter slot → (value or None for any, the filterSettings key it needs)
_FILTER_NEEDS: tuple[tuple[str, str | None, str], ...] = (
    ("deinterlacer", None, "interlacedFieldOrderMode"),
    ("reshaper", "CROP", "normalizedCropCoordinates"),
    ("prescaler", None, "prescaledResolution"),
    ("augmenter", "FACEFORWARD", "faceForward"),
    ("scaler", None, "resolution"),
    ("scaler", "PABSR1", "clarityBoost"),
    ("frameRateConverter", None, "frameRate"),
    ("postProcessor", "FILMGRAIN", "filmGrain"),
)

#: Codecs this SDK knows (configured, or implied by a profile). A rule about codecs only
#: judges these: a codec newer than the SDK (sent on purpose, see .escape) is the server's call.
KNOWN_CODECS = frozenset({c.value for c in po.Codec} | {"PRORES", "DNXHD"})

_HDR_TRANSFER = {"HLG": "ARIB_STD_B67", "PQ10": "SMPTE2084", "HDR10": "SMPTE2084"}


def effective_codec(options: Mapping[str, Any]) -> str | None:
    """The codec the options encode with: implied by the profile, else configured."""
    profile = options.get("encodingProfile")
    if isinstance(profile, str):
        if profile.startswith("PRORES"):
            return "PRORES"
        if profile.startswith("DNXH"):
            return "DNXHD"
    config = options.get("encodingConfiguration") or {}
    codec = config.get("codec") if isinstance(config, dict) else None
    return codec if isinstance(codec, str) else None


def _cross_rules(options: Mapping[str, Any], strict: bool) -> Iterator[Violation]:
    if strict and options.get("encodingProfile") and options.get("encodingConfiguration"):
        yield Violation(
            ("encodingConfiguration",),
            "must not be set together with encodingProfile (the profile wins)",
        )
    container, codec = str(options.get("container")), effective_codec(options)
    if (
        container in CONTAINER_CODECS
        and codec in KNOWN_CODECS
        and codec not in CONTAINER_CODECS[container]
    ):
        yield Violation(
            ("container",),
            f"{container} cannot carry {codec}; it supports "
            + ", ".join(sorted(CONTAINER_CODECS[container])),
            "CONTAINER_IS_NOT_SUPPORTED_FOR_SELECTED_CODEC",
        )
    filters = options.get("filters") or {}
    settings = options.get("filterSettings") or {}
    for slot, value, needed in _FILTER_NEEDS:
        chosen = filters.get(slot)
        if (
            chosen is not None
            and (value is None or chosen == value)
            and settings.get(needed) is None
        ):
            yield Violation(
                ("filterSettings", needed), f"is required when filters.{slot} is {chosen}"
            )
    yield from _crop_rules(settings)
    yield from _resolution_rules(settings.get("resolution"))
    frame_rate = settings.get("frameRate")
    if (
        filters.get("frameRateConverter")
        and isinstance(frame_rate, dict)
        and frame_rate.get("tag") is None
        and frame_rate.get("fps") is None
    ):
        yield Violation(("filterSettings", "frameRate"), "needs a tag or fps")
    yield from _color_rules(options)


def _crop_rules(settings: Mapping[str, Any]) -> Iterator[Violation]:
    crop = settings.get("normalizedCropCoordinates")
    if not isinstance(crop, dict):
        return
    path = ("filterSettings", "normalizedCropCoordinates")
    try:
        if crop["x2"] <= crop["x1"]:
            yield Violation((*path, "x2"), "must be greater than x1")
        if crop["y2"] <= crop["y1"]:
            yield Violation((*path, "y2"), "must be greater than y1")
    except (KeyError, TypeError):
        return  # reported by the schema check


def _resolution_rules(resolution: Any) -> Iterator[Violation]:
    if not isinstance(resolution, dict) or resolution.get("tag") is not None:
        return
    path = ("filterSettings", "resolution")
    width, height = resolution.get("width"), resolution.get("height")
    if resolution.get("aspectRatioTag") is None:
        if width is None or height is None:
            yield Violation(
                path,
                "needs a tag, or width and height, or one of them with aspectRatioTag",
                "MISSING_CUSTOM_RESOLUTION",
            )
    elif width is None and height is None:
        yield Violation(
            path, "needs width or height with aspectRatioTag", "MISSING_CUSTOM_RESOLUTION"
        )


def _color_rules(options: Mapping[str, Any]) -> Iterator[Violation]:
    settings = options.get("processingSettings") or {}
    for key, code in (
        ("inputColorSpaceConversion", "INVALID_INPUT_COLOR_CONVERSION"),
        ("outputColorSpaceConversion", "INVALID_OUTPUT_COLOR_CONVERSION"),
    ):
        conversion = settings.get(key)
        if not isinstance(conversion, dict):
            continue
        path = ("processingSettings", key, "colorProfile")
        profile = conversion.get("colorProfile") or {}
        if conversion.get("mappingMode") == "STRICT_USER":
            for field in ("colorSpace", "colorPrimaries", "transferCharacteristics", "colorRange"):
                if profile.get(field) is None:
                    yield Violation(
                        (*path, field), "is required with mappingMode STRICT_USER", code
                    )
        yield from _profile_rules(profile, path, code)
        if key == "outputColorSpaceConversion":
            yield from _hdr_encoding_rules(options, profile.get("hdrFormat"), path)


def _profile_rules(
    profile: Mapping[str, Any], path: tuple[str, ...], code: str
) -> Iterator[Violation]:
    display = profile.get("masteringDisplay")
    if isinstance(display, dict) and display.get("tag") is None:
        for point in ("red", "green", "blue", "whitePoint"):
            if display.get(point) is None:
                yield Violation(
                    (*path, "masteringDisplay", point), "is required when tag is not set", code
                )
    hdr = profile.get("hdrFormat")
    if hdr not in _HDR_TRANSFER:
        return
    for field, wanted in (
        ("colorSpace", "BT2020NC"),
        ("colorPrimaries", "BT2020"),
        ("colorRange", "LIMITED"),
        ("transferCharacteristics", _HDR_TRANSFER[hdr]),
    ):
        actual = profile.get(field)
        if actual is not None and actual != wanted:
            yield Violation((*path, field), f"must be {wanted} for hdrFormat {hdr}", code)


def _hdr_encoding_rules(
    options: Mapping[str, Any], hdr: Any, path: tuple[str, ...]
) -> Iterator[Violation]:
    if hdr not in ("PQ10", "HDR10"):
        return
    code = "INVALID_OUTPUT_COLOR_CONVERSION"
    config = options.get("encodingConfiguration") or {}
    pixel = (config.get("pixelFormat") or {}) if isinstance(config, dict) else {}
    if pixel.get("bitDepth") not in (None, 10):
        yield Violation(
            ("encodingConfiguration", "pixelFormat", "bitDepth"), f"must be 10 for {hdr}", code
        )
    if hdr == "HDR10":
        codec = effective_codec(options)
        if codec in KNOWN_CODECS and codec != "HEVC":
            yield Violation((*path, "hdrFormat"), "HDR10 needs HEVC encoding", code)
        if pixel.get("yuv") not in (None, "4:2:0"):
            yield Violation(
                ("encodingConfiguration", "pixelFormat", "yuv"), "must be 4:2:0 for HDR10", code
            )


# --------------------------------------------------------------------------- entry points


def check_options(
    options: Any,
    *,
    strict: bool = True,
    deliberate: frozenset[tuple[str, ...]] = frozenset(),
) -> list[Violation]:
    """Every violation in an options JSON object (empty when valid).

    ``strict`` also flags combinations the server tolerates but ignores part of (an encoding
    profile together with an encoding configuration). Enum values at the ``deliberate``
    paths are not checked (unknown values sent on purpose, see :mod:`.escape`).
    """
    found = list(_check_value(OPTIONS, options, (), deliberate))
    if isinstance(options, dict) and not found:
        found.extend(_cross_rules(options, strict))
    return found


def raise_first(
    options: Any,
    *,
    root: str = "options",
    deliberate: frozenset[tuple[str, ...]] | None = None,
) -> None:
    """Raise the first violation as ``InvalidRequestError`` with a snake_case dotted path.

    Enum pseudo-members inside ``options`` (or at the ``deliberate`` paths) are unknown
    values sent on purpose: they pass with an ``UnknownEnumValueWarning``.
    """
    from .escape import check_token, unknown_enum_paths, warn_unknown

    if deliberate is None:
        deliberate = frozenset(unknown_enum_paths(options))
    for path in sorted(deliberate):
        check_token(Violation(path, "").dotted(root, snake=True), _at(options, path))
    violations = check_options(options, deliberate=deliberate)
    if violations:
        first = violations[0]
        raise InvalidRequestError(first.dotted(root, snake=True), first.rule)
    # warned only once the options are known to go out: a refused request warns of nothing
    for path in sorted(deliberate):
        warn_unknown(Violation(path, "").dotted(root, snake=True), _at(options, path), stacklevel=4)


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[int(key)] if isinstance(data, list) else data.get(key)
    return data

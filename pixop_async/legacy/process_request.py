"""The validated body of ``POST /videos/v1/process-video/{id}``.

:class:`ProcessVideoRequest` enforces the spec's whole table when it is built: every enum,
the ProRes profile only with the ``prores`` codec, the DNxHD/HR profile only with ``dnxhd``,
``mbps`` within 0.01-4000, an explicit ``width``/``height`` (16-7680 / 16-4320) if and only if
no resolution ``tag`` is given, the clarity boost only with the Pixop Super Resolution scaler,
and a clip range that is ordered and non-negative. :meth:`ProcessVideoRequest.check_clip`
checks the range against a video's duration. Errors are
:class:`~pixop_async.errors.InvalidRequestError` naming the attribute.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import attrs

from .. import validation as v
from ..errors import InvalidRequestError
from ..models.enums import OpenEnum

E = TypeVar("E", bound=enum.Enum)


class Container(OpenEnum):
    MOV = "mov"
    MXF = "mxf"
    MP4 = "mp4"
    MTS = "mts"


class Codec(OpenEnum):
    H264 = "h264"
    PRORES = "prores"
    DNXHD = "dnxhd"
    XDCAM = "xdcam"
    HEVC = "hevc"
    MPEG2 = "mpeg2"


class AppleProresProfile(OpenEnum):
    PROXY = "proxy"
    LT = "lt"
    STANDARD = "standard"
    HQ = "hq"
    P4444 = "4444"
    P4444XQ = "4444xq"


class DnxhdHrProfile(OpenEnum):
    DNXHD_LB = "dnxhd_lb"
    DNXHD_SQ = "dnxhd_sq"
    DNXHD_HQ = "dnxhd_hq"
    DNXHD_HQX = "dnxhd_hqx"
    DNXHD_444 = "dnxhd_444"
    DNXHR_LB = "dnxhr_lb"
    DNXHR_SQ = "dnxhr_sq"
    DNXHR_HQ = "dnxhr_hq"
    DNXHR_HQX = "dnxhr_hqx"
    DNXHR_444 = "dnxhr_444"


class ChromaYuv(OpenEnum):
    YUV410 = "4:1:0"
    YUV411 = "4:1:1"
    YUV420 = "4:2:0"
    YUV422 = "4:2:2"
    YUV440 = "4:4:0"
    YUV444 = "4:4:4"


class Deinterlacer(OpenEnum):
    DEINT = "deint"
    YADIF = "yadif"
    BWDIF = "bwdif"
    WESTON3F = "weston3f"


class Denoiser(OpenEnum):
    DENOISE = "denoise"
    HQDN3D = "hqdn3d"


class Stabilizer(OpenEnum):
    DEJIT = "dejit"


class Scaler(OpenEnum):
    PABSR1 = "pabsr1"
    DVRES = "dvres"
    SCALE = "scale"


class ResolutionTag(OpenEnum):
    HD_1080P = "hd_1080p"
    UHD_4K = "uhd_4k"
    UHD_8K = "uhd_8k"


class ClarityBoost(OpenEnum):
    NONE = "none"
    MARGINAL = "marginal"
    VERY_LOW = "very_low"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


BIT_DEPTHS = (8, 10, 12, 14, 16)
MBPS_MIN, MBPS_MAX = 0.01, 4000.0
WIDTH_MIN, WIDTH_MAX = 16, 7680
HEIGHT_MIN, HEIGHT_MAX = 16, 4320


def _opt_enum(field: str, value: Any, cls: type[E]) -> E | None:
    return None if value is None else v.one_of(field, value, cls)


def _bits(value: Any) -> int | None:
    if value is None:
        return None
    bits = v.integer("bits", value)
    if bits not in BIT_DEPTHS:
        raise InvalidRequestError(
            "bits", "must be one of " + ", ".join(map(str, BIT_DEPTHS)), value_repr=repr(value)
        )
    return bits


def _mbps(value: Any) -> float | None:
    return None if value is None else v.number("mbps", value, minimum=MBPS_MIN, maximum=MBPS_MAX)


@attrs.frozen(init=False)
class ProcessVideoRequest:
    """Processing options; every attribute is optional (the service derives container, codec,
    chroma subsampling and bitrate from the source and the target resolution).

    Enum options accept the member or its string value (``codec="prores"``).
    """

    container: Container | None
    codec: Codec | None
    apple_prores_profile: AppleProresProfile | None
    dnxhd_hr_profile: DnxhdHrProfile | None
    yuv: ChromaYuv | None
    bits: int | None
    mbps: float | None
    deinterlacer: Deinterlacer | None
    denoiser: Denoiser | None
    stabilizer: Stabilizer | None
    scaler: Scaler | None
    tag: ResolutionTag | None
    width: int | None
    height: int | None
    clarity_boost: ClarityBoost | None
    start_position_ms: int | None
    end_position_ms: int | None

    def __init__(
        self,
        *,
        container: Container | str | None = None,
        codec: Codec | str | None = None,
        apple_prores_profile: AppleProresProfile | str | None = None,
        dnxhd_hr_profile: DnxhdHrProfile | str | None = None,
        yuv: ChromaYuv | str | None = None,
        bits: int | None = None,
        mbps: float | None = None,
        deinterlacer: Deinterlacer | str | None = None,
        denoiser: Denoiser | str | None = None,
        stabilizer: Stabilizer | str | None = None,
        scaler: Scaler | str | None = None,
        tag: ResolutionTag | str | None = None,
        width: int | None = None,
        height: int | None = None,
        clarity_boost: ClarityBoost | str | None = None,
        start_position_ms: int | None = None,
        end_position_ms: int | None = None,
    ) -> None:
        self.__attrs_init__(
            container=_opt_enum("container", container, Container),
            codec=_opt_enum("codec", codec, Codec),
            apple_prores_profile=_opt_enum(
                "apple_prores_profile", apple_prores_profile, AppleProresProfile
            ),
            dnxhd_hr_profile=_opt_enum("dnxhd_hr_profile", dnxhd_hr_profile, DnxhdHrProfile),
            yuv=_opt_enum("yuv", yuv, ChromaYuv),
            bits=_bits(bits),
            mbps=_mbps(mbps),
            deinterlacer=_opt_enum("deinterlacer", deinterlacer, Deinterlacer),
            denoiser=_opt_enum("denoiser", denoiser, Denoiser),
            stabilizer=_opt_enum("stabilizer", stabilizer, Stabilizer),
            scaler=_opt_enum("scaler", scaler, Scaler),
            tag=_opt_enum("tag", tag, ResolutionTag),
            width=v.optional_integer("width", width, minimum=WIDTH_MIN, maximum=WIDTH_MAX),
            height=v.optional_integer("height", height, minimum=HEIGHT_MIN, maximum=HEIGHT_MAX),
            clarity_boost=_opt_enum("clarity_boost", clarity_boost, ClarityBoost),
            start_position_ms=v.optional_integer("start_position_ms", start_position_ms, minimum=0),
            end_position_ms=v.optional_integer("end_position_ms", end_position_ms, minimum=0),
        )
        check_rules(self)

    def check_clip(self, duration_ms: int) -> None:
        """Refuse a clip range that reaches past a video of ``duration_ms`` milliseconds."""
        for field in ("start_position_ms", "end_position_ms"):
            value = getattr(self, field)
            if value is not None and value > duration_ms:
                raise InvalidRequestError(
                    field,
                    f"must lie within the video (0-{duration_ms} ms)",
                    value_repr=repr(value),
                )

    def to_json(self) -> dict[str, Any]:
        """The request body, with only the options that were set."""
        return request_json(self)


def check_rules(req: ProcessVideoRequest) -> None:
    """The cross-field rules of the table (single-field rules run in the converters)."""
    if req.apple_prores_profile is not None and req.codec is not Codec.PRORES:
        raise InvalidRequestError("apple_prores_profile", "is only allowed with codec 'prores'")
    if req.dnxhd_hr_profile is not None and req.codec is not Codec.DNXHD:
        raise InvalidRequestError("dnxhd_hr_profile", "is only allowed with codec 'dnxhd'")
    explicit = req.width is not None or req.height is not None
    if req.tag is not None and explicit:
        field = "width" if req.width is not None else "height"
        raise InvalidRequestError(field, "must not be given together with a resolution tag")
    if req.tag is None and explicit:
        missing = "height" if req.height is None else "width" if req.width is None else None
        if missing is not None:
            raise InvalidRequestError(
                missing, "width and height must both be given when there is no tag"
            )
    if req.clarity_boost not in (None, ClarityBoost.NONE) and req.scaler is not Scaler.PABSR1:
        raise InvalidRequestError(
            "clarity_boost", "is only allowed with the Pixop Super Resolution scaler 'pabsr1'"
        )
    start, end = req.start_position_ms, req.end_position_ms
    if start is not None and end is not None and end <= start:
        raise InvalidRequestError(
            "end_position_ms", "must be after start_position_ms", value_repr=repr(end)
        )


def _value(member: enum.Enum | None) -> Any:
    return None if member is None else member.value


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: val for k, val in data.items() if val is not None}


def request_json(req: ProcessVideoRequest) -> dict[str, Any]:
    """Nest the flat options into the JSON shape the service expects."""
    groups = {
        "mediaContainerCodec": _drop_none(
            {"container": _value(req.container), "codec": _value(req.codec)}
        ),
        "chromaSubsampling": _drop_none({"yuv": _value(req.yuv), "bits": req.bits}),
        "bitrate": _drop_none({"mbps": req.mbps}),
        "resolution": _drop_none(
            {"tag": _value(req.tag), "width": req.width, "height": req.height}
        ),
        "range": _drop_none(
            {
                "startPositionMilliseconds": req.start_position_ms,
                "endPositionMilliseconds": req.end_position_ms,
            }
        ),
    }
    flat = {
        "appleProresProfile": _value(req.apple_prores_profile),
        "dnxhdHrProfile": _value(req.dnxhd_hr_profile),
        "deinterlacer": _value(req.deinterlacer),
        "denoiser": _value(req.denoiser),
        "stabilizer": _value(req.stabilizer),
        "scaler": _value(req.scaler),
        "clarityBoost": _value(req.clarity_boost),
    }
    return {**{k: g for k, g in groups.items() if g}, **_drop_none(flat)}

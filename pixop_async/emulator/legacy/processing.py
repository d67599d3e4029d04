"""Server-side rules of ``POST /videos/v1/process-video/{id}`` and the run it starts.

The emulator checks the spec's table itself (clients other than this SDK exist) and
answers a violation with ``InvalidProcessVideoRequestException`` naming the field. Options
left out are derived from the source's metadata and the target resolution, as the spec says.
"""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any, NoReturn

from ..state import EmulatorState
from .catalog import CODECS as CODEC_NAMES
from .catalog import CONTAINERS as CONTAINER_NAMES
from .catalog import PROCESS_SECONDS, new_video, original_metadata
from .common import LegacyStore, fault

CONTAINERS = ("mov", "mxf", "mp4", "mts")
CODECS = ("h264", "prores", "dnxhd", "xdcam", "hevc", "mpeg2")
PRORES = ("proxy", "lt", "standard", "hq", "4444", "4444xq")
DNX = tuple(f"dnx{k}_{p}" for k in ("hd", "hr") for p in ("lb", "sq", "hq", "hqx", "444"))
YUV = ("4:1:0", "4:1:1", "4:2:0", "4:2:2", "4:4:0", "4:4:4")
BITS = (8, 10, 12, 14, 16)
DEINTERLACERS = ("deint", "yadif", "bwdif", "weston3f")
DENOISERS = ("denoise", "hqdn3d")
STABILIZERS = ("dejit",)
SCALERS = ("pabsr1", "dvres", "scale")
TAGS = {"hd_1080p": (1920, 1080), "uhd_4k": (3840, 2160), "uhd_8k": (7680, 4320)}
CLARITY = ("none", "marginal", "very_low", "low", "medium", "high", "very_high")


def _invalid(field: str, message: str) -> NoReturn:
    fault(400, "InvalidProcessVideoRequestException", f"{field}: {message}")


def _group(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        _invalid(name, "must be an object")
    return dict(value)


def _choice(group: dict[str, Any], field: str, allowed: Any) -> Any:
    value = group.get(field)
    if value is not None and value not in allowed:
        _invalid(field, "must be one of " + ", ".join(map(str, allowed)))
    return value


def _int_in(group: dict[str, Any], field: str, low: int, high: int) -> int | None:
    value = group.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _invalid(field, f"must be an integer between {low} and {high}")
    return int(value)


def validate(body: dict[str, Any], duration_ms: int) -> dict[str, Any]:
    """The flat, checked options of a request body."""
    mcc = _group(body, "mediaContainerCodec")
    chroma = _group(body, "chromaSubsampling")
    bitrate = _group(body, "bitrate")
    resolution = _group(body, "resolution")
    clip = _group(body, "range")
    opts: dict[str, Any] = {
        "container": _choice(mcc, "container", CONTAINERS),
        "codec": _choice(mcc, "codec", CODECS),
        "appleProresProfile": _choice(body, "appleProresProfile", PRORES),
        "dnxhdHrProfile": _choice(body, "dnxhdHrProfile", DNX),
        "yuv": _choice(chroma, "yuv", YUV),
        "bits": _choice(chroma, "bits", BITS),
        "deinterlacer": _choice(body, "deinterlacer", DEINTERLACERS),
        "denoiser": _choice(body, "denoiser", DENOISERS),
        "stabilizer": _choice(body, "stabilizer", STABILIZERS),
        "scaler": _choice(body, "scaler", SCALERS),
        "tag": _choice(resolution, "tag", TAGS),
        "width": _int_in(resolution, "width", 16, 7680),
        "height": _int_in(resolution, "height", 16, 4320),
        "clarityBoost": _choice(body, "clarityBoost", CLARITY),
        "start": _int_in(clip, "startPositionMilliseconds", 0, duration_ms),
        "end": _int_in(clip, "endPositionMilliseconds", 0, duration_ms),
    }
    mbps = bitrate.get("mbps")
    if mbps is not None and (
        isinstance(mbps, bool)
        or not isinstance(mbps, int | float)
        or not math.isfinite(mbps)
        or not 0.01 <= mbps <= 4000.0
    ):
        _invalid("mbps", "must be a number between 0.01 and 4000.0")
    opts["mbps"] = mbps
    if opts["appleProresProfile"] is not None and opts["codec"] != "prores":
        _invalid("appleProresProfile", "only allowed with codec prores")
    if opts["dnxhdHrProfile"] is not None and opts["codec"] != "dnxhd":
        _invalid("dnxhdHrProfile", "only allowed with codec dnxhd")
    explicit = (opts["width"], opts["height"])
    if opts["tag"] is not None and explicit != (None, None):
        _invalid("width", "width and height must not be given with a tag")
    if opts["tag"] is None and None in explicit and explicit != (None, None):
        _invalid("height" if opts["height"] is None else "width", "width and height go together")
    if opts["clarityBoost"] not in (None, "none") and opts["scaler"] != "pabsr1":
        _invalid("clarityBoost", "only applies with the pabsr1 scaler")
    if opts["start"] is not None and opts["end"] is not None and opts["end"] <= opts["start"]:
        _invalid("endPositionMilliseconds", "must be after startPositionMilliseconds")
    return opts


def _pixel_format(yuv: str, bits: int) -> str:
    base = "yuv" + yuv.replace(":", "")[:3] + "p"
    return base if bits == 8 else f"{base}{bits}le"


def parameters(opts: dict[str, Any], source_meta: dict[str, Any]) -> dict[str, Any]:
    """``processingParameters`` of the run, options left out derived from the source."""
    width, height = TAGS.get(opts["tag"] or "", (opts["width"], opts["height"]))
    width = width or source_meta["frameWidth"]
    height = height or source_meta["frameHeight"]
    chroma = source_meta["pixelFormat"]["chromaSubsampling"]
    yuv, bits = opts["yuv"] or chroma["yuv"], opts["bits"] or chroma["bits"]
    mbps = opts["mbps"] or round(width * height * source_meta["averageFramerate"] * 0.1 / 1e6, 2)
    codec_props = {
        k: opts[k] for k in ("appleProresProfile", "dnxhdHrProfile") if opts[k] is not None
    }
    filters = [
        {"name": opts[k], "properties": {}}
        for k in ("deinterlacer", "denoiser", "stabilizer")
        if opts[k] is not None
    ]
    if opts["scaler"] is not None:
        props = {"clarityBoost": opts["clarityBoost"]} if opts["clarityBoost"] else {}
        filters.append({"name": opts["scaler"], "properties": props})
    return {
        "sourceVideo": {
            "startPositionMilliseconds": opts["start"],
            "endPositionMilliseconds": opts["end"],
        },
        "targetVideo": {
            "preset": {"name": opts["tag"] or "custom"},
            "container": {
                "name": opts["container"] or source_meta["containerName"],
                "properties": {},
            },
            "codec": {"name": opts["codec"] or source_meta["codecName"], "properties": codec_props},
            "pixelFormat": {
                "name": _pixel_format(yuv, bits),
                "chromaSubsampling": {"yuv": yuv, "bits": bits},
            },
            "bitrate": int(mbps * 1_000_000),
            "frameWidth": width,
            "frameHeight": height,
            "videoFilters": filters,
        },
    }


def start_run(
    state: EmulatorState,
    store: LegacyStore,
    source: dict[str, Any],
    body: dict[str, Any],
    *,
    user_id: str,
) -> dict[str, Any]:
    """Create the processed video record of a validated request and start its run."""
    source_meta = original_metadata(source)
    opts = validate(body, source_meta["durationInMillis"])
    params = parameters(opts, source_meta)
    project = state.projects.get(source["projectId"]) or {
        "id": source["projectId"],
        "teamId": source["teamId"],
    }
    target = params["targetVideo"]
    processed = new_video(
        state,
        name=f"{source['name']} (processed)",
        project=project,
        user_id=user_id,
        parent_id=source["id"],
    )
    start, end = opts["start"] or 0, opts["end"] or source_meta["durationInMillis"]
    stem = PurePath(source["upload"]["fileName"]).stem or "video"
    processed["processing"] = {
        "sourceId": source["id"],
        "sourcePath": source["upload"]["path"],
        "startedAt": state.clock.time(),
        "duration": PROCESS_SECONDS / max(state.config.speed, 1e-9),
        "parameters": params,
        "fileName": f"{stem}_pixop.{target['container']['name']}",
        "contentType": "video/quicktime" if target["container"]["name"] == "mov" else "video/mp4",
        "metadata": {
            **source_meta,
            "containerName": target["container"]["name"],
            "longContainerName": CONTAINER_NAMES.get(target["container"]["name"], ("", ""))[1],
            "codecName": target["codec"]["name"],
            "longCodecName": CODEC_NAMES.get(target["codec"]["name"], target["codec"]["name"]),
            "pixelFormat": target["pixelFormat"],
            "frameWidth": target["frameWidth"],
            "frameHeight": target["frameHeight"],
            "durationInMillis": end - start,
            "totalFrames": int((end - start) / 1000 * source_meta["averageFramerate"]),
        },
    }
    store.videos[processed["id"]] = processed
    return processed

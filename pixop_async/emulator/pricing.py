"""Pure pricing of a processing job: output geometry, gigapixels, job items and estimation.

The emulator's prices are invented but consistent: every filter costs a fixed amount per
output gigapixel (GP), the encoder a little, storage per GB; a volume discount grows with
the job's size up to its maximum at 1000 GP. Teams billed through AWS Marketplace see the
same amounts in whole Pixop credits (:data:`CREDITS_PER_USD`, rounded up, no discount).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CREDITS_PER_USD = 100
MILLS = Decimal("0.001")
MAX_DISCOUNT_PERCENT = 30.0
FULL_DISCOUNT_GP = 1000.0
STORAGE_USD_PER_GB = 0.023
DOWNLOAD_USD_PER_GB = 0.09
ENCODER_USD_PER_GP = 0.01
DEFAULT_FILTER_USD_PER_GP = 0.05
FILTER_USD_PER_GP = {
    "DVRES2": 0.9,
    "DVRES": 0.6,
    "PABSR1": 0.4,
    "SCALE": 0.02,
    "DENOISE": 0.3,
    "HQDN3D": 0.03,
    "DEINT": 0.25,
    "VFI": 0.35,
    "FACEFORWARD": 0.5,
    "DEJIT": 0.2,
    "FILMGRAIN": 0.08,
}
FIELD_DOUBLING_DEINTERLACERS = frozenset({"DEINT", "BWDIF", "WESTON3F"})
RESOLUTION_TAGS = {
    "STANDARD_HD": (1280, 720),
    "FULL_HD": (1920, 1080),
    "UHD_4K": (3840, 2160),
    "UHD_8K": (7680, 4320),
}
SCALE_TAGS = {"1X": 1, "2X": 2, "3X": 3, "4X": 4}
FRAME_RATE_TAGS = {
    "FILM_NTSC": 23.976,
    "FILM": 24.0,
    "VIDEO_PAL": 25.0,
    "VIDEO_NTSC": 29.97,
    "VIDEO_HD": 30.0,
    "VIDEO_PAL_FAST": 50.0,
    "VIDEO_NTSC_FAST": 59.94,
    "VIDEO_HD_FAST": 60.0,
    "VIDEO_PAL_UHD": 100.0,
    "VIDEO_NTSC_UHD": 119.88,
    "VIDEO_UHD_FAST": 120.0,
}
ASPECT_TAGS = {"16:9": 16 / 9, "4:3": 4 / 3}


def output_size(options: Mapping[str, Any], width: int, height: int) -> tuple[int, int]:
    """Output frame size: the scaler's resolution (or fixed output resolution) else the source."""
    settings = options.get("processingSettings") or {}
    fixed = settings.get("fixedOutputResolution")
    if fixed in RESOLUTION_TAGS:
        return RESOLUTION_TAGS[fixed]
    if not (options.get("filters") or {}).get("scaler"):
        return width, height
    resolution = (options.get("filterSettings") or {}).get("resolution") or {}
    tag = resolution.get("tag")
    if tag in RESOLUTION_TAGS:
        return RESOLUTION_TAGS[tag]
    if tag in SCALE_TAGS:
        return width * SCALE_TAGS[tag], height * SCALE_TAGS[tag]
    ratio = ASPECT_TAGS.get(resolution.get("aspectRatioTag") or "", width / max(height, 1))
    out_w, out_h = resolution.get("width"), resolution.get("height")
    if out_w and out_h:
        return int(out_w), int(out_h)
    if out_w:
        return int(out_w), max(16, round(out_w / ratio))
    if out_h:
        return max(16, round(out_h * ratio)), int(out_h)
    return width, height


def output_fps(options: Mapping[str, Any], fps: float) -> float:
    filters = options.get("filters") or {}
    if filters.get("frameRateConverter"):
        frame_rate = (options.get("filterSettings") or {}).get("frameRate") or {}
        tag = frame_rate.get("tag")
        if tag in FRAME_RATE_TAGS:
            return FRAME_RATE_TAGS[tag]
        if frame_rate.get("fps"):
            return float(frame_rate["fps"])
    if filters.get("deinterlacer") in FIELD_DOUBLING_DEINTERLACERS:
        return fps * 2
    return fps


def _money(value: float) -> float:
    return round(value, 3)


def _exact(value: float) -> Decimal:
    """A USD amount rounded to three decimals, exactly."""
    return Decimal(repr(value)).quantize(MILLS, rounding=ROUND_HALF_UP)


def _credits(usd: float) -> int:
    """A USD amount in whole Pixop credits (rounded up: a started credit is a used credit)."""
    return math.ceil(round(usd * CREDITS_PER_USD, 6))


def price_job(
    options: Mapping[str, Any],
    *,
    width: int,
    height: int,
    fps: float,
    duration_ms: int,
    billing_type: str | None,
) -> dict[str, Any]:
    """A ``VideoProcessingJobAppraisal`` JSON object for the job: the USD variant for Stripe
    teams, the Pixop-credits variant (no volume discount) for AWS Marketplace teams."""
    out_w, out_h = output_size(options, width, height)
    out_fps = output_fps(options, fps)
    seconds = duration_ms / 1000
    gigapixels = out_w * out_h * out_fps * seconds / 1e9
    bitrate = (options.get("encodingConfiguration") or {}).get("bitrate") or max(
        1_000_000, int(out_w * out_h * out_fps * 0.1)
    )
    file_size = int(bitrate * seconds / 8)
    gigabytes = file_size / 1e9
    lines: list[tuple[str, str, float, str, float]] = [
        ("Encoder", "ENCODER", gigapixels, "GP", ENCODER_USD_PER_GP)
    ]
    for slot, name in sorted((options.get("filters") or {}).items()):
        if name:
            price = FILTER_USD_PER_GP.get(name, DEFAULT_FILTER_USD_PER_GP)
            lines.append((f"{name} ({slot})", "FILTER", gigapixels, "GP", price))
    lines.append(("Storage", "STORAGE", gigabytes, "GB", STORAGE_USD_PER_GB))
    common = {
        "estimation": {
            "fileSize": file_size,
            "totalComputeTimeSeconds": 5 + math.ceil(gigapixels * 10),
        },
        "outputDurationMillis": duration_ms,
    }
    storage_usd = gigabytes * STORAGE_USD_PER_GB
    download_usd = gigabytes * DOWNLOAD_USD_PER_GB
    if billing_type == "AWS_MARKETPLACE":
        return {
            "billingType": "AWS_MARKETPLACE",
            **common,
            **_credits_parts(lines, storage_usd, download_usd),
        }
    discount = min(MAX_DISCOUNT_PERCENT, MAX_DISCOUNT_PERCENT * gigapixels / FULL_DISCOUNT_GP)
    return {
        "billingType": "STRIPE",
        **common,
        **_usd_parts(lines, discount, storage_usd, download_usd),
    }


def _usd_parts(
    lines: list[tuple[str, str, float, str, float]],
    discount: float,
    storage_usd: float,
    download_usd: float,
) -> dict[str, Any]:
    # Each line is rounded to the cent-and-a-tenth first and the totals are sums of the
    # rounded lines, so the items always add up to the totals exactly (as on an invoice).
    items = []
    totals = [Decimal(0), Decimal(0), Decimal(0)]
    for name, category, amount, amount_unit, unit_price in lines:
        rate = round(discount if category != "STORAGE" else 0.0, 3)
        normal = _exact(amount * unit_price)
        cut = _exact(float(normal) * rate / 100)
        totals = [totals[0] + normal - cut, totals[1] + cut, totals[2] + normal]
        items.append(
            {
                "productName": name,
                "category": category,
                "amount": round(amount, 6),
                "amountUnit": amount_unit,
                "discountPercentage": rate,
                "unitPriceUsd": _money(unit_price),
                "costUsd": float(normal - cut),
                "discountUsd": float(cut),
                "normalCostUsd": float(normal),
            }
        )
    return {
        "jobItems": items,
        "cost": {
            "discountPercentage": round(discount, 3),
            "totalProcessingCostUsd": float(totals[0]),
            "totalProcessingDiscountUsd": float(totals[1]),
            "totalNormalProcessingCostUsd": float(totals[2]),
            "estimatedStorageCostUsd": _money(storage_usd),
            "estimatedDownloadCostUsd": _money(download_usd),
        },
    }


def _credits_parts(
    lines: list[tuple[str, str, float, str, float]], storage_usd: float, download_usd: float
) -> dict[str, Any]:
    items, total = [], 0
    for name, category, amount, amount_unit, unit_price in lines:
        cost = _credits(amount * unit_price)
        total += cost
        items.append(
            {
                "productName": name,
                "category": category,
                "amount": round(amount, 6),
                "amountUnit": amount_unit,
                "unitPricePixopCredits": _credits(unit_price),
                "costPixopCredits": cost,
            }
        )
    return {
        "jobItems": items,
        "cost": {
            "totalProcessingCostPixopCredits": total,
            "estimatedStorageCostPixopCredits": _credits(storage_usd),
            "estimatedDownloadCostPixopCredits": _credits(download_usd),
        },
    }

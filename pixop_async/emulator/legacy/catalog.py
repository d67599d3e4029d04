"""Video records of the emulated legacy services and the states derived from them over time.

A record keeps what happened (upload time, processing start, parameters); the ingestion and
processing states are computed from the emulator clock when read, so ``speed`` and
``clock.advance`` drive them without background tasks. Ingestion takes
``INGEST_SECONDS / speed`` after the upload (half for light ingestion); processing
``PROCESS_SECONDS / speed``, its first tenth queued (INITIAL). Ingested originals report fixed
metadata (1920x1080, 25 fps, 60 s) since the emulator does not decode video.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ..state import EmulatorState
from .common import LegacyStore, legacy_time

INGEST_SECONDS = 2.0
PROCESS_SECONDS = 6.0
QUEUED_FRACTION = 0.1
DURATION_MS = 60_000
FRAME_RATE = 25.0

CONTAINERS = {
    "mov": ("mov", "QuickTime / MOV"),
    "mp4": ("mp4", "MPEG-4"),
    "mxf": ("mxf", "MXF (Material eXchange Format)"),
    "mts": ("mpegts", "MPEG-TS (MPEG-2 Transport Stream)"),
    "ts": ("mpegts", "MPEG-TS (MPEG-2 Transport Stream)"),
}
CODECS = {
    "h264": "H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10",
    "prores": "Apple ProRes",
    "dnxhd": "VC3/DNxHD",
    "xdcam": "MPEG-2 video (XDCAM HD422)",
    "hevc": "H.265 / HEVC (High Efficiency Video Coding)",
    "mpeg2": "MPEG-2 video",
}


def media_dir(state: EmulatorState, video_id: str) -> Path:
    path = state.data_dir / "legacy" / video_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_video(
    state: EmulatorState,
    *,
    name: str,
    project: dict[str, Any],
    user_id: str,
    parent_id: str | None = None,
) -> dict[str, Any]:
    stamp = state.stamp()
    return {
        **stamp,
        "name": name,
        "description": None,
        "projectId": project["id"],
        "teamId": project["teamId"],
        "userId": user_id,
        "parentId": parent_id,
        "attributes": {},
        "upload": None,
        "uploading": False,
        "processing": None,
    }


def descendants(store: LegacyStore, video_id: str) -> list[str]:
    """``video_id`` and every video processed from it (depth first)."""
    found = [video_id]
    for child in [v["id"] for v in store.videos.values() if v.get("parentId") == video_id]:
        found.extend(descendants(store, child))
    return found


# -- derived states -------------------------------------------------------------------------


def _duration(state: EmulatorState, seconds: float) -> float:
    return seconds / max(state.config.speed, 1e-9)


def ingestion_state(
    state: EmulatorState, store: LegacyStore, video: dict[str, Any]
) -> dict[str, Any]:
    processing = video["processing"]
    upload = video["upload"]
    if processing is not None:
        done = processing_state(state, store, video)["processingStatus"]
        status = {"DONE": "DONE", "FAILED": "FAILED"}.get(done, "INITIAL")
        at = processing["startedAt"] + processing["duration"] if status != "INITIAL" else None
    elif upload is None:
        status, at = "INITIAL", None
    else:
        length = _duration(state, INGEST_SECONDS) * (0.5 if upload["light"] else 1.0)
        finished = upload["at"] + length
        if state.clock.time() < finished:
            status, at = "IN_PROGRESS", upload["at"]
        else:
            failed = video["id"] in store.failing_videos
            status, at = ("FAILED" if failed else "DONE"), finished
    return {
        "updatedAt": legacy_time(at) or legacy_time(video["createdAt"]),
        "ingestionStatus": status,
        "videoMetadataAvailable": status == "DONE",
    }


def processing_state(
    state: EmulatorState, store: LegacyStore, video: dict[str, Any]
) -> dict[str, Any]:
    processing = video["processing"]
    if processing is None:
        return {
            "updatedAt": legacy_time(video["createdAt"]),
            "processingStatus": "INITIAL",
            "processingProgressPercent": 0.0,
        }
    fraction = (state.clock.time() - processing["startedAt"]) / processing["duration"]
    if fraction >= 1.0:
        failed = video["id"] in store.failing_videos
        status, percent = ("FAILED", 0.0) if failed else ("DONE", 100.0)
        at = processing["startedAt"] + processing["duration"]
    elif fraction < QUEUED_FRACTION:
        status, percent, at = "INITIAL", 0.0, processing["startedAt"]
    else:
        status = "IN_PROGRESS"
        percent = round(100.0 * (fraction - QUEUED_FRACTION) / (1 - QUEUED_FRACTION), 2)
        at = state.clock.time()
    return {
        "updatedAt": legacy_time(at),
        "processingStatus": status,
        "processingProgressPercent": percent,
    }


def original_metadata(video: dict[str, Any]) -> dict[str, Any]:
    upload = video["upload"]
    short, long = CONTAINERS.get(upload["container"], (upload["container"], upload["container"]))
    return {
        "containerName": short,
        "longContainerName": long,
        "codecName": "h264",
        "longCodecName": CODECS["h264"],
        "pixelFormat": {"name": "yuv420p", "chromaSubsampling": {"yuv": "4:2:0", "bits": 8}},
        "frameWidth": 1920,
        "frameHeight": 1080,
        "averageFramerate": FRAME_RATE,
        "durationInMillis": DURATION_MS,
        "totalFrames": int(DURATION_MS / 1000 * FRAME_RATE),
        "size": upload["size"],
        "videoStreamSize": int(upload["size"] * 0.95),
    }


def metadata(
    state: EmulatorState, store: LegacyStore, video: dict[str, Any]
) -> dict[str, Any] | None:
    """Metadata once ingestion is DONE (an original's, or a processed video's target)."""
    if ingestion_state(state, store, video)["ingestionStatus"] != "DONE":
        return None
    processing = video["processing"]
    if processing is None:
        return original_metadata(video)
    return dict(processing["metadata"], size=processing.get("outputSize"))


async def settle(state: EmulatorState, store: LegacyStore, video: dict[str, Any]) -> None:
    """Write a finished processing run's output file (once)."""
    processing = video["processing"]
    if processing is None or processing.get("outputPath"):
        return
    if processing_state(state, store, video)["processingStatus"] != "DONE":
        return
    source = store.videos.get(processing["sourceId"])
    source_path = Path(processing["sourcePath"])
    target = media_dir(state, video["id"]) / "processed.bin"
    header = ("PIXOP-EMULATOR-PROCESSED " + json.dumps(processing["parameters"]) + "\n").encode()
    await asyncio.to_thread(_write_output, target, header, source_path)
    processing["outputPath"] = str(target)
    processing["outputSize"] = target.stat().st_size
    if source is not None:
        state.touch(video)


def _write_output(target: Path, header: bytes, source: Path) -> None:
    with target.open("wb") as out:
        out.write(header)
        if source.exists():
            with source.open("rb") as src:
                while chunk := src.read(1024 * 1024):
                    out.write(chunk)


# -- rendering ------------------------------------------------------------------------------


def video_json(state: EmulatorState, store: LegacyStore, video: dict[str, Any]) -> dict[str, Any]:
    """The full ``video`` object of ``GET /videos/v1/video/{id}``."""
    upload = video["upload"]
    upload_status = "DONE" if upload else ("IN_PROGRESS" if video["uploading"] else "INITIAL")
    processing = video["processing"]
    ingestion: dict[str, Any] = {"ingestionState": ingestion_state(state, store, video)}
    meta = metadata(state, store, video)
    if meta is not None:
        ingestion["metadata"] = meta
        if upload is not None and not upload["light"]:
            ingestion["qualityAssessment"] = {
                "metrics": [
                    {
                        "name": "vmaf_proxy",
                        "sampleMean": 71.5,
                        "subjectiveLabel": "good",
                        "subjectiveScore": 3.6,
                    },
                    {
                        "name": "sharpness",
                        "sampleMean": 0.42,
                        "subjectiveLabel": "fair",
                        "subjectiveScore": 2.9,
                    },
                ],
                "overallSubjectiveScore": 3.25,
            }
    body: dict[str, Any] = {
        "id": video["id"],
        "name": video["name"],
        "description": video["description"],
        "projectId": video["projectId"],
        "userId": video["userId"],
        "teamId": video["teamId"],
        "parentId": video["parentId"],
        "upload": {
            "uploadState": {
                "updatedAt": legacy_time(upload["at"] if upload else video["createdAt"]),
                "uploadStatus": upload_status,
            },
            "hasFinishedUploading": upload is not None,
            "fileName": upload["fileName"] if upload else None,
            "fileSize": upload["size"] if upload else None,
            "fileType": upload["fileType"] if upload else None,
            "fileContainerName": upload["container"] if upload else None,
        },
        "ingestion": ingestion,
        "attributes": video["attributes"],
        "dateCreated": legacy_time(video["createdAt"]),
        "timeLastUpdated": legacy_time(video["updatedAt"]),
    }
    if processing is not None:
        body["processing"] = {
            "processingState": processing_state(state, store, video),
            "processingParameters": processing["parameters"],
        }
    return body


def file_name_of(video: dict[str, Any]) -> str | None:
    upload = video["upload"]
    if upload is not None:
        return str(upload["fileName"])
    processing = video["processing"]
    return None if processing is None else str(processing["fileName"])


def summary_json(video: dict[str, Any], self_href: str) -> dict[str, Any]:
    return {
        "_links": {"self": {"href": self_href}},
        "id": video["id"],
        "parentId": video["parentId"],
        "projectId": video["projectId"],
        "name": video["name"],
        "filename": file_name_of(video),
        "dateCreated": legacy_time(video["createdAt"]),
        "timeLastUpdated": legacy_time(video["updatedAt"]),
    }

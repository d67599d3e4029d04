"""Builders for the API-shaped video records the emulator stores and serves."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import attrs
import google_crc32c

from .clock import iso
from .state import EmulatorState

#: The emulator does not decode media: it derives a duration from the size as if the
#: video had this bit rate (400 kbit/s), so a 1 MB file "lasts" 20 seconds.
ASSUMED_BYTES_PER_SECOND = 50_000
HASH_CHUNK = 4 * 1024 * 1024

_CONTAINERS: dict[str, tuple[str, str, str]] = {
    # extension: (MIME type, short container name, long container name)
    "mp4": ("video/mp4", "mp4", "MPEG-4"),
    "m4v": ("video/mp4", "mp4", "MPEG-4"),
    "mov": ("video/quicktime", "mov", "QuickTime / MOV"),
    "mxf": ("application/mxf", "mxf", "MXF (Material eXchange Format)"),
    "ts": ("video/mp2t", "mpegts", "MPEG-TS (MPEG-2 Transport Stream)"),
    "mkv": ("video/x-matroska", "matroska", "Matroska"),
}
_UNKNOWN_CONTAINER = ("application/octet-stream", "unknown", "Unknown")


def container_of(file_name: str) -> tuple[str, str, str]:
    """(MIME type, short container name, long container name) from a file's extension."""
    extension = Path(file_name).suffix.lstrip(".").lower()
    return _CONTAINERS.get(extension, _UNKNOWN_CONTAINER)


def crc32c_of(path: Path) -> int:
    """CRC32C of a whole file, read in large pieces (call it off the event loop)."""
    value = 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            value = google_crc32c.extend(value, chunk)
    return value


@attrs.define
class MediaInfo:
    """A stored media file and what the emulator derives from it."""

    path: Path
    file_name: str
    size: int
    mime_type: str
    extension: str
    container_name: str
    long_container_name: str
    crc32c: int | None = None

    @classmethod
    def for_file(cls, path: Path, file_name: str) -> MediaInfo:
        mime, short, long = container_of(file_name)
        extension = Path(file_name).suffix.lstrip(".").lower() or "bin"
        return cls(path, file_name, path.stat().st_size, mime, extension, short, long)

    @property
    def duration_millis(self) -> int:
        return max(1000, self.size * 1000 // ASSUMED_BYTES_PER_SECOND)

    def file_json(self, state: EmulatorState) -> dict[str, Any]:
        return {
            "name": self.file_name,
            "size": self.size,
            "type": self.mime_type,
            "containerName": self.long_container_name,
            "lastModified": iso(state.clock.now()),
        }

    def checksum(self) -> int:
        """The file's CRC32C, computed once (blocking: call through a thread)."""
        if self.crc32c is None:
            self.crc32c = crc32c_of(self.path)
        return self.crc32c


def copy_prefix(source: Path, target: Path, length: int) -> None:
    """Write the first ``length`` bytes of ``source`` to ``target``."""
    with source.open("rb") as src, target.open("wb") as dst:
        remaining = length
        while remaining > 0:
            chunk = src.read(min(HASH_CHUNK, remaining))
            if not chunk:
                break
            dst.write(chunk)
            remaining -= len(chunk)


# -- the record -----------------------------------------------------------------------------


def new_video(
    state: EmulatorState,
    *,
    team_id: str,
    project_id: str,
    user_id: str,
    name: str,
    is_master: bool,
    description: str | None = None,
) -> dict[str, Any]:
    return {
        **state.stamp(),
        "userId": user_id,
        "name": name,
        "description": description,
        "teamId": team_id,
        "projectId": project_id,
        "upload": None,
        "ingestion": None,
        "processing": None,
        "masterVideo": None,
        "processingJobAppraisal": None,
        "flags": {
            "isMaster": is_master,
            "isProcessing": False,
            "isProcessed": False,
            "isIngesting": False,
            "isIngested": False,
            "isClip": False,
            "isSample": False,
        },
        "clipId": None,
        "output": {"state": None},
    }


def set_upload(
    state: EmulatorState,
    record: dict[str, Any],
    file_json: dict[str, Any] | None,
    status: str,
    percent: int,
    error: dict[str, Any] | None = None,
) -> None:
    now = iso(state.clock.now())
    previous = record.get("upload") or {}
    record["upload"] = {
        "file": file_json if file_json is not None else previous.get("file"),
        "uploadState": {
            "updatedAt": now,
            "uploadStatus": status,
            "progressPercentage": percent,
            "error": error,
        },
    }
    record["updatedAt"] = now


def link_master(record: dict[str, Any], master: dict[str, Any]) -> None:
    record["masterVideo"] = {
        "id": master["id"],
        "createdAt": master["createdAt"],
        "updatedAt": master["updatedAt"],
        "videoFile": (master.get("upload") or {}).get("file"),
    }


def _ingestion_state(
    state: EmulatorState, status: str, percent: int, eta: int | None, *, available: bool, full: bool
) -> dict[str, Any]:
    return {
        "updatedAt": iso(state.clock.now()),
        "etaSeconds": eta,
        "ingestionStatus": status,
        "webVideoAvailable": available and full,
        "thumbnailsAvailable": available and full,
        "fullFramesAvailable": available and full,
        "videoMetadataAvailable": available,
        "progressPercentage": percent,
    }


def begin_ingestion(state: EmulatorState, record: dict[str, Any]) -> None:
    record["ingestion"] = {
        "ingestionState": _ingestion_state(
            state, "IN_PROGRESS", 0, None, available=False, full=False
        ),
        "metadata": {},
        "qualityAssessment": {},
    }
    record["flags"]["isIngesting"] = True
    state.touch(record)


def ingestion_progress(
    state: EmulatorState, record: dict[str, Any], percent: int, eta: int
) -> None:
    ingestion_state = record["ingestion"]["ingestionState"]
    ingestion_state.update(
        progressPercentage=percent, etaSeconds=eta, updatedAt=iso(state.clock.now())
    )


def finish_ingestion(
    state: EmulatorState, record: dict[str, Any], info: MediaInfo, *, full: bool
) -> None:
    record["ingestion"] = {
        "ingestionState": _ingestion_state(state, "DONE", 100, 0, available=True, full=full),
        "metadata": metadata_json(info),
        "qualityAssessment": quality_json(info) if full else {},
    }
    record["flags"].update(isIngesting=False, isIngested=True)
    state.touch(record)


def fail_ingestion(state: EmulatorState, record: dict[str, Any]) -> None:
    if record.get("ingestion"):
        record["ingestion"]["ingestionState"].update(
            ingestionStatus="FAILED", etaSeconds=None, updatedAt=iso(state.clock.now())
        )
    record["flags"]["isIngesting"] = False
    state.touch(record)


def metadata_json(info: MediaInfo) -> dict[str, Any]:
    duration = info.duration_millis
    return {
        "containerName": info.container_name,
        "longContainerName": info.long_container_name,
        "codecName": "h264",
        "longCodecName": "H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10",
        "pixelFormatName": "yuv420p",
        "primaryBitDepth": 8,
        "frameWidth": 1920,
        "frameHeight": 1080,
        "displayAspectRatio": {"ratio": 1.78, "tag": "16:9"},
        "scanning": {"metadata": "PROGRESSIVE", "heuristics": "PROGRESSIVE"},
        "averageFrameRate": {"frameRate": 25, "rational": "25:1"},
        "durationInMillis": duration,
        "totalFrames": duration * 25 // 1000,
        "size": info.size,
        "videoStreamSize": info.size * 95 // 100,
        "colorRangeName": "tv",
        "colorSpaceName": "bt709",
        "colorTransferName": "bt709",
        "colorPrimariesName": "bt709",
        "hdrStandardName": None,
    }


def quality_json(info: MediaInfo) -> dict[str, Any]:
    """A deterministic quality assessment derived from the file's name and size."""
    seed = hashlib.sha256(f"{info.file_name}:{info.size}".encode()).digest()
    metrics: list[dict[str, Any]] = [
        {
            "name": name,
            "sampleMean": round(seed[i] / 255, 3),
            "subjectiveScore": round(1 + 4 * seed[i + 8] / 255, 3),
            "subjectiveLabel": "good" if seed[i + 8] > 127 else "poor",
        }
        for i, name in enumerate(("noise", "details", "colors"))
    ]
    overall = round(sum(float(m["subjectiveScore"]) for m in metrics) / len(metrics), 3)
    return {"metrics": metrics, "overallSubjectiveScore": overall}


def processing_json(
    state: EmulatorState, status: str, percent: int, source_id: str, start: int, end: int
) -> dict[str, Any]:
    return {
        "processingState": {
            "updatedAt": iso(state.clock.now()),
            "etaSeconds": None,
            "processingStatus": status,
            "progressPercentage": percent,
        },
        "sourceVideo": {
            "videoId": source_id,
            "startPositionMilliseconds": start,
            "endPositionMilliseconds": end,
        },
        "options": None,
    }


def processing_progress(
    state: EmulatorState,
    record: dict[str, Any],
    percent: int,
    eta: int,
    *,
    status: str = "IN_PROGRESS",
) -> None:
    record["processing"]["processingState"].update(
        processingStatus=status,
        progressPercentage=percent,
        etaSeconds=eta,
        updatedAt=iso(state.clock.now()),
    )
    state.touch(record)


def output_state(
    state: EmulatorState,
    record: dict[str, Any],
    status: str | None,
    percent: int = 0,
    error_message: str | None = None,
) -> None:
    """Set (or with ``status=None`` clear) the video's output state."""
    record["output"] = {
        "state": None
        if status is None
        else {
            "updatedAt": iso(state.clock.now()),
            "status": status,
            "progressPercentage": percent,
            "errorMessage": error_message,
        }
    }
    state.touch(record)


def is_ready_for_output(record: dict[str, Any]) -> bool:
    """Whether the video's data may be exported or downloaded."""
    if record["flags"]["isMaster"]:
        upload_state = (record.get("upload") or {}).get("uploadState") or {}
        return bool(upload_state.get("uploadStatus") == "DONE")
    processing_state = (record.get("processing") or {}).get("processingState") or {}
    return bool(processing_state.get("processingStatus") == "DONE")


def fully_ingested(record: dict[str, Any]) -> bool:
    ingestion_state = (record.get("ingestion") or {}).get("ingestionState") or {}
    return bool(
        ingestion_state.get("ingestionStatus") == "DONE"
        and ingestion_state.get("fullFramesAvailable")
        and ingestion_state.get("webVideoAvailable")
    )


def file_name_for(name: str, extension: str) -> str:
    """A file name from a video name: lower case, safe characters, then ``extension``."""
    stem = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.") or "video"
    if extension and not stem.endswith(extension):
        stem += extension
    return stem[:255]

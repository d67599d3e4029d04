"""Processing jobs over time, appraisals and saved configurations.

A job makes a NEW derived video (same team and project as its source). Its processing runs
as a timed phase of :mod:`.lifecycle` (``config.speed`` and ``clock.advance`` move it); when
done, the result's media is a copy of the source's (so it can be downloaded and exported),
then it is ingested like any processed video. Events: ``video_processing.*`` then
``video_processing_ingestion.*`` (``clip_processing.*`` / ``clip_ingestion.*`` when the source
is a clip).

Appraisals price a job without starting it and expire 15 minutes (emulator clock) after
creation. Built-in configurations are seeded per emulator state.

Test hook: :meth:`ProcessingWorld.fail_jobs_of` makes jobs of a source video fail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
import weakref
from typing import Any

import attrs

from ..models.processing_rules import check_options
from . import lifecycle, records
from .clock import iso
from .http import ApiFault, fail, new_id
from .pricing import output_size, price_job
from .state import EmulatorState

PROCESSING_SECONDS = 3.0
APPRAISAL_TTL_SECONDS = 15 * 60
MIN_SEGMENT_MS = 1000
MAX_WIDTH, MAX_HEIGHT = 7680, 4320
#: Team id of Pixop's built-in configurations (they belong to no customer team).
BUILTIN_TEAM_ID = "00000000-0000-0000-0000-000000000000"
_EXTENSIONS = {"MP4": "mp4", "MOV": "mov", "MXF": "mxf", "MPEGTS": "ts"}

BUILTIN_CONFIGURATIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "Restore and upscale to HD (H.264)",
        "Pixop Deep Restoration 2 to 1280x720, H.264 in MP4.",
        {
            "container": "MP4",
            "encodingConfiguration": {"codec": "H264"},
            "filters": {"scaler": "DVRES2"},
            "filterSettings": {"resolution": {"tag": "STANDARD_HD"}, "dvres2Variant": "GENERIC"},
        },
    ),
    (
        "Upscale to 4K (HEVC)",
        "Pixop Super Resolution to UHD 4K, HEVC in MP4.",
        {
            "container": "MP4",
            "encodingConfiguration": {"codec": "HEVC"},
            "filters": {"scaler": "PABSR1"},
            "filterSettings": {"resolution": {"tag": "UHD_4K"}, "clarityBoost": "MEDIUM"},
        },
    ),
    (
        "Denoise (ProRes 422 HQ)",
        "Pixop Denoiser, Apple ProRes 422 HQ in MOV.",
        {
            "container": "MOV",
            "encodingProfile": "PRORES_422_HQ",
            "filters": {"denoiser": "DENOISE"},
        },
    ),
)


@attrs.define
class Appraisal:
    id: str
    source_id: str
    video: dict[str, Any]  # the preview of the video accepting would create
    options: dict[str, Any]
    start_ms: int
    end_ms: int
    expires_at: float  # emulator clock (unix seconds)


@attrs.define
class ProcessingWorld:
    """Appraisals, configurations and test hooks of one emulator state."""

    state: EmulatorState
    appraisals: dict[str, Appraisal] = attrs.Factory(dict)
    configurations: dict[str, dict[str, Any]] = attrs.Factory(dict)
    failing_sources: set[str] = attrs.Factory(set)

    def fail_jobs_of(self, source_id: str | uuid.UUID) -> None:
        """Make every later job on ``source_id`` end FAILED (for client tests).

        ``source_id`` is a video id as a string or a :class:`uuid.UUID`; anything that is
        not a UUID raises ValueError instead of silently matching no job.
        """
        try:
            canonical = str(uuid.UUID(str(source_id)))
        except ValueError:
            raise ValueError(f"fail_jobs_of: {source_id!r} is not a video id (a UUID)") from None
        self.failing_sources.add(canonical)

    def live_appraisal(self, appraisal_id: str, source_id: str) -> Appraisal | None:
        """The appraisal if it exists for that source and has not expired (expired ones
        are deleted, as Pixop does after 15 minutes)."""
        now = self.state.clock.time()
        for key, item in list(self.appraisals.items()):
            if item.expires_at <= now:
                del self.appraisals[key]
        found = self.appraisals.get(appraisal_id)
        return found if found is not None and found.source_id == source_id else None


_WORLDS: weakref.WeakKeyDictionary[EmulatorState, ProcessingWorld] = weakref.WeakKeyDictionary()


def engine(state: EmulatorState) -> ProcessingWorld:
    found = _WORLDS.get(state)
    if found is None:
        found = _WORLDS[state] = ProcessingWorld(state)
        for name, description, options in BUILTIN_CONFIGURATIONS:
            conf: dict[str, Any] = {
                **state.stamp(),
                "teamId": BUILTIN_TEAM_ID,
                "name": name,
                "description": description,
                "options": options,
                "builtin": True,
            }
            found.configurations[conf["id"]] = conf
    return found


# --------------------------------------------------------------------------- checks


def validate_options(options: Any, field: str = "options") -> dict[str, Any]:
    """400 with the first violation's code when the options break a documented rule."""
    if options is None:
        fail(
            400,
            "VALIDATION_ERROR",
            f"{field} is required",
            validation_errors=[{"field": field, "value": None, "message": "is required"}],
        )
    violations = check_options(options, strict=False)
    if violations:
        first = violations[0]
        path = first.dotted(field)
        fail(
            400,
            first.code,
            f"{path} {first.rule}",
            validation_errors=[
                {"field": v.dotted(field), "value": None, "message": v.rule} for v in violations
            ],
        )
    assert isinstance(options, dict)
    return options


def check_source(state: EmulatorState, source: dict[str, Any]) -> None:
    """Only ingested videos with media can be processed (409 otherwise)."""
    if not source["flags"]["isIngested"] or lifecycle.media_of(state, source["id"]) is None:
        fail(409, "VIDEO_NOT_FULLY_INGESTED", "The video is not ingested yet")


def segment(
    state: EmulatorState, source: dict[str, Any], start: int | None, end: int | None
) -> tuple[int, int]:
    """Apply the documented start/end position rules; end is clamped to the duration."""
    media = lifecycle.media_of(state, source["id"])
    duration = media.duration_millis if media else MIN_SEGMENT_MS
    if end is not None and end < (start or 0) + MIN_SEGMENT_MS:
        fail(
            400, "INVALID_END_POSITION", f"endPosMs must be at least startPosMs + {MIN_SEGMENT_MS}"
        )
    final_end = duration if end is None else min(end, duration)
    first = start or 0
    if first > final_end - MIN_SEGMENT_MS:
        fail(
            400,
            "INVALID_START_POSITION",
            f"startPosMs must be at most {max(0, final_end - MIN_SEGMENT_MS)}",
        )
    return first, final_end


# --------------------------------------------------------------------------- jobs


def _master_of(state: EmulatorState, source: dict[str, Any]) -> dict[str, Any]:
    if source["flags"]["isMaster"]:
        return source
    master_id = (source.get("masterVideo") or {}).get("id")
    return state.videos.get(master_id, source) if master_id else source


def _geometry(source: dict[str, Any]) -> tuple[int, int, float]:
    metadata = (source.get("ingestion") or {}).get("metadata") or {}
    fps = ((metadata.get("averageFrameRate") or {}).get("frameRate")) or 25
    return (
        int(metadata.get("frameWidth") or 1920),
        int(metadata.get("frameHeight") or 1080),
        float(fps),
    )


def preview(
    state: EmulatorState,
    source: dict[str, Any],
    options: dict[str, Any],
    start_ms: int,
    end_ms: int,
    *,
    user_id: str,
    name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The derived video a job would create (not stored yet); 400 when the output frame
    would exceed 8K."""
    width, height, fps = _geometry(source)
    out_w, out_h = output_size(options, width, height)
    if out_w > MAX_WIDTH or out_h > MAX_HEIGHT:
        fail(
            400,
            "TARGET_RESOLUTION_OUT_OF_ALLOWED_RANGE",
            f"Output {out_w}x{out_h} exceeds {MAX_WIDTH}x{MAX_HEIGHT}",
        )
    record = records.new_video(
        state,
        team_id=source["teamId"],
        project_id=source["projectId"],
        user_id=user_id,
        name=name or f"{source['name']} (processed)",
        is_master=False,
        description=description,
    )
    records.link_master(record, _master_of(state, source))
    if source["flags"]["isClip"]:
        record["clipId"] = source["clipId"]
    record["processing"] = records.processing_json(
        state, "INITIAL", 0, source["id"], start_ms, end_ms
    )
    record["processing"]["options"] = options
    team = state.teams.get(source["teamId"]) or {}
    record["processingJobAppraisal"] = price_job(
        options,
        width=width,
        height=height,
        fps=fps,
        duration_ms=end_ms - start_ms,
        billing_type=team.get("billingType"),
    )
    return record


def launch(state: EmulatorState, record: dict[str, Any]) -> dict[str, Any]:
    """Store the derived video and run its processing, then its ingestion."""
    w = lifecycle.world(state)
    video_id = record["id"]
    source_id = record["processing"]["sourceVideo"]["videoId"]
    is_clip = record["clipId"] is not None
    prefix, ingestion_prefix = (
        ("clip_processing", "clip_ingestion")
        if is_clip
        else ("video_processing", "video_processing_ingestion")
    )
    records.processing_progress(state, record, 0, 0)
    record["processing"]["processingState"]["etaSeconds"] = None
    record["flags"]["isProcessing"] = True
    state.videos[video_id] = record
    state.emit(f"{prefix}.started", video_id)
    failing = source_id in engine(state).failing_sources

    def progress(percent: int, eta: int) -> None:
        records.processing_progress(state, record, percent, eta)

    def failed() -> None:
        record["processing"]["processingState"].update(
            processingStatus="FAILED", etaSeconds=None, updatedAt=iso(state.clock.now())
        )
        record["flags"]["isProcessing"] = False
        state.touch(record)
        state.emit(f"{prefix}.failed", video_id)

    async def finish() -> None:
        source_media = lifecycle.media_of(state, source_id)
        if failing or source_media is None or video_id not in state.videos:
            failed()
            return
        container = (record["processing"]["options"] or {}).get("container")
        extension = _EXTENSIONS.get(container or "", source_media.extension)
        file_name = records.file_name_for(record["name"], f".{extension.lstrip('.')}")
        target = w.video_dir(video_id) / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.copyfile, source_media.path, target)
        if video_id not in state.videos:
            return
        lifecycle.register_media(state, video_id, target, file_name)
        records.processing_progress(state, record, 100, 0, status="DONE")
        record["flags"].update(isProcessing=False, isProcessed=True)
        state.emit(f"{prefix}.done", video_id)
        lifecycle.start_ingestion(state, video_id, full=True, event_prefix=ingestion_prefix)

    def done() -> None:
        w.spawn(finish())

    w.start_phase(video_id, "processing", PROCESSING_SECONDS, progress, done)
    return record


def status_json(record: dict[str, Any]) -> dict[str, Any]:
    processing = record.get("processing") or {}
    return {"videoId": record["id"], "processingState": processing.get("processingState")}


def create_appraisal(
    state: EmulatorState,
    source: dict[str, Any],
    options: dict[str, Any],
    start_ms: int,
    end_ms: int,
    *,
    user_id: str,
) -> dict[str, Any]:
    video = preview(state, source, options, start_ms, end_ms, user_id=user_id)
    expires = state.clock.time() + APPRAISAL_TTL_SECONDS
    appraisal = Appraisal(new_id(), source["id"], video, options, start_ms, end_ms, expires)
    engine(state).appraisals[appraisal.id] = appraisal
    return appraisal_json(appraisal)


def appraisal_json(appraisal: Appraisal) -> dict[str, Any]:
    expires = dt.datetime.fromtimestamp(appraisal.expires_at, tz=dt.timezone.utc)
    return {"appraisalId": appraisal.id, "expiresAt": iso(expires), "video": appraisal.video}


def accept_appraisal(
    state: EmulatorState,
    appraisal_id: str,
    source: dict[str, Any],
    *,
    name: str | None,
    description: str | None,
) -> dict[str, Any]:
    """Start the appraised job (404 once expired or already accepted)."""
    world = engine(state)
    appraisal = world.live_appraisal(appraisal_id, source["id"])
    if appraisal is None:
        raise ApiFault(404, "RESOURCE_NOT_FOUND", "Appraisal not found or expired")
    del world.appraisals[appraisal_id]
    record = appraisal.video
    if name is not None:
        record["name"] = name
    if description is not None:
        record["description"] = description
    state.touch(record)
    return launch(state, record)

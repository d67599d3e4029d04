"""Video records and their state machines over time.

Records live in ``state.videos`` in the API's JSON shape. What the API does not show (where
a video's media is, running jobs, timed phases) lives in a :class:`VideoWorld` kept per
:class:`EmulatorState` (:func:`world`).

Timed work (ingestion, the free clip, exports) is a list of :class:`Phase` objects whose
progress is computed from the emulator clock, so ``config.speed`` and ``clock.advance()``
both move them; :func:`tick` (run by a background task and before every read) applies the
progress and fires completions. Real work (downloads, copies, checksums) runs as asyncio
tasks (:meth:`VideoWorld.spawn`). Each transition calls ``state.emit(...)`` for webhooks.

Other emulator areas create finished videos with :func:`create_ingested_video` and find a
video's media with :func:`media_of`.
"""

from __future__ import annotations

import asyncio
import shutil
import weakref
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from . import records
from .clock import iso
from .middleware import STATE_KEY
from .records import MediaInfo
from .state import EmulatorState

TICK_SECONDS = 0.05
INGESTION_SECONDS = 2.0
CLIP_PROCESSING_SECONDS = 2.0
FREE_CLIP_MILLIS = 10_000


@attrs.define
class Phase:
    """A stretch of simulated work: progress runs from 0 to 1 over ``duration`` seconds."""

    video_id: str
    kind: str
    started_at: float
    duration: float
    on_progress: Callable[[int, int], None]  # (percent, eta seconds)
    on_done: Callable[[], None]
    last_percent: int = -1
    key: int = 0


@attrs.define
class VideoWorld:
    """Emulator-only facts about videos (see the module docstring)."""

    state: EmulatorState
    media: dict[str, MediaInfo] = attrs.Factory(dict)
    #: running phases by key, in start order (keys only grow); a dict keeps every tick O(n)
    phases: dict[int, Phase] = attrs.Factory(dict)
    next_key: int = 0
    tasks: set[asyncio.Task[Any]] = attrs.Factory(set)
    #: teams whose imports get no free clip
    free_clip_disabled: set[str] = attrs.Factory(set)
    #: per-video job data owned by the import and export routes
    imports: dict[str, Any] = attrs.Factory(dict)
    exports: dict[str, Any] = attrs.Factory(dict)
    #: while a phase completes: its end time, so phases it starts follow on seamlessly
    chain_time: float | None = None

    def seconds(self, base: float) -> float:
        """A simulated duration scaled by ``config.speed``."""
        return base / max(self.state.config.speed, 1e-6)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def start_phase(
        self,
        video_id: str,
        kind: str,
        duration: float,
        on_progress: Callable[[int, int], None],
        on_done: Callable[[], None],
    ) -> None:
        start = self.chain_time if self.chain_time is not None else self.state.clock.time()
        self.next_key += 1
        self.phases[self.next_key] = Phase(
            video_id,
            kind,
            start,
            self.seconds(duration),
            on_progress,
            on_done,
            key=self.next_key,
        )

    def cancel_video(self, video_id: str) -> None:
        """Stop everything running for a video being deleted."""
        self.phases = {k: p for k, p in self.phases.items() if p.video_id != video_id}
        for job in (self.imports.pop(video_id, None), self.exports.pop(video_id, None)):
            task = getattr(job, "task", None)
            if task is not None:
                task.cancel()

    def video_dir(self, video_id: str) -> Path:
        return self.state.data_dir / "videos" / video_id


_WORLDS: weakref.WeakKeyDictionary[EmulatorState, VideoWorld] = weakref.WeakKeyDictionary()


def world(state: EmulatorState) -> VideoWorld:
    found = _WORLDS.get(state)
    if found is None:
        found = _WORLDS[state] = VideoWorld(state)
    return found


def tick(state: EmulatorState) -> None:
    """Advance every timed phase to the clock's current time. A phase started by another's
    completion begins where that one ended, so a jump of the clock runs whole chains."""
    w = world(state)
    now = state.clock.time()
    # One pass over the running phases, then passes over only the phases that completions
    # started (keys above the previous pass's last), until none is added: linear in the
    # number of phases (a membership test on a list made 10,000 jobs a second per tick).
    batch = list(w.phases.values())
    while batch:
        seen = w.next_key
        for phase in batch:
            if phase.key in w.phases:
                _advance(w, phase, now)
        batch = []
        for key, phase in reversed(w.phases.items()):
            if key <= seen:
                break
            batch.append(phase)
        batch.reverse()


def _advance(w: VideoWorld, phase: Phase, now: float) -> bool:
    """Apply a phase's progress; True when it completed."""
    fraction = 1.0 if phase.duration <= 0 else (now - phase.started_at) / phase.duration
    if fraction >= 1.0:
        del w.phases[phase.key]
        w.chain_time = phase.started_at + phase.duration
        try:
            phase.on_done()
        finally:
            w.chain_time = None
        return True
    percent = max(0, min(99, int(fraction * 100)))
    if percent != phase.last_percent:
        phase.last_percent = percent
        eta = max(1, round(phase.duration * (1 - fraction)))
        phase.on_progress(percent, eta)
    return False


def media_of(state: EmulatorState, video_id: str) -> MediaInfo | None:
    """The stored media of a video, if it has any yet."""
    return world(state).media.get(video_id)


def store_media(state: EmulatorState, video_id: str, source: Path, file_name: str) -> MediaInfo:
    """Copy ``source`` into the video's storage and register it."""
    target = world(state).video_dir(video_id) / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    return register_media(state, video_id, target, file_name)


def register_media(state: EmulatorState, video_id: str, path: Path, file_name: str) -> MediaInfo:
    info = MediaInfo.for_file(path, file_name)
    world(state).media[video_id] = info
    return info


# -- creation -------------------------------------------------------------------------------


def create_ingested_video(
    state: EmulatorState,
    *,
    team_id: str,
    project_id: str,
    user_id: str,
    name: str,
    media_path: Path,
    master_video_id: str | None = None,
    file_name: str | None = None,
    full_ingestion: bool = True,
) -> dict[str, Any]:
    """A complete, fully ingested video whose media is a copy of ``media_path``.

    Without ``master_video_id`` it is a master video (upload DONE); with it, a derived
    video of that master (callers set its ``processing`` part and flags as they need).
    """
    record = records.new_video(
        state,
        team_id=team_id,
        project_id=project_id,
        user_id=user_id,
        name=name,
        is_master=master_video_id is None,
    )
    video_id = record["id"]
    info = store_media(state, video_id, Path(media_path), file_name or Path(media_path).name)
    if master_video_id is None:
        records.set_upload(state, record, info.file_json(state), "DONE", 100)
    else:
        records.link_master(record, state.videos[master_video_id])
        record["processing"] = records.processing_json(
            state, "DONE", 100, master_video_id, 0, info.duration_millis
        )
        record["processing"]["processingState"]["etaSeconds"] = 0
        record["flags"]["isProcessed"] = True
    records.finish_ingestion(state, record, info, full=full_ingestion)
    state.videos[video_id] = record
    return record


# -- ingestion and the free clip ----------------------------------------------------------


def start_ingestion(state: EmulatorState, video_id: str, *, full: bool, event_prefix: str) -> None:
    """Ingest an imported (or processed) video over time; ``event_prefix`` is
    ``video_in_ingestion``, ``clip_ingestion`` or ``video_processing_ingestion``."""
    w = world(state)
    record = state.videos[video_id]
    records.begin_ingestion(state, record)
    state.emit(f"{event_prefix}.started", video_id)

    def progress(percent: int, eta: int) -> None:
        records.ingestion_progress(state, record, percent, eta)

    def done() -> None:
        info = w.media.get(video_id)
        if info is None or video_id not in state.videos:
            records.fail_ingestion(state, record)
            state.emit(f"{event_prefix}.failed", video_id)
            return
        records.finish_ingestion(state, record, info, full=full)
        state.emit(f"{event_prefix}.done", video_id)
        if record["flags"]["isMaster"] and record["teamId"] not in w.free_clip_disabled:
            start_free_clip(state, video_id)

    w.start_phase(video_id, "ingestion", INGESTION_SECONDS, progress, done)


def start_free_clip(state: EmulatorState, master_id: str) -> dict[str, Any]:
    """Derive the free 10-second clip of an ingested master video."""
    w = world(state)
    master = state.videos[master_id]
    master_media = w.media[master_id]
    clip = records.new_video(
        state,
        team_id=master["teamId"],
        project_id=master["projectId"],
        user_id=master["userId"],
        name=f"{master['name']} (10 s clip)",
        is_master=False,
    )
    clip_id = clip["id"]
    duration = master_media.duration_millis
    end = min(FREE_CLIP_MILLIS, duration)
    records.link_master(clip, master)
    clip["clipId"] = clip_id
    clip["flags"]["isClip"] = True
    clip["processing"] = records.processing_json(state, "IN_PROGRESS", 0, master_id, 0, end)
    clip["flags"]["isProcessing"] = True
    state.videos[clip_id] = clip
    state.emit("clip_processing.started", clip_id)

    def progress(percent: int, eta: int) -> None:
        records.processing_progress(state, clip, percent, eta)

    def done() -> None:
        source = w.media.get(master_id)
        if source is None or clip_id not in state.videos:
            return
        share = end / duration if duration else 1.0
        target = w.video_dir(clip_id) / f"clip-{master_media.file_name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        records.copy_prefix(source.path, target, max(1, int(source.size * share)))
        register_media(state, clip_id, target, target.name)
        records.processing_progress(state, clip, 100, 0, status="DONE")
        clip["flags"].update(isProcessing=False, isProcessed=True)
        state.emit("clip_processing.done", clip_id)
        start_ingestion(state, clip_id, full=True, event_prefix="clip_ingestion")

    w.start_phase(clip_id, "clip_processing", CLIP_PROCESSING_SECONDS, progress, done)
    return clip


def derived_ids(state: EmulatorState, video_id: str) -> list[str]:
    """Ids of the videos derived from ``video_id`` (all of a master's, or a clip's
    processed clips)."""
    record = state.videos[video_id]
    if record["flags"]["isMaster"]:
        return [
            v["id"]
            for v in state.videos.values()
            if (v.get("masterVideo") or {}).get("id") == video_id and v["id"] != video_id
        ]
    if record["flags"]["isClip"]:
        return [
            v["id"]
            for v in state.videos.values()
            if v.get("clipId") == video_id and v["id"] != video_id
        ]
    return []


def delete_video(state: EmulatorState, video_id: str) -> list[str]:
    """Delete a video with everything derived from it; returns the deleted ids."""
    w = world(state)
    doomed = [video_id, *derived_ids(state, video_id)]
    for vid in doomed:
        w.cancel_video(vid)
        state.videos.pop(vid, None)
        w.media.pop(vid, None)
        shutil.rmtree(w.video_dir(vid), ignore_errors=True)
        state.emit("video.deleted", vid)
    return doomed


# -- background ticker --------------------------------------------------------------------


def extension(app: web.Application) -> None:
    """Run :func:`tick` in the background and stop all video work on shutdown."""

    async def ticker(state: EmulatorState) -> None:
        while True:
            tick(state)
            await asyncio.sleep(TICK_SECONDS)

    async def start(app: web.Application) -> None:
        state = app[STATE_KEY]
        world(state).spawn(ticker(state))

    async def stop(app: web.Application) -> None:
        w = world(app[STATE_KEY])
        tasks = list(w.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def now_iso(state: EmulatorState) -> str:
    return iso(state.clock.now())

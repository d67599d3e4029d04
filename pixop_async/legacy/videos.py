"""The legacy videos service: projects, videos, process-video and progress checks."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol, TypeVar

from .. import validation as v
from ..ids import ProjectId, VideoId
from ..models.legacy import (
    CreatedVideo,
    DeletedVideos,
    IngestProgress,
    LegacyProject,
    LegacyStatus,
    LegacyVideo,
    LegacyVideoSummary,
    ProcessProgress,
    ProcessVideoResult,
)
from ..polling import Poller, PollFailure, PollIntervals, PollSpec
from ._base import LegacyService
from .pagination import HalPaginator
from .process_request import ProcessVideoRequest

NAME_MAX = 255
DEFAULT_PAGE_SIZE = 20
TERMINAL = (LegacyStatus.DONE, LegacyStatus.FAILED)


def _name(field: str, value: Any) -> str:
    return v.text(field, value, min_len=1, max_len=NAME_MAX)


def _paging(page: int, page_size: int) -> dict[str, Any]:
    return {"page": v.page_number(page), "page-size": v.page_size(page_size)}


class _Progress(Protocol):
    @property
    def status(self) -> LegacyStatus | None: ...


P = TypeVar("P", bound=_Progress)
M = TypeVar("M")


def _failure(kind: str, status: LegacyStatus | None, video_id: uuid.UUID) -> PollFailure | None:
    if status is LegacyStatus.FAILED:
        return PollFailure(f"{kind} of video {video_id} failed", error_code="FAILED")
    return None


def _spec(kind: str, video_id: uuid.UUID, progress_of: Callable[[P], float | None]) -> PollSpec[P]:
    """Poll until DONE or FAILED; FAILED fails the wait with ``"{kind} of video ... failed"``."""
    return PollSpec(
        is_terminal=lambda s: s.status in TERMINAL,
        failure_of=lambda s: _failure(kind, s.status, video_id),
        progress_of=progress_of,
    )


def _poller(kind: str, fetch: str, progress_of: Callable[[P], float | None]) -> Poller[P]:
    return Poller(fetch, lambda vid: _spec(kind, uuid.UUID(vid), progress_of))


class VideosService(LegacyService):
    """``{base}/videos``: projects and videos of the session's team, and their processing."""

    service = "videos"

    # -- projects -------------------------------------------------------------------------

    async def get_project(self, project_id: ProjectId | str) -> LegacyProject:
        """One project of the team by id."""
        pid = v.uuid_str("project_id", project_id)
        return await self._get_model(LegacyProject, "GET", f"/v1/project/{pid}", key="project")

    def list_projects(
        self, *, page: int = 0, page_size: int = DEFAULT_PAGE_SIZE
    ) -> HalPaginator[LegacyProject]:
        """The team's projects; iterate to follow the ``next`` links across pages."""
        return self._hal("/v1/projects", _paging(page, page_size), "projects", LegacyProject)

    async def create_project(self, name: str) -> LegacyProject:
        """Create a project named ``name`` in the team."""
        payload = {"name": _name("name", name)}
        return await self._get_model(
            LegacyProject, "PUT", "/v1/project", key="project", json=payload
        )

    async def update_project(self, project_id: ProjectId | str, *, name: str) -> LegacyProject:
        """Rename a project."""
        pid = v.uuid_str("project_id", project_id)
        payload = {"name": _name("name", name)}
        return await self._get_model(
            LegacyProject, "POST", f"/v1/project/{pid}", key="project", json=payload
        )

    async def delete_project(self, project_id: ProjectId | str) -> None:
        """Delete an empty project; the service refuses while it still holds videos."""
        pid = v.uuid_str("project_id", project_id)
        await self._call("DELETE", f"/v1/project/{pid}")

    # -- videos ---------------------------------------------------------------------------

    async def get(self, video_id: VideoId | str) -> LegacyVideo:
        """One video by id."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(LegacyVideo, "GET", f"/v1/video/{vid}", key="video")

    def list(
        self,
        *,
        project_id: ProjectId | str | None = None,
        parent_id: VideoId | str | None = None,
        page: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> HalPaginator[LegacyVideoSummary]:
        """Videos of the team, optionally only one project's or one original's processed
        videos."""
        params = _paging(page, page_size)
        params["project-id"] = v.optional_uuid("project_id", project_id)
        params["parent-id"] = v.optional_uuid("parent_id", parent_id)
        return self._hal("/v1/videos", params, "videos", LegacyVideoSummary)

    async def create(
        self, *, name: str | None = None, project_id: ProjectId | str | None = None
    ) -> CreatedVideo:
        """A new, empty video item (in the team's default project unless ``project_id``);
        upload its media with ``legacy.media.upload``."""
        payload: dict[str, Any] = {}
        if name is not None:
            payload["name"] = _name("name", name)
        pid = v.optional_uuid("project_id", project_id)
        if pid is not None:
            payload["projectId"] = pid
        return await self._get_model(CreatedVideo, "PUT", "/v1/video", json=payload)

    async def delete(self, video_id: VideoId | str) -> builtins.list[VideoId]:
        """Delete a video with every video processed from it; returns all deleted ids."""
        vid = v.uuid_str("video_id", video_id)
        deleted = await self._get_model(DeletedVideos, "DELETE", f"/v1/video/{vid}")
        return [d.video_id for d in deleted.deleted_videos]

    # -- processing -----------------------------------------------------------------------

    async def process(
        self,
        video_id: VideoId | str,
        request: ProcessVideoRequest | None = None,
        *,
        check_clip: bool = True,
        **options: Any,
    ) -> ProcessVideoResult:
        """Start processing ``video_id`` into a new video.

        Pass a :class:`ProcessVideoRequest` or its options as keywords (``codec="prores",
        apple_prores_profile="hq", tag="uhd_4k"``); the whole option table is checked before
        anything is sent. With a clip range and ``check_clip``, the video's duration is
        fetched first so a range past its end is refused client-side too.
        """
        vid = v.uuid_str("video_id", video_id)
        if request is not None and options:
            raise TypeError("pass either a ProcessVideoRequest or keyword options, not both")
        req = request if request is not None else ProcessVideoRequest(**options)
        if not isinstance(req, ProcessVideoRequest):
            raise TypeError("request must be a ProcessVideoRequest")
        clipped = req.start_position_ms is not None or req.end_position_ms is not None
        if clipped and check_clip:
            duration = (await self.get(vid)).duration_ms
            if duration is not None:
                req.check_clip(duration)
        return await self._get_model(
            ProcessVideoResult, "POST", f"/v1/process-video/{vid}", json=req.to_json()
        )

    async def process_progress(self, video_id: VideoId | str) -> ProcessProgress:
        """Processing progress of ``video_id`` now (one read; :meth:`wait_processed` polls)."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(
            ProcessProgress, "GET", f"/v1/check-process-video-progress/{vid}"
        )

    async def ingest_progress(self, video_id: VideoId | str) -> IngestProgress:
        """Ingestion progress of ``video_id`` now (one read; :meth:`wait_ingested` polls)."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(
            IngestProgress, "GET", f"/v1/check-ingest-video-progress/{vid}"
        )

    # -- pollers --------------------------------------------------------------------------

    async def wait_processed(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
    ) -> ProcessProgress:
        """Poll until processing ends; raises OperationFailedError if it failed and
        PollTimeoutError after ``timeout`` seconds."""
        return await _PROCESSING.wait(self, video_id, timeout=timeout, intervals=intervals)

    def watch_processing(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
    ) -> AsyncIterator[ProcessProgress]:
        """Yield each new processing state until DONE or FAILED."""
        return _PROCESSING.watch(self, video_id, timeout=timeout, intervals=intervals)

    async def wait_ingested(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
    ) -> IngestProgress:
        """Poll until ingestion ends; raises OperationFailedError if it failed."""
        return await _INGESTION.wait(self, video_id, timeout=timeout, intervals=intervals)

    def watch_ingestion(
        self,
        video_id: VideoId | str,
        *,
        timeout: float | None = None,
        intervals: PollIntervals | None = None,
    ) -> AsyncIterator[IngestProgress]:
        """Yield each new ingestion state until DONE or FAILED."""
        return _INGESTION.watch(self, video_id, timeout=timeout, intervals=intervals)

    # -- helpers --------------------------------------------------------------------------

    def _hal(self, path: str, params: dict[str, Any], key: str, cls: type[M]) -> HalPaginator[M]:
        query = "&".join(f"{k}={val}" for k, val in params.items() if val is not None)
        first = self.url(path) + ("?" + query if query else "")

        async def fetch(url: str) -> Any:
            return (await self._client.request("GET", url)).json()

        return HalPaginator(fetch, first, key=key, cls=cls)


def _percent(state: ProcessProgress) -> float | None:
    ps = state.processing_state
    return None if ps is None else ps.processing_progress_percent


def _ingest_marker(state: IngestProgress) -> float | None:
    """Ingestion reports no percentage: a status or metadata change counts as movement."""
    st = state.ingestion_state
    if st is None:
        return None
    rank = {LegacyStatus.INITIAL: 0.0, LegacyStatus.IN_PROGRESS: 1.0}.get(
        st.ingestion_status or LegacyStatus.INITIAL, 2.0
    )
    return rank + (0.5 if st.video_metadata_available else 0.0)


_PROCESSING = _poller("processing", "process_progress", _percent)
_INGESTION = _poller("ingestion", "ingest_progress", _ingest_marker)

"""Videos: ``/v1/videos`` listing, details, renaming, deletion, derived videos, comparison."""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from .. import validation as v
from ..errors import InvalidRequestError
from ..ids import ClipId, ProjectId, TeamId, VideoId
from ..models.enums import SortBy, SortDirection
from ..models.videos import ClipMode, Video, VideoComparisonLink, VideoPatch
from ..pagination import AsyncPaginator
from . import _video_args as a
from ._base import Resource, body, decode, paging_params, team_paging_params


class VideosResource(Resource):
    """Read, rename and delete videos, and walk the videos derived from one."""

    def list(
        self,
        *,
        team_id: TeamId | str | None = None,
        project_id: ProjectId | str | None = None,
        master_video_id: VideoId | str | None = None,
        clip_id: ClipId | str | None = None,
        clip_mode: ClipMode | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[Video]:
        """Videos visible to the key, filtered by team, project, master video or clip;
        ``clip_mode`` includes (default), excludes or selects only clips."""
        params = team_paging_params(team_id, page_number, page_size, sort_direction, sort_by)
        params["projectId"] = v.optional_uuid("project_id", project_id)
        params["masterVideoId"] = v.optional_uuid("master_video_id", master_video_id)
        params["clipId"] = v.optional_uuid("clip_id", clip_id)
        if clip_mode is not None:
            params["clipMode"] = v.one_of("clip_mode", clip_mode, ClipMode).value
        return self._paginate(Video, "/v1/videos", params)

    async def get(self, video_id: VideoId | str) -> Video:
        """One video (master, derived or clip) with its ingestion and processing state."""
        vid = v.uuid_str("video_id", video_id)
        return await self._get_model(Video, "GET", f"/v1/videos/{vid}")

    async def update(
        self, video_id: VideoId | str, *, name: str | None = None, description: str | None = None
    ) -> Video:
        """Change a video's name (1-255 characters) and/or description (0-511)."""
        vid = v.uuid_str("video_id", video_id)
        if name is None and description is None:
            raise InvalidRequestError("name", "give name and/or description to change")
        payload = body(
            VideoPatch(name=a.optional_video_name(name), description=a.description(description))
        )
        return await self._get_model(Video, "PATCH", f"/v1/videos/{vid}", json=payload)

    async def delete(
        self,
        video_id: VideoId | str,
        *,
        expected_derived_ids: Iterable[VideoId | str] | None = None,
    ) -> builtins.list[VideoId]:
        """Delete a video and everything derived from it; returns the deleted ids.

        With ``expected_derived_ids`` (an empty list means "none expected") the API refuses
        with 409 ``CONFLICTING_DERIVED_VIDEO_IDS`` when the video has derived videos not in
        the list, so nothing is deleted by surprise.
        """
        vid = v.uuid_str("video_id", video_id)
        payload = None
        if expected_derived_ids is not None:
            if isinstance(expected_derived_ids, str | bytes):
                raise InvalidRequestError(
                    "expected_derived_ids", "must be a collection of UUIDs, not a string"
                )
            payload = v.uuid_list("expected_derived_ids", expected_derived_ids)
        response = await self._call("DELETE", f"/v1/videos/{vid}", json=payload)
        if not response.body:
            return []
        return decode(response, builtins.list[VideoId])

    def derived(
        self,
        video_id: VideoId | str,
        *,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[Video]:
        """Videos derived from ``video_id``: every clip and processed video of a master, or
        the processed clips of a clip."""
        vid = v.uuid_str("video_id", video_id)
        params = paging_params(page_number, page_size, sort_direction, sort_by)
        return self._paginate(Video, f"/v1/videos/{vid}/derived", params)

    async def compare_with(
        self, video_id: VideoId | str, target_video_id: VideoId | str
    ) -> VideoComparisonLink:
        """A Pixop Studio link comparing two fully ingested videos of the same master with
        similar durations (409 otherwise)."""
        vid = v.uuid_str("video_id", video_id)
        tid = v.uuid_str("target_video_id", target_video_id)
        return await self._get_model(
            VideoComparisonLink, "GET", f"/v1/videos/{vid}/compare-with/{tid}"
        )

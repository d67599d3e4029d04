"""Processing configurations: ``/v1/processing-configurations``."""

from __future__ import annotations

from typing import Any

from .. import validation as v
from ..ids import ProcessingConfigurationId, TeamId
from ..models.enums import FilterMode, SortBy, SortDirection
from ..models.processing import VideoProcessingConfiguration
from ..pagination import AsyncPaginator
from ._base import Resource, team_paging_params
from .processing import Options, options_json

CONFIGURATION_NAME_MAX = 47
CONFIGURATION_DESCRIPTION_MAX = 511


class ProcessingConfigurationsResource(Resource):
    """Saved processing options, reusable by id (Pixop's built-in ones are read-only)."""

    async def create(
        self,
        name: str,
        options: Options,
        *,
        description: str | None = None,
        select_team_id: TeamId | str | None = None,
    ) -> VideoProcessingConfiguration:
        """Save ``options`` under ``name`` (1 to 47 characters) in the selected team."""
        payload: dict[str, Any] = {
            "name": v.text("name", name, min_len=1, max_len=CONFIGURATION_NAME_MAX),
            "options": options_json(options),
        }
        desc = v.optional_text("description", description, max_len=CONFIGURATION_DESCRIPTION_MAX)
        if desc is not None:
            payload["description"] = desc
        params = {"selectTeamId": v.optional_uuid("select_team_id", select_team_id)}
        return await self._get_model(
            VideoProcessingConfiguration,
            "POST",
            "/v1/processing-configurations",
            params=params,
            json=payload,
        )

    def list(
        self,
        *,
        team_id: TeamId | str | None = None,
        built_in_mode: FilterMode | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[VideoProcessingConfiguration]:
        """Configurations visible to the key; ``built_in_mode`` INCLUDE (default), EXCLUDE
        or ONLY Pixop's built-in ones."""
        params = team_paging_params(team_id, page_number, page_size, sort_direction, sort_by)
        if built_in_mode is not None:
            params["builtInMode"] = v.one_of("built_in_mode", built_in_mode, FilterMode).value
        return self._paginate(VideoProcessingConfiguration, "/v1/processing-configurations", params)

    async def get(self, conf_id: ProcessingConfigurationId | str) -> VideoProcessingConfiguration:
        """One saved processing configuration (your team's or a built-in one)."""
        cid = v.uuid_str("conf_id", conf_id)
        return await self._get_model(
            VideoProcessingConfiguration, "GET", f"/v1/processing-configurations/{cid}"
        )

    async def delete(self, conf_id: ProcessingConfigurationId | str) -> None:
        """Delete a configuration of your team (built-in ones cannot be deleted)."""
        cid = v.uuid_str("conf_id", conf_id)
        await self._call("DELETE", f"/v1/processing-configurations/{cid}")

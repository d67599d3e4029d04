"""Projects: ``/v1/projects``."""

from __future__ import annotations

from typing import Any

from .. import validation as v
from ..ids import ProjectId, TeamId
from ..models.account import Project, ProjectPatch, ProjectPost
from ._base import TeamListing, body

PROJECT_NAME_MAX = 47


def _name(value: Any) -> str:
    return v.text("name", value, min_len=1, max_len=PROJECT_NAME_MAX)


class ProjectsResource(TeamListing[Project]):
    """Create, list, read, rename and delete projects."""

    _path = "/v1/projects"
    _model = Project

    async def create(self, name: str, *, select_team_id: TeamId | str | None = None) -> Project:
        """Create a project in the selected team (the key's default team if none)."""
        payload = body(ProjectPost(name=_name(name)))
        params = {"selectTeamId": v.optional_uuid("select_team_id", select_team_id)}
        return await self._get_model(Project, "POST", "/v1/projects", json=payload, params=params)

    async def get(self, project_id: ProjectId | str) -> Project:
        """One project by its id."""
        pid = v.uuid_str("project_id", project_id)
        return await self._get_model(Project, "GET", f"/v1/projects/{pid}")

    async def get_default(self, *, select_team_id: TeamId | str | None = None) -> Project:
        """The selected team's default project (its oldest one named 'Default Project')."""
        params = {"selectTeamId": v.optional_uuid("select_team_id", select_team_id)}
        return await self._get_model(Project, "GET", "/v1/projects/default", params=params)

    async def update(self, project_id: ProjectId | str, *, name: str) -> Project:
        """Rename a project; returns it as it now is."""
        pid = v.uuid_str("project_id", project_id)
        payload = body(ProjectPatch(name=_name(name)))
        return await self._get_model(Project, "PATCH", f"/v1/projects/{pid}", json=payload)

    async def delete(self, project_id: ProjectId | str) -> None:
        """Delete a project; the API refuses (409) while it still holds videos."""
        pid = v.uuid_str("project_id", project_id)
        await self._call("DELETE", f"/v1/projects/{pid}")

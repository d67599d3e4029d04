"""Account details and teams."""

from __future__ import annotations

from typing import Any

from .. import validation as v
from ..ids import TeamId
from ..models.account import Account, Team
from ..models.enums import SortBy, SortDirection
from ..pagination import AsyncPaginator
from ._base import Resource, paging_params


class AccountResource(Resource):
    """``/v1/account``."""

    async def get(self) -> Account:
        """The user and default team behind the client's API key."""
        return await self._get_model(Account, "GET", "/v1/account")


class TeamsResource(Resource):
    """``/v1/teams``."""

    def list(
        self,
        *,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[Team]:
        """Teams the API key can use."""
        params: dict[str, Any] = paging_params(page_number, page_size, sort_direction, sort_by)
        return self._paginate(Team, "/v1/teams", params)

    async def get(self, team_id: TeamId | str) -> Team:
        """One team the key's user belongs to (404 for any other)."""
        team = v.uuid_str("team_id", team_id)
        return await self._get_model(Team, "GET", f"/v1/teams/{team}")

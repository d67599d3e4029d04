"""Shared plumbing for resource wrappers: request helpers and list paging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .. import validation as v
from .._decode import decode as decode  # re-exported: resources build models through it
from .._session import ApiResponse
from ..auth import Auth
from ..ids import TeamId
from ..models.common import Page
from ..models.converter import unstructure
from ..models.enums import SortBy, SortDirection
from ..pagination import AsyncPaginator

if TYPE_CHECKING:
    from ..client import Pixop

T = TypeVar("T")


def paging_params(
    page_number: int,
    page_size: int,
    sort_direction: SortDirection | str | None,
    sort_by: SortBy | str | None,
) -> dict[str, Any]:
    """Validated paging and sort query parameters."""
    params: dict[str, Any] = {
        "pageNumber": v.page_number(page_number),
        "pageSize": v.page_size(page_size),
    }
    if sort_direction is not None:
        params["sortDirection"] = v.one_of("sort_direction", sort_direction, SortDirection).value
    if sort_by is not None:
        params["sortBy"] = v.one_of("sort_by", sort_by, SortBy).value
    return params


def team_paging_params(
    team_id: TeamId | str | None,
    page_number: int,
    page_size: int,
    sort_direction: SortDirection | str | None,
    sort_by: SortBy | str | None,
) -> dict[str, Any]:
    """:func:`paging_params` plus the optional ``teamId`` filter of team-scoped listings."""
    params = paging_params(page_number, page_size, sort_direction, sort_by)
    params["teamId"] = v.optional_uuid("team_id", team_id)
    return params


class Resource:
    """Base of every resource: holds the client and sends requests through it."""

    def __init__(self, client: Pixop) -> None:
        self._client = client

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return await self._client._request(
            method, path, params=params, json=json, auth=auth, headers=headers
        )

    async def _get_model(self, cls: type[T], method: str, path: str, **kwargs: Any) -> T:
        response = await self._call(method, path, **kwargs)
        return decode(response, cls)

    def _paginate(
        self,
        cls: type[T],
        path: str,
        params: Mapping[str, Any],
        *,
        auth: Auth | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator over ``path`` whose pages hold ``cls`` items; ``params`` must include
        the validated ``pageNumber`` to start from."""
        fixed = {k: val for k, val in params.items() if k != "pageNumber"}

        async def fetch(number: int) -> Page[T]:
            response = await self._call(
                "GET", path, params={**fixed, "pageNumber": number}, auth=auth
            )
            return decode(response, Page[cls])  # type: ignore[valid-type]

        return AsyncPaginator(fetch, start_page=int(params.get("pageNumber", 0)))


class TeamListing(Resource, Generic[T]):
    """A resource whose ``_model`` items at ``_path`` are listed across the key's teams."""

    _path: str
    _model: type[T]

    def list(
        self,
        *,
        team_id: TeamId | str | None = None,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[T]:
        """Items of the teams the key can use, optionally only those of ``team_id``."""
        params = team_paging_params(team_id, page_number, page_size, sort_direction, sort_by)
        return self._paginate(self._model, self._path, params)


def body(model: Any) -> Any:
    """JSON body for a request model."""
    return unstructure(model)

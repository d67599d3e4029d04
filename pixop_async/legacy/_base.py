"""Plumbing shared by the legacy services: request helpers bound to one service root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._decode import decode
from ..auth import Auth

if TYPE_CHECKING:
    from .._session import ApiResponse
    from .client import PixopLegacy

T = TypeVar("T")


class LegacyService:
    """Base of the three legacy services; ``service`` is the path segment under the base URL
    (``accounts``, ``videos`` or ``media``)."""

    service = ""

    def __init__(self, client: PixopLegacy) -> None:
        self._client = client

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (``/v1/...``) in this service."""
        return self._client.service_url(self.service, path)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | None = None,
    ) -> ApiResponse:
        return await self._client.request(
            method, self.url(path), params=params, json=json, auth=auth
        )

    async def _get_model(
        self, cls: type[T], method: str, path: str, key: str | None = None, **kwargs: Any
    ) -> T:
        """Send a request and build ``cls`` from the body (or from its member ``key``)."""
        response = await self._call(method, path, **kwargs)
        if key is None:
            return decode(response, cls)
        return decode(response, cls, lambda data: data.get(key) if isinstance(data, dict) else None)

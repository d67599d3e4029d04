"""API keys: ``/v1/api-keys`` (HTTP Basic with the account's email and password)."""

from __future__ import annotations

from .. import validation as v
from ..auth import BasicAuth
from ..errors import InvalidRequestError, MissingCredentialsError
from ..ids import ApiKeyId
from ..models.account import ApiKey, ApiKeyPatch, ApiKeyPost
from ..models.enums import SortBy, SortDirection
from ..pagination import AsyncPaginator
from ._base import Resource, body, paging_params

API_KEY_NAME_MAX = 47
API_KEY_DESCRIPTION_MAX = 511


class ApiKeysResource(Resource):
    """Manage API keys. Needs ``email`` and ``password`` on the client."""

    def _basic(self) -> BasicAuth:
        auth = self._client._basic_auth
        if auth is None:
            raise MissingCredentialsError(
                "API key management uses HTTP Basic auth: create the client with "
                "email= and password="
            )
        return auth

    async def create(
        self, name: str, *, description: str | None = None, active: bool = True
    ) -> ApiKey:
        """Create a key; the result's ``api_key`` holds the secret, shown only this once."""
        payload = body(
            ApiKeyPost(
                name=v.text("name", name, min_len=1, max_len=API_KEY_NAME_MAX),
                description=v.optional_text(
                    "description", description, max_len=API_KEY_DESCRIPTION_MAX
                ),
                active=v.boolean("active", active),
            )
        )
        return await self._get_model(
            ApiKey, "POST", "/v1/api-keys", json=payload, auth=self._basic()
        )

    def list(
        self,
        *,
        page_number: int = 0,
        page_size: int = 10,
        sort_direction: SortDirection | str | None = None,
        sort_by: SortBy | str | None = None,
    ) -> AsyncPaginator[ApiKey]:
        """The account's API keys (HTTP Basic): ``await`` a page or ``async for`` every key."""
        params = paging_params(page_number, page_size, sort_direction, sort_by)
        return self._paginate(ApiKey, "/v1/api-keys", params, auth=self._basic())

    async def get(self, key_id: ApiKeyId | str) -> ApiKey:
        """One API key of the account (HTTP Basic)."""
        kid = v.uuid_str("key_id", key_id)
        return await self._get_model(ApiKey, "GET", f"/v1/api-keys/{kid}", auth=self._basic())

    async def update(
        self, key_id: ApiKeyId | str, *, name: str | None = None, description: str | None = None
    ) -> ApiKey:
        """Rename a key or change its description (activation has its own calls)."""
        kid = v.uuid_str("key_id", key_id)
        if name is None and description is None:
            raise InvalidRequestError("name", "give name or description to update")
        payload = body(
            ApiKeyPatch(
                name=v.optional_text("name", name, min_len=1, max_len=API_KEY_NAME_MAX),
                description=v.optional_text(
                    "description", description, max_len=API_KEY_DESCRIPTION_MAX
                ),
            )
        )
        return await self._get_model(
            ApiKey, "PATCH", f"/v1/api-keys/{kid}", json=payload, auth=self._basic()
        )

    async def activate(self, key_id: ApiKeyId | str) -> ApiKey:
        """Make a key usable again; returns it as it now is."""
        kid = v.uuid_str("key_id", key_id)
        return await self._get_model(
            ApiKey, "POST", f"/v1/api-keys/{kid}/activate", auth=self._basic()
        )

    async def deactivate(self, key_id: ApiKeyId | str) -> ApiKey:
        """Stop a key from authenticating (it can be activated again or deleted)."""
        kid = v.uuid_str("key_id", key_id)
        return await self._get_model(
            ApiKey, "POST", f"/v1/api-keys/{kid}/deactivate", auth=self._basic()
        )

    async def delete(self, key_id: ApiKeyId | str) -> None:
        """Delete an inactive key (the API answers 409 for an active one)."""
        kid = v.uuid_str("key_id", key_id)
        await self._call("DELETE", f"/v1/api-keys/{kid}", auth=self._basic())

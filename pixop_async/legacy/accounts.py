"""The legacy accounts service: tokens, account details, secrets and the password."""

from __future__ import annotations

from typing import Any

from .. import validation as v
from .._decode import decode
from ..auth import Auth, BasicAuth
from ..ids import TeamId
from ..models.legacy import (
    LegacyAccount,
    LegacyToken,
    LegacyUser,
    TokenIdentity,
    normalize_user_json,
)
from ._base import LegacyService

PASSWORD_MAX = 1024
#: The query parameter binding a new token to a team.
TEAM_PARAM = "team-id"


def _with_user(data: Any) -> Any:
    if isinstance(data, dict) and "user" in data:
        return {**data, "user": normalize_user_json(data["user"])}
    return data


class _BearerToken:
    """One fixed bearer token (validating a token other than the session's)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def on_unauthorized(self, body: bytes) -> bool:
        return False

    def __repr__(self) -> str:
        return "_BearerToken(***)"


class AccountsService(LegacyService):
    """``{base}/accounts``: authenticate, inspect and manage the account."""

    service = "accounts"

    async def create_token(self, *, team_id: TeamId | str | None = None) -> LegacyToken:
        """A new JWT from the account's email and password (HTTP Basic), optionally bound to
        ``team_id`` (a team the user belongs to). The client's own session token is not
        changed; the client fetches its tokens through this call."""
        params = {TEAM_PARAM: v.optional_uuid("team_id", team_id)}
        return await self._get_model(
            LegacyToken, "GET", "/v1/token", params=params, auth=self._client.basic_auth
        )

    async def validate_token(self, token: str | None = None) -> TokenIdentity:
        """The user and teams behind ``token`` (the session's token when omitted)."""
        auth: Auth | None = None
        if token is not None:
            auth = _BearerToken(v.text("token", token, min_len=1))
        response = await self._call("POST", "/v1/token", auth=auth)
        return decode(response, TokenIdentity, _with_user)

    async def get(self) -> LegacyAccount:
        """The account's user and the team the session token acts for."""
        return decode(await self._call("GET", "/v1/account"), LegacyAccount, _with_user)

    async def _user(self, method: str, path: str, *, basic: bool, json: Any = None) -> LegacyUser:
        auth = self._client.basic_auth if basic else None
        response = await self._call(method, path, json=json, auth=auth)

        def user(data: Any) -> Any:
            return normalize_user_json(data.get("user") if isinstance(data, dict) else None)

        return decode(response, LegacyUser, user)

    async def generate_auth_secret(self, *, use_basic: bool = False) -> LegacyUser:
        """Rotate the key that signs the account's JWTs (the user carries the new public key
        and its id). Tokens signed with the old key stop working, so the client drops its
        session token and fetches a new one on the next call."""
        user = await self._user(
            "GET", "/v1/generate-auth-secret", basic=v.boolean("use_basic", use_basic)
        )
        self._client.jwt_auth.invalidate()
        return user

    async def generate_signature_secret(self, *, use_basic: bool = False) -> LegacyUser:
        """A new shared secret for signing API requests (hidden in the user's repr)."""
        return await self._user(
            "GET", "/v1/generate-signature-secret", basic=v.boolean("use_basic", use_basic)
        )

    async def update_password(self, new_password: str, *, use_basic: bool = False) -> LegacyUser:
        """Change the account password; the client then uses it for later token requests."""
        password = v.text("new_password", new_password, min_len=1, max_len=PASSWORD_MAX)
        user = await self._user(
            "POST",
            "/v1/update-password",
            basic=v.boolean("use_basic", use_basic),
            json={"newPassword": password},
        )
        self._client._set_basic_auth(BasicAuth(self._client.basic_auth.email, password))
        return user

"""Admin operations: the Pixop-Mimir integration (``/v1/admin/pixop-mimir-integration``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from .. import validation as v
from ..auth import mask
from ..errors import InvalidRequestError, MissingCredentialsError
from ..ids import TeamId
from ..models.admin import MimirIntegration, MimirIntegrationRequest, MimirSetup
from ._base import Resource, body, decode

MIMIR_INTEGRATION_PATH = "/v1/admin/pixop-mimir-integration"
DAYS_TO_LIVE_MAX = 90
LEASE_WINDOW_HOURS_MAX = 168
JOBS_PER_SOURCE_MAX = 5
#: Mimir tenants and user ids are short identifiers; this bound only stops absurd input.
MIMIR_TEXT_MAX = 256

# Header values must not carry control characters (CR/LF would split headers).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _header_text(field: str, value: Any, *, secret: bool) -> str:
    """A non-empty header value without control characters; secrets are never echoed."""
    if not isinstance(value, str):
        raise InvalidRequestError(field, "must be a string")
    if not value.strip() or len(value) > MIMIR_TEXT_MAX or _CONTROL.search(value):
        shown = None if secret else repr(value[:40])
        raise InvalidRequestError(
            field,
            f"must be 1 to {MIMIR_TEXT_MAX} printable characters",
            value_repr=shown,
        )
    return value


class MimirAdminAuth:
    """The three headers the admin endpoint authenticates with; keys never shown."""

    __slots__ = ("_mimir_api_key", "_pixop_api_key", "_tenant")

    def __init__(self, pixop_api_key: str, mimir_api_key: str, mimir_tenant: str) -> None:
        self._pixop_api_key = _header_text("pixop_api_key", pixop_api_key, secret=True)
        self._mimir_api_key = _header_text("mimir_api_key", mimir_api_key, secret=True)
        self._tenant = _header_text("mimir_tenant", mimir_tenant, secret=False)

    async def headers(self) -> dict[str, str]:
        """The three ``x-pixop-api-key`` / ``x-mimir-*`` headers of each admin call."""
        return {
            "x-pixop-api-key": self._pixop_api_key,
            "x-mimir-api-key": self._mimir_api_key,
            "x-mimir-tenant": self._tenant,
        }

    async def on_unauthorized(self, body: bytes) -> bool:
        """Never retry: these credentials cannot be refreshed."""
        return False

    def __repr__(self) -> str:
        return (
            f"MimirAdminAuth(tenant={self._tenant!r}, "
            f"pixop_api_key={mask(self._pixop_api_key)!r}, mimir_api_key='***')"
        )


def _setup_json(value: MimirSetup | Mapping[str, Any] | None) -> Any:
    if value is None:
        return None
    if isinstance(value, MimirSetup):
        ids = v.uuid_list(
            "mimir_setup.processing_configuration_ids", value.processing_configuration_ids
        )
        for name in ("labels", "tooltips"):
            texts = getattr(value, name)
            if texts is not None and not all(
                isinstance(k, str) and isinstance(t, str) for k, t in texts.items()
            ):
                raise InvalidRequestError(f"mimir_setup.{name}", "must map strings to strings")
        data: dict[str, Any] = body(value)
        data["processingConfigurationIds"] = ids
        return data
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise InvalidRequestError("mimir_setup", "keys must be strings")
        return dict(value)
    raise InvalidRequestError("mimir_setup", "must be a MimirSetup or a mapping")


_SCALAR = (str, int, float, bool)


def _extra_params(extra: Mapping[str, Any] | None, named: Mapping[str, Any]) -> dict[str, Any]:
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise InvalidRequestError("extra_params", "must be a mapping of query names to values")
    result: dict[str, Any] = {}
    for key, value in extra.items():
        if not isinstance(key, str) or not key:
            raise InvalidRequestError("extra_params", "query names must be non-empty strings")
        if key in named:
            raise InvalidRequestError(
                f"extra_params[{key!r}]", "is set by its own argument; pass it there"
            )
        if value is not None and not isinstance(value, _SCALAR):
            raise InvalidRequestError(f"extra_params[{key!r}]", "must be a str, int, float or bool")
        result[key] = value
    return result


class MimirIntegrationResource(Resource):
    """Create, renew or remove the mapping between a Pixop team and a Mimir tenant.

    Both calls authenticate with the headers ``x-pixop-api-key`` (``pixop_api_key``,
    by default the client's own API key), ``x-mimir-api-key`` and ``x-mimir-tenant``.
    The Mimir API key is a secret: it is never shown in reprs, logs or error messages.
    """

    def _auth(self, pixop_api_key: str | None, mimir_api_key: Any, tenant: Any) -> MimirAdminAuth:
        if pixop_api_key is None:
            own = self._client._api_key_auth
            if own is None:
                raise MissingCredentialsError(
                    "the Mimir integration needs a Pixop API key: pass pixop_api_key= or "
                    "create the client with api_key="
                )
            pixop_api_key = own._api_key
        return MimirAdminAuth(pixop_api_key, mimir_api_key, tenant)

    async def create_or_update(
        self,
        *,
        mimir_tenant: str,
        mimir_api_key: str,
        mimir_notification_user_id: str,
        mimir_setup: MimirSetup | Mapping[str, Any] | None = None,
        pixop_api_key: str | None = None,
        days_to_live: int = 90,
        tenant_idle_lease_window_hours: int = 48,
        team_id: TeamId | str | None = None,
        max_processing_jobs_per_source_video: int = 1,
        comment_on_ingestion_finished: bool = True,
        comment_on_processing_finished: bool = True,
        extra_params: Mapping[str, Any] | None = None,
    ) -> MimirIntegration:
        """Create or renew the integration (``PUT``) and return its current state.

        Renewing before ``days_to_live`` runs out (1-90 days) extends it; new Pixop jobs
        reset the time to live too. ``team_id`` picks the Pixop team (default: the API
        key's default team). ``tenant_idle_lease_window_hours`` (1-168) is how long an unused
        master video of the tenant is kept; ``max_processing_jobs_per_source_video`` (1-5)
        caps processing per source video; the two ``comment_on_*`` flags make Pixop comment
        on the Mimir item when ingestion or processing finishes. With ``mimir_setup`` Pixop
        also configures Mimir; the result's ``manual_steps`` lists what is left to do by hand.

        Query names: the API page names only ``daysToLive``; this SDK sends the others as
        ``tenantIdleLeaseWindowHours``, ``teamId``, ``maxProcessingJobsPerSourceVideo``,
        ``commentOnIngestionFinished`` and ``commentOnProcessingFinished``. Any further query
        parameters go in ``extra_params`` (``{name: value}``; ``None`` values are dropped;
        a name already covered by an argument is refused).

        Errors: 400 (:class:`~pixop_async.errors.BadRequestError`) names processing
        configuration ids Pixop does not know, or reports a failed Mimir setup; 409
        (:class:`~pixop_async.errors.ConflictError`) when the tenant is mapped to another
        team. A failed call changes nothing on either side.
        """
        auth = self._auth(pixop_api_key, mimir_api_key, mimir_tenant)
        params: dict[str, Any] = {
            "daysToLive": v.integer(
                "days_to_live", days_to_live, minimum=1, maximum=DAYS_TO_LIVE_MAX
            ),
            "tenantIdleLeaseWindowHours": v.integer(
                "tenant_idle_lease_window_hours",
                tenant_idle_lease_window_hours,
                minimum=1,
                maximum=LEASE_WINDOW_HOURS_MAX,
            ),
            "teamId": v.optional_uuid("team_id", team_id),
            "maxProcessingJobsPerSourceVideo": v.integer(
                "max_processing_jobs_per_source_video",
                max_processing_jobs_per_source_video,
                minimum=1,
                maximum=JOBS_PER_SOURCE_MAX,
            ),
            "commentOnIngestionFinished": v.boolean(
                "comment_on_ingestion_finished", comment_on_ingestion_finished
            ),
            "commentOnProcessingFinished": v.boolean(
                "comment_on_processing_finished", comment_on_processing_finished
            ),
        }
        params.update(_extra_params(extra_params, params))
        payload = body(
            MimirIntegrationRequest(
                mimir_notification_user_id=v.text(
                    "mimir_notification_user_id",
                    mimir_notification_user_id,
                    min_len=1,
                    max_len=MIMIR_TEXT_MAX,
                ),
                mimir_setup=_setup_json(mimir_setup),
            )
        )
        response = await self._call(
            "PUT", MIMIR_INTEGRATION_PATH, params=params, json=payload, auth=auth
        )
        return decode(response, MimirIntegration)

    async def delete(
        self,
        *,
        mimir_tenant: str,
        mimir_api_key: str,
        pixop_api_key: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> None:
        """Remove the integration of ``mimir_tenant``: the mapping, the Pixop webhook it
        created and its related state. ``extra_params`` adds query parameters as above."""
        auth = self._auth(pixop_api_key, mimir_api_key, mimir_tenant)
        params = _extra_params(extra_params, {})
        await self._call("DELETE", MIMIR_INTEGRATION_PATH, params=params, auth=auth)


class AdminResource(Resource):
    """Administrative API areas."""

    @functools.cached_property
    def mimir_integration(self) -> MimirIntegrationResource:
        """Mimir integration admin calls (``/v1/admin/mimir-integration``)."""
        return MimirIntegrationResource(self._client)

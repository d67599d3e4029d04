"""Saved S3 buckets: ``/v1/input-locations/s3`` and ``/v1/output-locations/s3``.

Both areas have the same operations, so one class serves both, parameterised by path and
model. Credentials are sent once and only ever come back masked.
"""

from __future__ import annotations

from typing import Any, TypeVar

from .. import validation as v
from ..errors import InvalidRequestError
from ..ids import LocationId, TeamId
from ..models.locations import (
    S3InputLocation,
    S3Location,
    S3LocationPatch,
    S3LocationPost,
    S3OutputLocation,
)
from . import _video_args as a
from ._base import TeamListing, body

L = TypeVar("L", bound=S3Location)


def _name(value: Any) -> str:
    return v.text("name", value, min_len=1, max_len=a.LOCATION_NAME_MAX)


class _S3LocationsResource(TeamListing[L]):
    async def create(
        self,
        name: str,
        bucket: str,
        access_key: str,
        secret_access_key: str,
        *,
        select_team_id: TeamId | str | None = None,
    ) -> L:
        """Save a bucket and its credentials for the selected team."""
        payload = body(
            S3LocationPost(
                name=_name(name),
                bucket=a.bucket_name(bucket),
                access_key=a.credential("access_key", access_key),
                secret_access_key=a.credential("secret_access_key", secret_access_key),
            )
        )
        return await self._get_model(
            self._model, "POST", self._path, json=payload, params=a.team_param(select_team_id)
        )

    async def get(self, location_id: LocationId | str) -> L:
        """One saved location by id."""
        lid = v.uuid_str("location_id", location_id)
        return await self._get_model(self._model, "GET", f"{self._path}/{lid}")

    async def update(
        self,
        location_id: LocationId | str,
        *,
        name: str | None = None,
        bucket: str | None = None,
        access_key: str | None = None,
        secret_access_key: str | None = None,
    ) -> L:
        """Change any of the name, bucket or credentials (at least one)."""
        lid = v.uuid_str("location_id", location_id)
        patch = S3LocationPatch(
            name=None if name is None else _name(name),
            bucket=None if bucket is None else a.bucket_name(bucket),
            access_key=None if access_key is None else a.credential("access_key", access_key),
            secret_access_key=None
            if secret_access_key is None
            else a.credential("secret_access_key", secret_access_key),
        )
        if patch == S3LocationPatch():
            raise InvalidRequestError("name", "give at least one field to change")
        return await self._get_model(self._model, "PATCH", f"{self._path}/{lid}", json=body(patch))

    async def delete(self, location_id: LocationId | str) -> None:
        """Delete a saved location."""
        lid = v.uuid_str("location_id", location_id)
        await self._call("DELETE", f"{self._path}/{lid}")


class InputLocationsResource(_S3LocationsResource[S3InputLocation]):
    """S3 buckets to import from (see ``imports.from_s3_location``)."""

    _path = "/v1/input-locations/s3"
    _model = S3InputLocation


class OutputLocationsResource(_S3LocationsResource[S3OutputLocation]):
    """S3 buckets to export to (see ``exports.to_s3_location``)."""

    _path = "/v1/output-locations/s3"
    _model = S3OutputLocation

"""S3 input and output locations: saved buckets with their access keys.

Secret access keys are never shown in a repr; access keys show only their last three
characters.
"""

from __future__ import annotations

import datetime as dt

import attrs

from ..auth import mask
from ..ids import LocationId


def _masked(value: str | None) -> str:
    return "None" if value is None else repr(mask(value))


@attrs.frozen
class S3BucketWithAccessKeys:
    """A bucket name with the credentials Pixop uses to read or write it."""

    bucket: str
    access_key: str = attrs.field(repr=_masked)
    secret_access_key: str = attrs.field(repr=False)


@attrs.frozen
class S3Location:
    """A saved S3 bucket (input or output); the API returns its keys masked."""

    id: LocationId
    created_at: dt.datetime
    updated_at: dt.datetime
    name: str
    bucket: str
    access_key_hidden: str
    secret_access_key_hidden: str = attrs.field(repr=False)


@attrs.frozen
class S3InputLocation(S3Location):
    """A bucket videos can be imported from (``POST /v1/videos/in/s3/{id}``)."""


@attrs.frozen
class S3OutputLocation(S3Location):
    """A bucket videos can be exported to (``POST /v1/videos/{id}/out/s3/{id}``)."""


@attrs.frozen
class S3LocationPost:
    name: str
    bucket: str
    access_key: str = attrs.field(repr=_masked)
    secret_access_key: str = attrs.field(repr=False)


@attrs.frozen
class S3LocationPatch:
    """Fields to change; ``None`` fields are left as they are."""

    name: str | None = None
    bucket: str | None = None
    access_key: str | None = attrs.field(default=None, repr=_masked)
    secret_access_key: str | None = attrs.field(default=None, repr=False)

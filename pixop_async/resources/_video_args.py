"""Argument checks shared by the video, import, export and location resources."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .. import validation as v
from ..errors import InvalidRequestError
from ..ids import TeamId
from ..models.locations import S3BucketWithAccessKeys

VIDEO_NAME_MAX = 255
DESCRIPTION_MAX = 511
FILE_NAME_MAX = 255
OBJECT_KEY_MAX = 1024
LOCATION_NAME_MAX = 255
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


def video_name(value: Any, field: str = "name") -> str:
    return v.text(field, value, min_len=1, max_len=VIDEO_NAME_MAX)


def optional_video_name(value: Any, field: str = "name") -> str | None:
    return None if value is None else video_name(value, field)


def description(value: Any, field: str = "description") -> str | None:
    return v.optional_text(field, value, max_len=DESCRIPTION_MAX)


def file_name(value: Any) -> str | None:
    return v.optional_text("file_name", value, min_len=1, max_len=FILE_NAME_MAX)


def object_key(value: Any, field: str = "object_key") -> str:
    return v.text(field, value, min_len=1, max_len=OBJECT_KEY_MAX)


def object_key_prefix(value: Any) -> str:
    return v.text("object_key_prefix", value, min_len=0, max_len=OBJECT_KEY_MAX)


def bucket_name(value: Any, field: str = "bucket") -> str:
    """A DNS-compliant S3 bucket name of 3 to 63 characters."""
    name = v.text(field, value, min_len=3, max_len=63)
    if not _BUCKET.match(name) or ".." in name:
        raise InvalidRequestError(
            field,
            "must be a DNS-compliant bucket name (lowercase letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit)",
            value_repr=repr(name),
        )
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return name
    raise InvalidRequestError(
        field, "must not be formatted as an IP address", value_repr=repr(name)
    )


def credential(field: str, value: Any) -> str:
    """An access key or secret: a non-empty string (its value never appears in errors)."""
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(field, "must be a non-empty string")
    return value


def s3_bucket(value: Any, field: str = "s3_bucket") -> S3BucketWithAccessKeys:
    """Validate a bucket-with-credentials argument."""
    if not isinstance(value, S3BucketWithAccessKeys):
        raise InvalidRequestError(field, "must be an S3BucketWithAccessKeys")
    return S3BucketWithAccessKeys(
        bucket=bucket_name(value.bucket, f"{field}.bucket"),
        access_key=credential(f"{field}.access_key", value.access_key),
        secret_access_key=credential(f"{field}.secret_access_key", value.secret_access_key),
    )


def team_param(select_team_id: TeamId | str | None) -> dict[str, Any]:
    return {"selectTeamId": v.optional_uuid("select_team_id", select_team_id)}

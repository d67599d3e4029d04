"""``/v1/input-locations/s3`` and ``/v1/output-locations/s3``: saved buckets.

Stored records keep the owning team and the real credentials beside the masked API shape;
:func:`saved_bucket` and :func:`inline_bucket` give imports and exports what they need to
open the bucket.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import attrs
from aiohttp import web

from ..context import owned, selected_team, state_of, team_filter
from ..http import invalid, no_content, ok, paginate, path_uuid, read_json, require_text
from ..state import EmulatorState

NAME_MAX = 255
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
KINDS = ("input", "output")


@attrs.define
class LocationStore:
    records: dict[str, dict[str, dict[str, Any]]] = attrs.Factory(
        lambda: {kind: {} for kind in KINDS}
    )
    #: location id -> (access key, secret access key)
    secrets: dict[str, tuple[str, str]] = attrs.Factory(dict)


_STORES: weakref.WeakKeyDictionary[EmulatorState, LocationStore] = weakref.WeakKeyDictionary()


def store(state: EmulatorState) -> LocationStore:
    found = _STORES.get(state)
    if found is None:
        found = _STORES[state] = LocationStore()
    return found


def hidden(secret: str) -> str:
    return "*" * 17 + secret[-3:]


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "teamId"}


def saved_bucket(request: web.Request, kind: str, location_id: str) -> tuple[str, str, str]:
    """(bucket, access key, secret) of a saved ``kind`` location of the caller's teams (404
    otherwise)."""
    what = "S3 input location" if kind == "input" else "S3 output location"
    s = store(state_of(request))
    record = owned(request, s.records[kind], location_id, what)
    access_key, secret = s.secrets[location_id]
    return record["bucket"], access_key, secret


def bucket_field(body: dict[str, Any], field: str = "bucket") -> str:
    value = require_text(body, field, min_len=3, max_len=63)
    if not _BUCKET.match(value) or ".." in value:
        invalid(field, value, "must be a DNS-compliant bucket name")
    return value


def credential_field(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        invalid(field, None, "must not be blank")
    return value


def inline_bucket(body: dict[str, Any]) -> tuple[str, str, str]:
    """(bucket, access key, secret) of a request's ``s3Bucket`` object (imports and exports
    that carry their credentials instead of naming a saved location)."""
    s3 = body.get("s3Bucket")
    if not isinstance(s3, dict):
        invalid("s3Bucket", None, "must not be null")
    bucket = require_text(s3, "bucket", min_len=3, max_len=63)
    return bucket, credential_field(s3, "accessKey"), credential_field(s3, "secretAccessKey")


def _routes(kind: str) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/{kind}-locations/s3"
    what = "S3 input location" if kind == "input" else "S3 output location"

    async def create(request: web.Request) -> web.Response:
        state = state_of(request)
        body = await read_json(request)
        name = require_text(body, "name", min_len=1, max_len=NAME_MAX)
        bucket = bucket_field(body)
        access_key = credential_field(body, "accessKey")
        secret = credential_field(body, "secretAccessKey")
        team = selected_team(request)
        record = {
            **state.stamp(),
            "name": name,
            "bucket": bucket,
            "accessKeyHidden": hidden(access_key),
            "secretAccessKeyHidden": hidden(secret),
            "teamId": team["id"],
        }
        s = store(state)
        s.records[kind][record["id"]] = record
        s.secrets[record["id"]] = (access_key, secret)
        return ok(public(record), status=201)

    async def list_all(request: web.Request) -> web.Response:
        keep = team_filter(request)
        items = [r for r in store(state_of(request)).records[kind].values() if keep(r)]
        page = paginate(request, items)
        page["items"] = [public(r) for r in page["items"]]
        return ok(page)

    async def get_one(request: web.Request) -> web.Response:
        s = store(state_of(request))
        return ok(public(owned(request, s.records[kind], path_uuid(request, "id"), what)))

    async def patch(request: web.Request) -> web.Response:
        state = state_of(request)
        s = store(state)
        record = owned(request, s.records[kind], path_uuid(request, "id"), what)
        body = await read_json(request)
        access_key, secret = s.secrets[record["id"]]
        if body.get("name") is not None:
            record["name"] = require_text(body, "name", min_len=1, max_len=NAME_MAX)
        if body.get("bucket") is not None:
            record["bucket"] = bucket_field(body)
        if body.get("accessKey") is not None:
            access_key = credential_field(body, "accessKey")
        if body.get("secretAccessKey") is not None:
            secret = credential_field(body, "secretAccessKey")
        s.secrets[record["id"]] = (access_key, secret)
        record.update(accessKeyHidden=hidden(access_key), secretAccessKeyHidden=hidden(secret))
        state.touch(record)
        return ok(public(record))

    async def delete(request: web.Request) -> web.Response:
        s = store(state_of(request))
        record = owned(request, s.records[kind], path_uuid(request, "id"), what)
        del s.records[kind][record["id"]]
        s.secrets.pop(record["id"], None)
        return no_content()

    return [
        ("POST", base, create),
        ("GET", base, list_all),
        ("GET", base + "/{id}", get_one),
        ("PATCH", base + "/{id}", patch),
        ("DELETE", base + "/{id}", delete),
    ]


def setup(app: web.Application) -> None:
    for kind in KINDS:
        for method, path, handler in _routes(kind):
            app.router.add_route(method, path, handler)

"""Stand-in S3 buckets: directories under ``state.data_dir / "s3"``.

A bucket exists when its directory does; an object is a file at its key inside it. A bucket
may be given credentials (:func:`create_bucket`); then requests must present the same
access key and secret, otherwise any credentials are accepted. Tests and demos use
:func:`create_bucket`, :func:`put_object` and :func:`object_path` to arrange and inspect
buckets.
"""

from __future__ import annotations

import hmac
import weakref
from pathlib import Path, PurePosixPath

from .http import fail
from .state import EmulatorState

_CREDENTIALS: weakref.WeakKeyDictionary[EmulatorState, dict[str, tuple[str, str]]] = (
    weakref.WeakKeyDictionary()
)


def root(state: EmulatorState) -> Path:
    return state.data_dir / "s3"


def bucket_path(state: EmulatorState, bucket: str) -> Path:
    if not bucket or "/" in bucket or bucket in (".", ".."):
        fail(400, "INVALID_INPUT", "Invalid bucket name")
    return root(state) / bucket


def create_bucket(
    state: EmulatorState,
    bucket: str,
    *,
    access_key: str | None = None,
    secret_access_key: str | None = None,
) -> Path:
    """Create (or keep) a bucket; with credentials, only they open it."""
    path = bucket_path(state, bucket)
    path.mkdir(parents=True, exist_ok=True)
    creds = _CREDENTIALS.setdefault(state, {})
    if access_key is not None and secret_access_key is not None:
        creds[bucket] = (access_key, secret_access_key)
    else:
        creds.pop(bucket, None)
    return path


def safe_key(key: str) -> PurePosixPath:
    """An object key as a relative path that cannot leave its bucket."""
    pure = PurePosixPath(key)
    if not key or key.startswith("/") or any(part in ("..", ".") for part in pure.parts):
        fail(400, "INVALID_INPUT", "Object keys must be relative and must not contain '.' or '..'")
    return pure


def object_path(state: EmulatorState, bucket: str, key: str) -> Path:
    return bucket_path(state, bucket).joinpath(*safe_key(key).parts)


def put_object(state: EmulatorState, bucket: str, key: str, data: bytes) -> Path:
    """Store ``data`` at ``key`` (the bucket is created if needed)."""
    if not bucket_path(state, bucket).is_dir():
        create_bucket(state, bucket)
    path = object_path(state, bucket, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def open_bucket(state: EmulatorState, bucket: str, access_key: str, secret: str) -> Path:
    """The bucket's directory, after checking it exists (404 BUCKET_NOT_FOUND) and that the
    credentials open it (400 HEAD_BUCKET_ERROR)."""
    path = bucket_path(state, bucket)
    if not path.is_dir():
        fail(404, "BUCKET_NOT_FOUND", f"Bucket {bucket} does not exist")
    expected = _CREDENTIALS.get(state, {}).get(bucket)
    if expected is not None and not (
        hmac.compare_digest(expected[0], access_key) and hmac.compare_digest(expected[1], secret)
    ):
        fail(400, "HEAD_BUCKET_ERROR", f"Access to bucket {bucket} denied with these credentials")
    return path


def find_object(state: EmulatorState, bucket: str, key: str) -> Path:
    """An existing object's file (404 KEY_NOT_FOUND otherwise)."""
    path = object_path(state, bucket, key)
    if not path.is_file():
        fail(404, "KEY_NOT_FOUND", f"Object {key} does not exist in bucket {bucket}")
    return path

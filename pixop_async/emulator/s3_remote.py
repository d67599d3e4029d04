"""The emulator's S3 imports and exports against a real S3 endpoint (``config.s3_endpoint``).

Each call opens an aiobotocore client with the credentials the API request carried, so a
wrong key fails the way Pixop reports it. Imports stream the object to disk while hashing it
with CRC32C and compare the result with the object's full-object CRC32C when the store has
one: the bytes Pixop ingests are the bytes the uploader checksummed. Exports put the video
with its CRC32C, so a store that checks checksums refuses damaged bytes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import google_crc32c

from .fetcher import SourceError
from .http import fail
from .state import EmulatorState

CHUNK = 1024 * 1024


@attrs.frozen
class RemoteObject:
    """An object in the remote store, as an import needs it (credentials kept out of reprs)."""

    bucket: str
    key: str
    access_key: str = attrs.field(repr=False)
    secret: str = attrs.field(repr=False)
    size: int
    crc32c: int | None


def enabled(state: EmulatorState) -> bool:
    return state.config.s3_endpoint is not None


@contextlib.asynccontextmanager
async def _client(state: EmulatorState, access_key: str, secret: str) -> AsyncIterator[Any]:
    try:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session
    except ImportError:  # pragma: no cover - configured without the extra
        fail(500, "INTERNAL_SERVER_ERROR", "The emulator's S3 endpoint needs aiobotocore")
    config = AioConfig(
        retries={"max_attempts": 2, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path", "payload_signing_enabled": False},
    )
    async with get_session().create_client(
        "s3",
        endpoint_url=state.config.s3_endpoint,
        region_name=state.config.s3_region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=config,
    ) as client:
        yield client


def _code(exc: BaseException) -> tuple[str, int]:
    response: Any = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def _crc_of(text: Any) -> int | None:
    """A full-object ``x-amz-checksum-crc32c`` value; composite (``...-N``) values are not a
    CRC of the bytes and give ``None``."""
    if not isinstance(text, str) or "-" in text:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return int.from_bytes(raw, "big") if len(raw) == 4 else None


def _refuse(exc: BaseException, bucket: str, key: str | None) -> None:
    code, status = _code(exc)
    if code in ("NoSuchBucket",):
        fail(404, "BUCKET_NOT_FOUND", f"Bucket {bucket} does not exist")
    if key is not None and (code in ("NoSuchKey", "404") or status == 404):
        fail(404, "KEY_NOT_FOUND", f"Object {key} does not exist in bucket {bucket}")
    if status == 404:
        fail(404, "BUCKET_NOT_FOUND", f"Bucket {bucket} does not exist")
    fail(400, "HEAD_BUCKET_ERROR", f"Access to bucket {bucket} failed ({code or status})")


async def _open_bucket(client: Any, bucket: str) -> None:
    """API errors unless ``bucket`` exists and these credentials may use it."""
    try:
        await client.head_bucket(Bucket=bucket)
    except Exception as exc:
        _refuse(exc, bucket, None)


async def head(
    state: EmulatorState, bucket: str, key: str, access_key: str, secret: str
) -> RemoteObject:
    """The object's size and full-object CRC32C (API errors when it cannot be read)."""
    async with _client(state, access_key, secret) as client:
        await _open_bucket(client, bucket)
        try:
            answer = await client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except Exception as exc:
            _refuse(exc, bucket, key)
    crc = _crc_of(answer.get("ChecksumCRC32C"))
    if answer.get("ChecksumType") not in (None, "FULL_OBJECT"):
        crc = None
    return RemoteObject(bucket, key, access_key, secret, int(answer["ContentLength"]), crc)


async def fetch(
    state: EmulatorState, obj: RemoteObject, target: Path, on_progress: Callable[[int], None]
) -> int:
    """Copy ``obj`` to ``target``; returns the CRC32C of what was read. Raises
    :class:`SourceError` (``CHECKSUM_MISMATCH``) when it differs from the object's CRC32C."""
    target.parent.mkdir(parents=True, exist_ok=True)
    crc, done = 0, 0
    async with _client(state, obj.access_key, obj.secret) as client:
        try:
            answer = await client.get_object(Bucket=obj.bucket, Key=obj.key)
        except Exception as exc:
            code, _ = _code(exc)
            raise SourceError("KEY_NOT_FOUND", f"Reading the object failed ({code})") from None
        with target.open("wb") as out:
            # Read through the StreamingBody itself: what `async with` yields differs between
            # aiobotocore versions (the raw aiohttp response, whose read() takes no size, in 3.0).
            body = answer["Body"]
            async with body:
                while chunk := await body.read(CHUNK):
                    crc = int(google_crc32c.extend(crc, chunk))
                    await asyncio.to_thread(out.write, chunk)
                    done += len(chunk)
                    on_progress(done)
    if done != obj.size:
        raise SourceError("KEY_NOT_FOUND", "The object changed while it was being copied")
    if obj.crc32c is not None and crc != obj.crc32c:
        raise SourceError(
            "CHECKSUM_MISMATCH",
            f"The CRC32C of the copied data ({crc}) differs from the object's ({obj.crc32c})",
        )
    return crc


async def check_writable(
    state: EmulatorState, bucket: str, key: str, access_key: str, secret: str
) -> None:
    """API errors unless ``bucket`` opens with these credentials and ``key`` is free."""
    async with _client(state, access_key, secret) as client:
        await _open_bucket(client, bucket)
        try:
            await client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if _code(exc)[1] == 404:
                return
            _refuse(exc, bucket, key)
        fail(409, "OBJECT_ALREADY_EXISTS", f"Object {key} already exists in bucket {bucket}")


async def put(
    state: EmulatorState,
    bucket: str,
    key: str,
    access_key: str,
    secret: str,
    source: Path,
    crc: int,
) -> None:
    """Store ``source`` at ``key`` with its CRC32C (``OSError`` when the store refuses)."""
    encoded = base64.b64encode(crc.to_bytes(4, "big")).decode()
    async with _client(state, access_key, secret) as client:
        data = await asyncio.to_thread(source.read_bytes)
        try:
            await client.put_object(Bucket=bucket, Key=key, Body=data, ChecksumCRC32C=encoded)
        except Exception as exc:
            code, status = _code(exc)
            raise OSError(f"the store refused the object ({code or status})") from None

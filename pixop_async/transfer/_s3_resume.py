"""Resuming an S3 multipart upload from its journal.

The journal is only a hint: ListParts says what the store holds, and a stored part is kept
only when its CRC32C (the store's, or the journal's with a matching ETag) is the CRC32C of
the file's bytes now. A run killed after CompleteMultipartUpload is recognised by the
object at the key having the size and checksum the journal's parts make.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import TransferError
from . import s3_journal as sj
from ._s3_parts import hash_part
from .s3_client import error_code
from .s3_plan import UploadPlan, composite_checksum, decode_crc32c, encode_crc32c, whole_crc32c
from .s3_result import S3UploadedPart, S3UploadResult

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

    from ._s3_engine import S3Upload


async def adopt(upload: S3Upload, client: S3Client, old: sj.S3Journal) -> bool:
    """Continue ``old``'s upload: trust listed parts whose CRC32C matches the file now.
    ``False`` when the store no longer has that upload."""
    plan = UploadPlan(upload.plan.size, old.part_size)
    listed = await list_parts(upload, client, old.upload_id, plan.count)
    if listed is None:
        return False
    upload.plan = plan
    upload.journal = old
    for number, (size, etag, store_crc) in sorted(listed.items()):
        if not 1 <= number <= plan.count:
            continue
        spec = plan.part(number)
        if size != spec.length:
            continue
        with upload.activity.local_work():
            local = await hash_part(upload.scheduler.executor, upload.fd, spec)
        noted = old.parts.get(number)
        trusted = store_crc == local if store_crc is not None else noted == (etag, local)
        if trusted:
            upload.done[number] = S3UploadedPart(number, spec.offset, spec.length, etag, local)
            upload.resumed += 1
            await upload.progress.advance(spec.length)
    return True


async def finished_before(
    upload: S3Upload, client: S3Client, old: sj.S3Journal
) -> S3UploadResult | None:
    """The result of ``old``'s upload when a run completed it but died before removing its
    journal: the journal lists every part, the object at the key has the size and checksum
    those parts make, and the file's parts still have the journal's CRC32Cs."""
    plan = UploadPlan(upload.plan.size, old.part_size)
    if sorted(old.parts) != list(range(1, plan.count + 1)):
        return None
    crcs = [old.parts[n][1] for n in range(1, plan.count + 1)]
    crc = whole_crc32c([(c, spec.length) for c, spec in zip(crcs, plan.parts(), strict=True)])
    full = old.checksum_type == "FULL_OBJECT"
    found = await upload.stored_object(
        client, encode_crc32c(crc) if full else composite_checksum(crcs)
    )
    if found is None:
        return None
    parts = []
    for spec in plan.parts():
        etag, noted = old.parts[spec.number]
        with upload.activity.local_work():
            local = await hash_part(upload.scheduler.executor, upload.fd, spec)
        if local != noted:
            return None
        parts.append(S3UploadedPart(spec.number, spec.offset, spec.length, etag, local))
    stored_etag = found.get("ETag")
    return S3UploadResult(
        bucket=upload.bucket,
        key=upload.key,
        etag=stored_etag if isinstance(stored_etag, str) else "",
        size=upload.plan.size,
        crc32c=crc,
        checksum_type=old.checksum_type,
        parts=tuple(parts),
        parts_sent=0,
        parts_resumed=len(parts),
        elapsed=0.0,
    )


async def list_parts(
    upload: S3Upload, client: S3Client, upload_id: str, count: int
) -> dict[int, tuple[int, str, int | None]] | None:
    """``number -> (size, ETag, CRC32C or None)`` of the parts the store holds for an
    upload of ``count`` parts; ``None`` when the upload no longer exists."""
    found: dict[int, tuple[int, str, int | None]] = {}
    marker = 0
    for _ in range(count // 1000 + 20):
        try:  # with the retry policy: one 500 must not cost the whole resume
            page = await upload.call(
                client.list_parts,
                Bucket=upload.bucket,
                Key=upload.key,
                UploadId=upload_id,
                PartNumberMarker=marker,
            )
        except TransferError as exc:
            if error_code(exc.__cause__ or exc) in ("NoSuchUpload", "NoSuchKey", "404"):
                return None
            raise TransferError(f"listing the stored parts failed: {exc}") from None
        for item in page.get("Parts", []):
            number, size, etag = item.get("PartNumber"), item.get("Size"), item.get("ETag")
            if isinstance(number, int) and isinstance(size, int) and isinstance(etag, str):
                found[number] = (size, etag, decode_crc32c(item.get("ChecksumCRC32C")))
        next_marker = page.get("NextPartNumberMarker")
        if not page.get("IsTruncated") or not isinstance(next_marker, int):
            return found
        if next_marker <= marker:
            raise TransferError("the store's part listing does not advance")
        marker = next_marker
    raise TransferError("the store's part listing is longer than the upload")

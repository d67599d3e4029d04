"""What an S3 multipart upload stored (returned by :func:`~.s3_upload.upload_to_s3`)."""

from __future__ import annotations

import attrs

from .s3_plan import encode_crc32c


@attrs.frozen
class S3UploadedPart:
    """One part of the object: its number, where it lies in the file, its ETag and CRC32C."""

    number: int
    offset: int
    size: int
    etag: str
    crc32c: int


@attrs.frozen
class S3UploadResult:
    """What an upload stored: ``crc32c`` is the whole object's CRC32C (combined from the
    parts), ``checksum_type`` ``FULL_OBJECT`` or ``COMPOSITE``. ``parts_sent`` counts parts
    sent by this run, ``parts_resumed`` those a previous run had stored."""

    bucket: str
    key: str
    etag: str
    size: int
    crc32c: int
    checksum_type: str
    parts: tuple[S3UploadedPart, ...] = attrs.field(repr=lambda p: f"<{len(p)} parts>")
    parts_sent: int
    parts_resumed: int
    elapsed: float

    @property
    def crc32c_base64(self) -> str:
        """The CRC32C as S3 writes it (``x-amz-checksum-crc32c``)."""
        return encode_crc32c(self.crc32c)

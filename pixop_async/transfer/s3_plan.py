"""Pure protocol decisions of S3 multipart uploads: part sizing and checksum encodings.

S3's rules: every part but the last is at least 5 MiB, no part exceeds 5 GiB, an upload
has at most 10,000 parts. Part sizes here are whole MiB so a plan is easy to read back from a
journal. Checksums travel base64-encoded, big-endian (``x-amz-checksum-crc32c``); a
*composite* checksum (stores without full-object CRCs) is the CRC32C of the concatenated
binary part checksums, suffixed with ``-<part count>``.
"""

from __future__ import annotations

import base64
import binascii
import re

import attrs

from ..errors import InvalidRequestError
from .checksum import crc32c, crc32c_combine_all

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * 1024 * MiB
MAX_PARTS = 10_000
DEFAULT_PART_SIZE = 8 * MiB
MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE
MAX_KEY_LENGTH = 1024
CRC32C_MAX = 2**32 - 1
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}\Z")


class S3PlanError(InvalidRequestError):
    """An upload that S3's multipart rules do not allow (names the field and the rule)."""


@attrs.frozen
class PartSpec:
    """One part of a plan: 1-based ``number``, byte ``offset`` in the file and ``length``."""

    number: int
    offset: int
    length: int


@attrs.frozen
class UploadPlan:
    """How a file of ``size`` bytes is cut into parts of ``part_size`` (the last may be shorter)."""

    size: int
    part_size: int

    @property
    def count(self) -> int:
        """Number of parts; an empty file still has one (empty) part."""
        return max(1, -(-self.size // self.part_size))

    def part(self, number: int) -> PartSpec:
        if not 1 <= number <= self.count:
            raise S3PlanError("part_number", f"must be within 1..{self.count}, got {number}")
        offset = (number - 1) * self.part_size
        return PartSpec(number, offset, min(self.part_size, self.size - offset))

    def parts(self) -> list[PartSpec]:
        return [self.part(n) for n in range(1, self.count + 1)]


def choose_part_size(size: int, requested: int | None = None) -> int:
    """The part size for a file of ``size`` bytes: ``requested`` when it obeys S3's rules,
    otherwise 8 MiB, grown (in whole MiB) just enough to stay within 10,000 parts."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise S3PlanError("size", "must be an integer >= 0")
    if size > MAX_OBJECT_SIZE:
        raise S3PlanError(
            "size", f"must be at most {MAX_OBJECT_SIZE} bytes (10,000 parts of 5 GiB)"
        )
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int):
            raise S3PlanError("part_size", "must be an integer")
        if not MIN_PART_SIZE <= requested <= MAX_PART_SIZE:
            raise S3PlanError(
                "part_size", f"must be within {MIN_PART_SIZE}..{MAX_PART_SIZE} bytes (5 MiB..5 GiB)"
            )
        if -(-size // requested) > MAX_PARTS:
            raise S3PlanError(
                "part_size", f"{requested} cuts {size} bytes into more than {MAX_PARTS} parts"
            )
        return requested
    needed = -(-size // MAX_PARTS)
    return max(DEFAULT_PART_SIZE, -(-needed // MiB) * MiB)


def plan_upload(size: int, requested: int | None = None) -> UploadPlan:
    return UploadPlan(size, choose_part_size(size, requested))


def check_bucket(bucket: object) -> str:
    if not isinstance(bucket, str) or not _BUCKET.match(bucket):
        raise S3PlanError(
            "bucket",
            "must be 2..255 characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    return bucket


def check_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise S3PlanError("object_key", f"must be a string of 1..{MAX_KEY_LENGTH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise S3PlanError("object_key", "must not contain control characters")
    return key


def encode_crc32c(value: int) -> str:
    """A CRC32C as S3 writes it: base64 of its four big-endian bytes."""
    if not 0 <= value <= CRC32C_MAX:
        raise S3PlanError("crc32c", f"must be within 0..{CRC32C_MAX}")
    return base64.b64encode(value.to_bytes(4, "big")).decode("ascii")


def decode_crc32c(text: object) -> int | None:
    """The CRC32C in an S3 checksum string; ``None`` unless it is exactly 4 bytes of base64
    (a composite ``...-N`` value is not a CRC of the bytes and is refused here too)."""
    if not isinstance(text, str) or len(text) != 8:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return int.from_bytes(raw, "big") if len(raw) == 4 else None


def composite_checksum(part_crcs: list[int]) -> str:
    """S3's composite (checksum-of-checksums) value for parts with these CRC32Cs."""
    joined = b"".join(c.to_bytes(4, "big") for c in part_crcs)
    return f"{encode_crc32c(crc32c(joined))}-{len(part_crcs)}"


def whole_crc32c(parts: list[tuple[int, int]]) -> int:
    """The CRC32C of the whole object from ``(crc, length)`` of its parts, in order."""
    return crc32c_combine_all(parts)

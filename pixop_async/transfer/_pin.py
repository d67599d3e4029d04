"""What a download trusts about an answer (pure): its validator and its encoding.

A download made of several requests must prove every answer comes from the same version
of the object. A strong ``ETag`` is the best proof (``If-Match`` / ``If-Range``); without
one a valid ``Last-Modified`` date pins the version (``If-Unmodified-Since`` /
``If-Range: <date>``, and the date is compared on every answer); with neither nothing can
be proven, so such a download is one stream from the first byte: no parallel ranges and
no resume.

Bodies must arrive as stored. The engine asks for ``Accept-Encoding: identity`` and
refuses an encoded body instead of decoding it: the CRC32C and size the API publishes are
those of the stored bytes, a range of a compressed stream is not a range of the object,
and decoding would let a server choose how much memory and disk one answer costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import attrs

from ..errors import EncodedBodyError

__all__ = [
    "EncodedBodyError",
    "Validator",
    "check_encoding",
    "validator_from_key",
    "validator_of",
]

ETAG = "etag"
LAST_MODIFIED = "last-modified"


@attrs.frozen
class Validator:
    """How the object version of a download is pinned: ``kind`` and the header value.

    ``weak`` is a weak ETag seen beside a date pin: too weak to pin ranges with, but a
    version replaced within the same second (same ``Last-Modified``) usually changes it,
    so every answer showing an ETag must show this one.
    """

    kind: str
    value: str
    weak: str | None = None

    @property
    def key(self) -> str:
        """The form kept in a journal."""
        base = f"{self.kind}:{self.value}"
        return base if self.weak is None else f"{base} {self.weak}"

    def pin_headers(self) -> dict[str, str]:
        """Headers that make a range request fail (or answer 200) for another version."""
        if self.kind == ETAG:
            return {"If-Range": self.value, "If-Match": self.value}
        return {"If-Range": self.value, "If-Unmodified-Since": self.value}

    def same_version(self, headers: Mapping[str, str]) -> bool:
        """Whether an answer's headers are compatible with the pinned version.

        An ETag-pinned answer must carry the very same ETag (RFC 9110 makes a 206 repeat
        the ETag a 200 would carry; a store that ignores ``If-Match`` and drops the ETag
        could otherwise slip in another version); a date-pinned answer must carry the very
        same ``Last-Modified`` and no ETag other than the weak one seen first.
        """
        etag = headers.get("ETag")
        if self.kind == ETAG:
            return etag == self.value
        if self.weak is not None and etag and etag != self.weak:
            return False
        return headers.get("Last-Modified") == self.value


def _valid_date(value: str) -> bool:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    return parsed is not None and parsed.year >= 1970


def validator_of(headers: Mapping[str, str]) -> Validator | None:
    """The strongest validator an answer offers: a strong ETag, else a valid date."""
    etag = (headers.get("ETag") or "").strip()
    if etag and not etag.startswith("W/") and etag.isprintable():
        return Validator(ETAG, etag)
    modified = (headers.get("Last-Modified") or "").strip()
    if modified and modified.isprintable() and _valid_date(modified):
        weak = etag if etag and etag.isprintable() else None
        return Validator(LAST_MODIFIED, modified, weak)
    return None


def validator_from_key(key: str | None) -> Validator | None:
    """The validator a journal's ``key`` names (see :attr:`Validator.key`), or None when
    the key is not one :func:`validator_of` could have made (a journal is hostile)."""
    if not key or not key.isprintable():
        return None
    kind, _, rest = key.partition(":")
    if kind == ETAG:
        found = validator_of({"ETag": rest})
    elif kind == LAST_MODIFIED:
        date, sep, weak = rest.partition(" W/")
        headers = {"Last-Modified": date}
        if sep:
            headers["ETag"] = "W/" + weak
        found = validator_of(headers)
    else:
        return None
    return found if found is not None and found.key == key else None


def check_encoding(headers: Mapping[str, str]) -> None:
    """Refuse a body that is not sent as stored (see the module notes)."""
    getall = getattr(headers, "getall", None)
    raw = getall("Content-Encoding", []) if getall else [headers.get("Content-Encoding") or ""]
    values = [v.strip().lower() for item in raw for v in str(item).split(",") if v.strip()]
    if any(v != "identity" for v in values):
        raise EncodedBodyError(
            f"the server sent a body with Content-Encoding {', '.join(values)[:60]!r}, "
            "not the stored bytes; nothing was saved"
        )


def plain_request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with any caller-given Accept-Encoding replaced by ``identity``."""
    plain = {k: v for k, v in headers.items() if k.lower() != "accept-encoding"}
    plain["Accept-Encoding"] = "identity"
    return plain

"""What a published download remembers about itself, so a rerun can skip it.

A file the engine publishes carries an extended attribute (``user.pixop.download``) with
the ETag the server gave, the size and the CRC32C of the bytes, and the hash of the
download's identity (the URL, or the ``identity`` given): an ETag is only compared again
for the same object. A later download to the
same path sends that ETag in ``If-None-Match``; on a 304 the file is still hashed and must
match the record (and the caller's expected CRC32C and size), because the attribute only
proposes: the bytes decide. Where the file system keeps no extended attributes nothing is
recorded and a rerun simply downloads again. Blocking functions; callers run them in a
thread.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat

import attrs

log = logging.getLogger("pixop_async.transfer")

ATTRIBUTE = "user.pixop.download"
#: Longest ETag recorded (and largest attribute read back).
MAX_ETAG = 512
_MAX_RAW = MAX_ETAG + 256
#: How a record names the object it was downloaded from (:func:`~.journal.identity_hash`).
_SOURCE = re.compile(r"blake2b:[0-9a-f]{64}")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@attrs.frozen
class Record:
    """The server's ETag, size and CRC32C of a published file's bytes."""

    etag: str
    size: int
    crc32c: int
    #: the object's identity hash: an ETag only means something for the resource that
    #: gave it (two objects' version counters may well both be ``"1"``)
    source: str

    def encode(self) -> bytes:
        return json.dumps(
            {"etag": self.etag, "size": self.size, "crc32c": self.crc32c, "source": self.source}
        ).encode()


#: One strong entity-tag (RFC 9110 8.8.3): a quoted string of visible ASCII but ``"``.
_STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e]*"')


def usable_etag(etag: str | None) -> str | None:
    """``etag`` when it is worth recording: one strong entity-tag of at most ``MAX_ETAG``
    characters, else None. A weak tag (``W/"..."``) only says two versions are
    equivalent, not that their bytes are the same, so a 304 to it cannot vouch for a
    file; a value outside the grammar (``"a", *``) would turn ``If-None-Match`` into a
    list or a wildcard that matches any version."""
    if not etag or len(etag) > MAX_ETAG or _STRONG_ETAG.fullmatch(etag) is None:
        return None
    return etag


def decode(raw: bytes) -> Record | None:
    """A record from the attribute's bytes when every field has its type and range."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    etag, size, crc = data.get("etag"), data.get("size"), data.get("crc32c")
    if not isinstance(etag, str) or usable_etag(etag) is None:
        return None
    if type(size) is not int or size < 0 or type(crc) is not int or not 0 <= crc <= 0xFFFFFFFF:
        return None
    source = data.get("source")
    if not isinstance(source, str) or _SOURCE.fullmatch(source) is None:
        return None
    return Record(etag, size, crc, source)


def write(fd: int, record: Record) -> None:
    """Attach ``record`` to the open file ``fd``, best effort: a record only ever saves a
    rerun some work, so a file system that refuses it (no user attributes, a quota with
    room for the data but not for an attribute block, a network file system's EACCES)
    costs the file its record, never its download. The data's own write and fsync report
    real disk errors."""
    setxattr = getattr(os, "setxattr", None)
    if setxattr is None:  # pragma: no cover - not Linux
        return
    try:
        setxattr(fd, ATTRIBUTE, record.encode())
    except OSError as exc:
        log.debug("no download record kept (%s)", exc.strerror)


def read(name: str, dir_fd: int) -> tuple[os.stat_result, Record | None] | None:
    """The regular file ``name`` in ``dir_fd`` (a link is not followed) and its record
    (only on a file of ours); None when there is no such regular file."""
    try:
        fd = os.open(name, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_uid != os.geteuid():  # someone else's file: its record is not ours
            return info, None
        getxattr = getattr(os, "getxattr", None)
        if getxattr is None:  # pragma: no cover - not Linux
            return info, None
        try:
            raw = getxattr(fd, ATTRIBUTE)
        except OSError:
            return info, None
        return info, decode(raw) if len(raw) <= _MAX_RAW else None
    finally:
        os.close(fd)

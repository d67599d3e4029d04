"""Resume journal of an S3 multipart upload.

It records the upload id, the plan (part size, source size and mtime) and the parts sent
with their ETags and CRC32Cs: enough for a rerun to ask the store which parts it holds and
send only the rest. It holds no credentials. It is a hint, never proof: a rerun trusts a part
only when the store lists it and its CRC32C matches the bytes on disk now.

The file is created with mode 0600, exclusively, without following symlinks, and replaced
atomically; on load every field is checked, and a journal that fails a check is discarded
with a warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

import attrs

from ..errors import TransferError
from .s3_plan import CRC32C_MAX, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE

log = logging.getLogger(__name__)

VERSION = 1
MAX_JOURNAL_BYTES = 4 * 1024 * 1024
_ETAG = re.compile(r'^[\x21-\x7e]{1,256}\Z')
_UPLOAD_ID = re.compile(r"^[\x21-\x7e]{1,1024}\Z")


@attrs.define
class S3Journal:
    """What a rerun needs to continue an upload (see the module docstring)."""

    store: str
    bucket: str
    key: str
    upload_id: str = attrs.field(repr=False)
    part_size: int
    source_size: int
    source_mtime_ns: int
    checksum_type: str
    #: part number -> (ETag, CRC32C)
    parts: dict[int, tuple[str, int]] = attrs.field(factory=dict)

    def matches(self, store: str, bucket: str, key: str, size: int, mtime_ns: int) -> bool:
        """Whether this journal is about the same destination and the same source version."""
        return (self.store, self.bucket, self.key, self.source_size, self.source_mtime_ns) == (
            store,
            bucket,
            key,
            size,
            mtime_ns,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "store": self.store,
            "bucket": self.bucket,
            "key": self.key,
            "uploadId": self.upload_id,
            "partSize": self.part_size,
            "sourceSize": self.source_size,
            "sourceMtimeNs": self.source_mtime_ns,
            "checksumType": self.checksum_type,
            "parts": {str(n): [etag, crc] for n, (etag, crc) in sorted(self.parts.items())},
        }


def _int(data: dict[str, Any], name: str, low: int, high: int) -> int:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} out of range")
    return value


def _str(data: dict[str, Any], name: str, limit: int = 2048) -> str:
    value = data[name]
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise ValueError(f"{name} is not a short string")
    return value


def parse(data: Any) -> S3Journal:
    """A journal from its JSON form; ``ValueError`` naming the first field that is wrong."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("unknown journal format")
    try:
        part_size = _int(data, "partSize", MIN_PART_SIZE, MAX_PART_SIZE)
        size = _int(data, "sourceSize", 0, MAX_PARTS * MAX_PART_SIZE)
        count = max(1, -(-size // part_size))
        if count > MAX_PARTS:
            raise ValueError("too many parts")
        upload_id = _str(data, "uploadId")
        if not _UPLOAD_ID.match(upload_id):
            raise ValueError("uploadId has unexpected characters")
        checksum_type = _str(data, "checksumType")
        if checksum_type not in ("FULL_OBJECT", "COMPOSITE"):
            raise ValueError("checksumType is unknown")
        raw_parts = data["parts"]
        if not isinstance(raw_parts, dict):
            raise ValueError("parts is not an object")
        parts: dict[int, tuple[str, int]] = {}
        for name, entry in raw_parts.items():
            if not (isinstance(name, str) and name.isdigit() and 1 <= int(name) <= count):
                raise ValueError("a part number is out of range")
            if not (isinstance(entry, list) and len(entry) == 2):
                raise ValueError("a part entry is malformed")
            etag, crc = entry
            if not (isinstance(etag, str) and _ETAG.match(etag)):
                raise ValueError("a part ETag is malformed")
            if isinstance(crc, bool) or not isinstance(crc, int) or not 0 <= crc <= CRC32C_MAX:
                raise ValueError("a part CRC32C is out of range")
            parts[int(name)] = (etag, crc)
        return S3Journal(
            store=_str(data, "store"),
            bucket=_str(data, "bucket", 255),
            key=_str(data, "key", 1024),
            upload_id=upload_id,
            part_size=part_size,
            source_size=size,
            source_mtime_ns=_int(data, "sourceMtimeNs", 0, 2**63 - 1),
            checksum_type=checksum_type,
            parts=parts,
        )
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]} is missing") from None


def journal_path(
    source: Path, store: str, bucket: str, key: str, state_dir: Path | None = None
) -> Path:
    """Where the journal of uploading ``source`` to ``bucket``/``key`` lives: beside the
    source (hidden), or in ``state_dir``. The name is tied to the destination, so uploads
    of one file to several places keep separate journals."""
    where = f"{store}\n{bucket}\n{key}\n{source.resolve()}".encode()
    digest = hashlib.sha256(where).hexdigest()[:16]
    if state_dir is not None:
        return state_dir / f"{digest}.s3upload.json"
    return source.with_name(f".{source.name}.{digest}.s3upload.json")


def fallback_dir(source: Path) -> Path | None:
    """``None`` when the journal can live beside ``source``; otherwise (a read-only source
    directory) a private directory under the user's cache, created with mode 0700."""
    if os.access(source.parent, os.W_OK):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    where = base / "pixop-async" / "s3-uploads"
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(where)
    if not stat.S_ISDIR(info.st_mode) or (
        hasattr(os, "geteuid") and info.st_uid != os.geteuid()
    ):
        raise TransferError(f"{where} is not a directory of this user; pass state_dir=")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(where, 0o700)  # journals of this user's uploads are nobody else's business
    return where


def load(path: Path) -> S3Journal | None:
    """The journal at ``path``; ``None`` when there is none. A journal that is not a regular
    file, is a symlink, is too large or fails validation is removed with a warning."""
    try:
        # O_NONBLOCK: a FIFO planted here must not block the open (the fstat refuses it)
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("ignoring S3 upload journal %s: cannot open it (%s)", path, exc.strerror)
        _discard(path)
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_JOURNAL_BYTES:
            raise ValueError("not a regular file of a sensible size")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise ValueError("it belongs to another user")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_JOURNAL_BYTES + 1)
        return parse(json.loads(raw))
    except (ValueError, OSError, RecursionError) as exc:
        log.warning("discarding S3 upload journal %s: %s", path, exc)
        _discard(path)
        return None
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_symlink() or path.is_file():
            path.unlink()


def encode(journal: S3Journal) -> bytes:
    return json.dumps(journal.to_json(), separators=(",", ":")).encode()


def write(path: Path, payload: bytes, *, fsync: bool = True) -> None:
    """Atomically replace the journal at ``path`` (blocking; run it in a thread).

    The temp file has a random name and is opened with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and
    mode 0600, so neither a planted file nor a symlink can redirect the write."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


class UploadBusyError(TransferError):
    """Another process (or task) is uploading the same file to the same place right now."""


def lock(path: Path) -> int:
    """Take the lock of the upload whose journal is ``path`` (blocking call, never waits).

    Two runs adopting one journal would send the same parts into one upload, and the first
    to complete would make the other fail with whatever the store says about a finished
    upload (and leave a journal of it behind). The lock is ``flock`` on ``<journal>.lock``,
    created 0600 without following symlinks; :func:`unlock` removes it while still holding
    it, so a run that opened the old file sees another inode at the path and tries again."""
    lock_path = path.with_name(path.name + ".lock")
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(20):
        try:
            fd = os.open(lock_path, flags, 0o600)
        except OSError as exc:
            raise TransferError(
                f"cannot create the upload lock {lock_path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UploadBusyError(
                f"another upload of this file to the same object is running (lock {lock_path})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.lstat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed the file between our open and our lock
    raise UploadBusyError(f"could not take the upload lock {lock_path}")


def unlock(path: Path, fd: int) -> None:
    """Release :func:`lock` (removes the lock file first, then drops the lock)."""
    with contextlib.suppress(OSError):
        os.unlink(path.with_name(path.name + ".lock"))
    os.close(fd)

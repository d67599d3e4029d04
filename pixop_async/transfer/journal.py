"""Resume journal: what a download has finished, kept beside its temp file.

Like aria2's control file, the journal names the object (a hash of its identity, size and
validator), the part layout and each finished part with its CRC32C. It only ever saves
work: on resume every CRC it lists is recomputed from the temp file and a part whose bytes
disagree is fetched again, so a journal can never vouch for bytes that are not on disk.

It is rewritten atomically (an exclusively created ``.tmp`` + ``os.replace``), mode 0600,
never through a symbolic link, and holds no URL: a pre-signed URL's query is a credential,
so only a BLAKE2b hash of the identity is stored. Whatever is read back is checked field by
field (:meth:`Journal.from_json`) and against the current plan (:meth:`Journal.problem`);
a journal failing either is discarded with a warning and the download starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import attrs

from .plan import MAX_PARTS

log = logging.getLogger("pixop_async.transfer")

VERSION = 2
MAX_CRC = 0xFFFFFFFF
#: Largest journal file read back (10,000 parts with CRCs fit in well under this).
MAX_JOURNAL_BYTES = 4 * 1024 * 1024
_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
#: O_NONBLOCK: opening a FIFO planted in its place must not wait for a writer (the read
#: runs in a thread the download waits for, even when cancelled); harmless on a file.
_OPEN_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def identity_hash(identity: str) -> str:
    """What the journal stores to name the object: never the URL or its credentials."""
    digest = hashlib.blake2b(identity.encode("utf-8", "surrogatepass"), digest_size=32)
    return "blake2b:" + digest.hexdigest()


def _int(value: Any, minimum: int = 0, maximum: int | None = None) -> int:
    """``value`` when it is a genuine int in range (bools, floats and strings are refused)."""
    if type(value) is not int or value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"bad journal value {value!r}")
    return value


def _index(key: Any) -> int:
    if not isinstance(key, str) or not key.isdigit() or len(key) > 9:
        raise ValueError(f"bad part index {key!r}")
    return int(key)


@attrs.define
class Journal:
    """Resume state of one download (``etag`` holds the pinning validator's key)."""

    identity: str
    size: int
    etag: str | None
    part_size: int
    first_len: int | None
    done: dict[int, int] = attrs.field(factory=dict)  # part index -> CRC32C
    #: unfinished parts: index -> (bytes from the part start already in the file, their CRC32C)
    partial: dict[int, tuple[int, int]] = attrs.field(factory=dict)

    def matches(self, identity: str, size: int, etag: str | None) -> bool:
        """Whether this journal describes the same object version."""
        return (
            self.identity == identity
            and self.size == size
            and self.etag is not None
            and self.etag == etag
        )

    def problem(self, part_count: int, part_lengths: list[int]) -> str | None:
        """Why this journal cannot describe the plan of ``part_lengths`` (None: it can)."""
        if self.part_size < 1 or part_count > MAX_PARTS * 2:
            return "its part layout is out of bounds"
        for index, crc in self.done.items():
            if index >= part_count or not 0 <= crc <= MAX_CRC:
                return f"it lists part {index}, which does not exist"
        for index, (written, crc) in self.partial.items():
            if index >= part_count or index in self.done:
                return f"it lists part {index} as unfinished, which does not fit"
            if not 0 < written < part_lengths[index] or not 0 <= crc <= MAX_CRC:
                return f"part {index}'s progress is out of range"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "identity": self.identity,
            "size": self.size,
            "etag": self.etag,
            "partSize": self.part_size,
            "firstLen": self.first_len,
            "done": {str(k): v for k, v in sorted(self.done.items())},
            "partial": {str(k): [w, c] for k, (w, c) in sorted(self.partial.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> Journal | None:
        """A journal from parsed JSON when every field has its type and range, else None."""
        try:
            if not isinstance(data, dict) or data.get("version") != VERSION:
                return None
            identity, etag = data["identity"], data["etag"]
            if not isinstance(identity, str) or not (etag is None or isinstance(etag, str)):
                return None
            first = data.get("firstLen")
            done_raw, partial_raw = data["done"], data.get("partial", {})
            if not isinstance(done_raw, dict) or not isinstance(partial_raw, dict):
                return None
            partial: dict[int, tuple[int, int]] = {}
            for key, value in partial_raw.items():
                if not isinstance(value, list) or len(value) != 2:
                    return None
                partial[_index(key)] = (_int(value[0], 1), _int(value[1], 0, MAX_CRC))
            return cls(
                identity=identity,
                size=_int(data["size"]),
                etag=etag,
                part_size=_int(data["partSize"], 1),
                first_len=None if first is None else _int(first, 1),
                done={_index(k): _int(v, 0, MAX_CRC) for k, v in done_raw.items()},
                partial=partial,
            )
        except (KeyError, TypeError, ValueError):
            return None


def journal_path(temp_path: Path) -> Path:
    return temp_path.with_name(temp_path.name + ".journal")


def at(path: Path, dir_fd: int | None) -> str | Path:
    """How to name ``path`` to the ``os`` functions: relative to ``dir_fd`` when given."""
    return path if dir_fd is None else path.name


def _read_own_file(path: Path, dir_fd: int | None) -> bytes | None:
    """The bytes of ``path`` when it is a regular file of ours (no link followed), else None."""
    try:
        fd = os.open(at(path, dir_fd), _OPEN_READ, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.geteuid()
            or info.st_size > MAX_JOURNAL_BYTES
        ):
            log.warning("ignoring the resume journal %s: not a regular file of ours", path.name)
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(MAX_JOURNAL_BYTES + 1)
    finally:
        os.close(fd)


def load(path: Path, dir_fd: int | None = None) -> Journal | None:
    """Read a journal; None when missing, unreadable, malformed or of another version.

    A file that is there but unusable is reported with a warning (the download then starts
    afresh and overwrites it).
    """
    raw = _read_own_file(path, dir_fd)
    if raw is None:
        return None
    try:
        journal = Journal.from_json(json.loads(raw))
    except (ValueError, RecursionError):
        journal = None
    if journal is None:
        log.warning("discarding the resume journal %s: malformed or of another version", path.name)
    return journal


def encode(journal: Journal) -> bytes:
    """The journal's on-disk form (take it on the event loop, write it in a thread)."""
    return json.dumps(journal.to_json(), separators=(",", ":")).encode()


def write(path: Path, payload: bytes, dir_fd: int | None = None) -> None:
    """Atomically replace the journal at ``path`` with ``payload`` (blocking).

    The ``.tmp`` copy is created exclusively, 0600, without following a link planted in its
    place (a stale one is removed first: unlinking a link never touches its target).
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(at(tmp, dir_fd), _OPEN_NEW, 0o600, dir_fd=dir_fd)
    except FileExistsError:  # a stale copy, or a link someone planted: never written through
        with contextlib.suppress(FileNotFoundError):
            os.unlink(at(tmp, dir_fd), dir_fd=dir_fd)
        fd = os.open(at(tmp, dir_fd), _OPEN_NEW, 0o600, dir_fd=dir_fd)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:  # a full disk, say: no half-written copy is left behind
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(at(tmp, dir_fd), dir_fd=dir_fd)
        raise
    os.close(fd)
    os.replace(at(tmp, dir_fd), at(path, dir_fd), src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def remove(path: Path, dir_fd: int | None = None) -> None:
    """Delete a journal (and a stray temp copy of it) if present, best effort: what cannot
    be removed (a directory someone planted there, say) is left alone. This runs after a
    file is published, where an error would falsely report that nothing was; a journal
    left behind is harmless, being checked before any use."""
    for candidate in (path, path.with_name(path.name + ".tmp")):
        try:
            os.unlink(at(candidate, dir_fd), dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.debug("left %s in place: %s", candidate.name, exc.strerror)

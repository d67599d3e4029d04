"""Resume journal: what a download has finished, kept beside its temp file.

Like aria2's control file, the journal names the object (identity, size, ETag), the part
layout and each finished part with its CRC32C. It is rewritten atomically (temp file +
``os.replace``) after a part's bytes are written, so a process killed at any moment leaves
either the old or the new journal, and both only list parts whose bytes are in the file.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import attrs

VERSION = 1


@attrs.define
class Journal:
    """Resume state of one download."""

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
        try:
            if data.get("version") != VERSION:
                return None
            done = {int(k): int(v) for k, v in data["done"].items()}
            partial = {int(k): (int(v[0]), int(v[1])) for k, v in data.get("partial", {}).items()}
            first = data.get("firstLen")
            return cls(
                identity=str(data["identity"]),
                size=int(data["size"]),
                etag=None if data["etag"] is None else str(data["etag"]),
                part_size=int(data["partSize"]),
                first_len=None if first is None else int(first),
                done=done,
                partial=partial,
            )
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            return None


def journal_path(temp_path: Path) -> Path:
    return temp_path.with_name(temp_path.name + ".journal")


def load(path: Path) -> Journal | None:
    """Read a journal; None when missing, unreadable or from another format version."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        return Journal.from_json(json.loads(raw))
    except ValueError:
        return None


def encode(journal: Journal) -> bytes:
    """The journal's on-disk form (take it on the event loop, write it in a thread)."""
    return json.dumps(journal.to_json(), separators=(",", ":")).encode()


def write(path: Path, payload: bytes) -> None:
    """Atomically replace the journal at ``path`` with ``payload`` (blocking)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(payload)
    os.replace(tmp, path)


def remove(path: Path) -> None:
    """Delete a journal (and a stray temp copy of it) if present."""
    for candidate in (path, path.with_name(path.name + ".tmp")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()

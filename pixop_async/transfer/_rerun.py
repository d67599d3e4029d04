"""Reruns: is the file already at the destination the one wanted? (blocking, in a thread)

Before the first request of a download to a file path, the path is claimed and whatever
regular file is there is looked at:

- it carries the record of an earlier download (:mod:`._record`): the request asks the
  server ``If-None-Match: <recorded ETag>``; a 304 then costs no body, and the file is
  hashed and must match the record (and the caller's expected CRC32C and size) before it
  is reported as skipped. Anything else is downloaded again;
- it has no record but the caller knows its CRC32C (the API's): when the file has that
  CRC32C (and the expected size) it is skipped without any request;
- otherwise it is downloaded again and replaced.

A name alone is never trusted: a skipped file has always just been hashed.
"""

from __future__ import annotations

import os

import attrs

from . import _record
from ._target import Target, is_directory, resolve_target


@attrs.frozen
class Expectation:
    """What the caller knows of the wanted bytes."""

    crc32c: int | None
    size: int | None
    verify: bool = True  # hash files before skipping them (``TransferConfig.verify_existing``)

    def accepts(self, size: int, crc: int | None) -> bool:
        """Whether bytes of ``size`` and ``crc`` (None: not hashed yet) may be the wanted ones."""
        if self.size is not None and size != self.size:
            return False
        return crc is None or self.crc32c is None or crc == self.crc32c


@attrs.frozen
class LocalState:
    """The claimed target of a file destination and what is there already.

    ``record`` is the record to ask the server about (None: no conditional request);
    ``verified`` holds ``(size, crc32c)`` when the file is already known to be the one
    wanted (skip without any request).
    """

    target: Target
    record: _record.Record | None = None
    verified: tuple[int, int] | None = None


def inspect_destination(
    dest: str | os.PathLike[str], claimed: list[Target], expect: Expectation | None
) -> LocalState | None:
    """Claim a file destination and look at what it holds (None: ``dest`` is a directory,
    whose file name is only known from the answer). ``expect`` None: do not look."""
    if is_directory(dest):
        return None
    target = resolve_target(dest, {}, "", None, claimed, None)
    if expect is None:
        return LocalState(target)
    found = _record.read(target.final.name, target._dir)
    if found is None:
        return LocalState(target)
    info, record = found
    if (
        record is not None
        and record.size == info.st_size
        and expect.accepts(record.size, record.crc32c)
    ):
        return LocalState(target, record=record)
    if expect.crc32c is not None and expect.verify and expect.accepts(info.st_size, None):
        local = target.read_final()
        if local is not None and expect.accepts(*local):
            return LocalState(target, verified=local)
    return LocalState(target)


def confirm_unchanged(
    target: Target, record: _record.Record, expect: Expectation
) -> tuple[int, int] | None:
    """After a 304 to the recorded ETag: ``(size, crc32c)`` of the file when its bytes are
    still those recorded and wanted, else None (it must then be downloaded again)."""
    if not expect.verify:
        return _size_only(target, record)
    local = target.read_final()
    if local is None or local != (record.size, record.crc32c) or not expect.accepts(*local):
        return None
    return local


def _size_only(target: Target, record: _record.Record) -> tuple[int, int] | None:
    """``verify_existing`` off: no hashing, but the size must still match."""
    try:
        info = os.stat(target.final.name, dir_fd=target._dir, follow_symlinks=False)
    except OSError:
        return None
    return (record.size, record.crc32c) if info.st_size == record.size else None

"""Reruns: is the file already at the destination the one wanted? (blocking, in a thread)

Before the first request of a download to a file path, the path is claimed and whatever
regular file is there is looked at:

- it carries the record of an earlier download of the same object (:mod:`._record`;
  same identity): the request asks the
  server ``If-None-Match: <recorded ETag>``; a 304 then costs no body, and the file is
  hashed and must match the record (and the caller's expected CRC32C and size) before it
  is reported as skipped. Anything else is downloaded again;
- it has no record but the caller knows its CRC32C (the API's): when the file has that
  CRC32C (and the expected size) it is skipped without any request;
- otherwise it is downloaded again and replaced.

In a directory the file's name is only known from the first answer: there, a file under
that name (or a numbered alternative, ``clip (1).mp4``) recording the answer's ETag and
size, and hashing to it, is taken instead of downloading a numbered copy; the answer's body
is then left unread (:func:`reuse_in_directory`).

A name alone is never trusted: a skipped file has always just been hashed.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from . import _record
from . import journal as jr
from ._localfs import open_directory
from ._target import MAX_ALTERNATIVES, Target, hash_regular, is_directory, numbered, resolve_target


@attrs.frozen
class Expectation:
    """What the caller knows of the wanted bytes."""

    crc32c: int | None
    size: int | None
    verify: bool = True  # hash files before skipping them (``TransferConfig.verify_existing``)
    #: the download's identity hash; only a record of that very object is asked about
    source: str | None = None

    def asks_about(self, record: _record.Record) -> bool:
        """Whether ``record`` names the wanted object, at a size and CRC that may be it."""
        return record.source == self.source and self.accepts(record.size, record.crc32c)

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
    #: the resume journal beside the destination, when ``journal_read`` (see
    #: :func:`inspect_destination`'s ``journal``; not read for a file to skip or ask about)
    journal: jr.Journal | None = None
    journal_read: bool = False


def inspect_destination(
    dest: str | os.PathLike[str],
    claimed: list[Target],
    expect: Expectation | None,
    journal: bool = False,
) -> LocalState | None:
    """Claim a file destination and look at what it holds (None: ``dest`` is a directory,
    whose file name is only known from the answer). ``expect`` None: do not look.
    ``journal``: also read the resume journal of an earlier attempt, in the same hop."""
    if is_directory(dest):
        return None
    target = resolve_target(dest, {}, "", None, claimed, None)
    local = _look(target, expect)
    if journal and local.verified is None and local.record is None:
        local = attrs.evolve(local, journal=target.load_journal(), journal_read=True)
    return local


def _look(target: Target, expect: Expectation | None) -> LocalState:
    """What the claimed ``target`` holds, as far as ``expect`` lets it be skipped."""
    if expect is None:
        return LocalState(target)
    found = _record.read(target.final.name, target._dir)
    if found is None:
        return LocalState(target)
    info, record = found
    if record is not None and record.size == info.st_size and expect.asks_about(record):
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


def reuse_in_directory(
    named: Path, etag: str | None, size: int | None, expect: Expectation
) -> tuple[Path, int, int] | None:
    """A file published earlier for this very object version in ``named``'s directory:
    under ``named``'s name or a numbered alternative, recording ``etag`` and ``size``, and
    whose bytes hash to its record (and ``expect``). Returns its path, size and CRC32C."""
    usable = _record.usable_etag(etag)
    if usable is None or size is None or not expect.accepts(size, None):
        return None
    try:
        dir_fd = open_directory(named.parent)
    except OSError:
        return None
    try:
        for n in range(MAX_ALTERNATIVES):
            name = numbered(named.name, n) if n else named.name
            try:
                os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                return None
            found = _record.read(name, dir_fd)
            record = _matching(found, usable, size, expect)
            if record is None:
                continue
            if not expect.verify or hash_regular(name, dir_fd) == (size, record.crc32c):
                return named.parent / name, size, record.crc32c
        return None
    finally:
        os.close(dir_fd)


def _matching(
    found: tuple[os.stat_result, _record.Record | None] | None,
    etag: str,
    size: int,
    expect: Expectation,
) -> _record.Record | None:
    """The record of ``found`` when it names this version (ETag, size) and the file has
    that size and may be the wanted bytes."""
    if found is None:
        return None
    info, record = found
    if record is None:
        return None
    if (record.etag, record.size, info.st_size) != (etag, size, size):
        return None
    return record if expect.asks_about(record) else None

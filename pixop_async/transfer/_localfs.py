"""File-system steps of a download that must not be fooled by a shared directory (blocking).

Another local user may plant a symbolic or hard link where a temp file or journal will be
created, or swap a file or directory between two of our steps. So: the destination
directory is opened once and every later step names files relative to that descriptor
(a directory renamed or replaced by a link meanwhile cannot redirect them); new files are
created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (a stale entry is unlinked first; unlinking
a link never touches its target); an existing temp file is reused only when it is a
regular, singly linked file owned by us; each temp file is ``flock``-ed while in use, so a
second process downloading to the same place is refused instead of interleaving; and
before the rename both the temp file (``st_dev``/``st_ino``) and the directory path are
checked to still be what we opened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

from ..errors import PathBusyError, PathSwappedError, TransferError

__all__ = ["PathBusyError", "PathSwappedError", "create_exclusive", "move_into_place"]

if sys.platform != "win32":
    import fcntl

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def open_directory(path: Path) -> int:
    """A descriptor of the directory ``path`` names now (every later step is relative to it)."""
    return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _try_lock(fd: int) -> bool:
    """Take an exclusive ``flock`` on ``fd`` without waiting; False when someone holds it."""
    if sys.platform == "win32":  # pragma: no cover - no flock; the in-process claim remains
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock(fd: int, name: str) -> None:
    if not _try_lock(fd):
        os.close(fd)
        raise PathBusyError(f"another download is writing to {name}")


def _own_regular(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_uid == os.geteuid()


def _refuse_if_locked(name: str, dir_fd: int) -> None:
    """Raise when a live download (any process) holds the file ``name``."""
    try:
        fd = os.open(name, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode) and not _try_lock(fd):
            raise PathBusyError(f"another download is writing to {name}")
    finally:
        os.close(fd)


def create_exclusive(name: str, dir_fd: int, mode: int = 0o644) -> int:
    """A new, empty, locked file ``name``; whatever was there (file or link) is unlinked,
    unless it is a file a live download holds."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    try:
        fd = os.open(name, flags, mode, dir_fd=dir_fd)
    except FileExistsError:
        _refuse_if_locked(name, dir_fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=dir_fd)
        fd = os.open(name, flags, mode, dir_fd=dir_fd)
    _lock(fd, name)
    return fd


def open_own(name: str, dir_fd: int, size: int) -> int | None:
    """The existing file ``name``, locked, when it is a regular file of ours (one link,
    our uid) of ``size`` bytes; None otherwise (links are never followed)."""
    try:
        fd = os.open(name, os.O_RDWR | _NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    info = os.fstat(fd)
    if not _own_regular(info) or info.st_size != size:
        os.close(fd)
        return None
    _lock(fd, name)
    return fd


def check_in_place(fd: int, name: str, dir_fd: int, directory: Path) -> None:
    """Raise unless ``name`` in ``dir_fd`` is the inode open as ``fd`` and ``directory``
    still leads to ``dir_fd`` (a moved or swapped directory gets nothing published)."""
    mine = os.fstat(fd)
    try:
        there = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise PathSwappedError("the temp file disappeared; nothing was published") from None
    if (mine.st_dev, mine.st_ino) != (there.st_dev, there.st_ino) or not stat.S_ISREG(
        there.st_mode
    ):
        raise PathSwappedError("the temp file was replaced by another one; nothing was published")
    held = os.fstat(dir_fd)
    try:
        named = os.stat(directory)
    except FileNotFoundError:
        named = None
    if named is None or (named.st_dev, named.st_ino) != (held.st_dev, held.st_ino):
        raise PathSwappedError(
            "the destination directory was moved or replaced; nothing was published"
        )


def move_into_place(temp: str, final: str, dir_fd: int, *, replace: bool) -> None:
    """Rename ``temp`` to ``final`` (both in ``dir_fd``); without ``replace`` an existing
    ``final`` is kept (hard link + unlink, atomic on POSIX) and the move is refused."""
    if replace:
        os.replace(temp, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    try:
        os.link(temp, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileExistsError:
        raise TransferError(
            f"{final} appeared while downloading; it was left alone and nothing was saved"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        with contextlib.suppress(FileNotFoundError):  # no hard links here: racy, still made
            os.stat(final, dir_fd=dir_fd, follow_symlinks=False)
            raise TransferError(f"{final} appeared while downloading") from None
        os.replace(temp, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    os.unlink(temp, dir_fd=dir_fd)

"""File-system steps of a download that must not be fooled by a shared directory (blocking).

Another local user may plant a symbolic or hard link where a temp file or journal will be
created, or swap a file or directory between two of our steps. So: new files are created
with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (a stale entry is unlinked first; unlinking a link
never touches its target); an existing temp file is reused only when it is a regular,
singly linked file owned by us; each temp file is ``flock``-ed while in use, so a second
process downloading to the same place is refused instead of interleaving; and before the
rename the path is checked to still be the very inode we wrote (``st_dev``/``st_ino``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

from ..errors import TransferError

if sys.platform != "win32":
    import fcntl

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class PathBusyError(TransferError):
    """Another download (in this process or another one) is writing to the same file."""


class PathSwappedError(TransferError):
    """The temp file was replaced behind our back; nothing was published."""


def _try_lock(fd: int) -> bool:
    """Take an exclusive ``flock`` on ``fd`` without waiting; False when someone holds it."""
    if sys.platform == "win32":  # pragma: no cover - no flock; the in-process claim remains
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock(fd: int, path: Path) -> None:
    if not _try_lock(fd):
        os.close(fd)
        raise PathBusyError(f"another download is writing to {path.name}")


def _own_regular(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and info.st_uid == os.geteuid()


def _refuse_if_locked(path: Path) -> None:
    """Raise when a live download (any process) holds the file at ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode) and not _try_lock(fd):
            raise PathBusyError(f"another download is writing to {path.name}")
    finally:
        os.close(fd)


def create_exclusive(path: Path, mode: int = 0o644) -> int:
    """A new, empty, locked file at ``path``; whatever was there (file or link) is unlinked."""
    _refuse_if_locked(path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
    _lock(fd, path)
    return fd


def open_own(path: Path, size: int) -> int | None:
    """The existing file at ``path``, locked, when it is a regular file of ours (one link,
    our uid) of ``size`` bytes; None otherwise (links are never followed)."""
    try:
        fd = os.open(path, os.O_RDWR | _NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    info = os.fstat(fd)
    if not _own_regular(info) or info.st_size != size:
        os.close(fd)
        return None
    _lock(fd, path)
    return fd


def check_same_file(fd: int, path: Path) -> None:
    """Raise unless ``path`` (not followed) is the inode open as ``fd``."""
    mine = os.fstat(fd)
    try:
        there = os.lstat(path)
    except FileNotFoundError:
        raise PathSwappedError("the temp file disappeared; nothing was published") from None
    if (mine.st_dev, mine.st_ino) != (there.st_dev, there.st_ino) or not stat.S_ISREG(
        there.st_mode
    ):
        raise PathSwappedError("the temp file was replaced by another one; nothing was published")


def move_into_place(temp: Path, final: Path, *, replace: bool) -> None:
    """Rename ``temp`` to ``final``; without ``replace`` an existing ``final`` is kept
    (hard link + unlink, atomic on POSIX) and the move is refused."""
    if replace:
        os.replace(temp, final)
        return
    try:
        os.link(temp, final, follow_symlinks=False)
    except FileExistsError:
        raise TransferError(
            f"{final.name} appeared while downloading; it was left alone and nothing was saved"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if os.path.lexists(final):  # no hard links here: the check is racy but still made
            raise TransferError(f"{final.name} appeared while downloading") from None
        os.replace(temp, final)
        return
    temp.unlink()

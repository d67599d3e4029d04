"""Where a download lands: the final path, the temp file beside it and its journal."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from . import journal as jr
from .naming import filename_from_disposition, filename_from_url, sanitize_filename

TEMP_SUFFIX = ".pixop-part"


async def open_in_thread(opener: Callable[..., int | None], *args: Any) -> int | None:
    """Run a blocking ``opener`` (returns an fd or None) in a thread, cancel-safely.

    A cancellation arriving while the thread is opening would otherwise drop the fd it
    returns on the floor; here the open is waited for and its fd closed before re-raising.
    """
    future = asyncio.get_running_loop().run_in_executor(None, opener, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            fd = await future
            if fd is not None:
                os.close(fd)
        raise


async def run_to_completion(fn: Callable[..., Any], *args: Any) -> Any:
    """Run blocking ``fn`` in a thread; a cancellation waits for it to finish first, so
    nothing is still running on the caller's files once the CancelledError arrives."""
    future = asyncio.get_running_loop().run_in_executor(None, fn, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


def _is_directory(dest: str | os.PathLike[str]) -> bool:
    text = os.fspath(dest)
    return os.path.isdir(text) or text.endswith((os.sep, "/"))


def resolve_target(dest: str | os.PathLike[str], headers: Mapping[str, str], url: str) -> Target:
    """The target for ``dest``; a directory gets the server's (sanitised) file name."""
    if _is_directory(dest):
        directory = Path(dest)
        directory.mkdir(parents=True, exist_ok=True)
        offered = filename_from_disposition(headers.get("Content-Disposition"))
        name = sanitize_filename(offered or filename_from_url(url))
        return Target.for_path(directory / name)
    return Target.for_path(Path(dest))


@attrs.frozen
class Target:
    """Paths of one download. Blocking methods; the engine runs them in a thread."""

    final: Path
    temp: Path
    journal: Path

    @classmethod
    def for_path(cls, final: Path) -> Target:
        temp = final.with_name(final.name + TEMP_SUFFIX)
        return cls(final, temp, jr.journal_path(temp))

    def create(self, size: int) -> int:
        """A fresh temp file of ``size`` bytes (preallocated where the filesystem can)."""
        jr.remove(self.journal)
        fd = os.open(self.temp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            if size > 0:
                try:
                    os.posix_fallocate(fd, 0, size)
                except (AttributeError, OSError) as exc:
                    if isinstance(exc, OSError) and exc.errno not in (
                        errno.EOPNOTSUPP,
                        errno.ENOSYS,
                        errno.EINVAL,
                    ):
                        raise
                    os.ftruncate(fd, size)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                self.temp.unlink()  # no room even to preallocate: leave no debris
            raise
        return fd

    def open_existing(self, size: int) -> int | None:
        """The temp file of an earlier attempt when it has the expected size, else None."""
        try:
            fd = os.open(self.temp, os.O_RDWR)
        except OSError:
            return None
        if os.fstat(fd).st_size != size:
            os.close(fd)
            return None
        return fd

    def publish(self, fd: int, fsync: bool, size: int) -> None:
        """Make the temp file durable and atomically move it to the final path."""
        try:
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, size)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.temp, self.final)
        jr.remove(self.journal)
        if fsync:
            with contextlib.suppress(OSError):
                dir_fd = os.open(self.final.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def discard(self) -> None:
        """Delete the temp file and the journal."""
        jr.remove(self.journal)
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()

"""Where a download lands: the final path, the temp file beside it and its journal.

Names chosen by the server (``Content-Disposition``, the URL, an API's suggested name) are
sanitised, may not end like our own temp files, and never take an existing file or a name
another download of this process has claimed: such a collision gets a numbered name,
``clip (1).mp4``. A path the caller named is used as given, but two downloads of this
process to one path at the same time are refused (:class:`PathBusyError`) instead of both
reporting success for a single file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import stat
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from ..errors import TransferError
from . import _record
from . import journal as jr
from ._localfs import (
    PathBusyError,
    check_in_place,
    create_exclusive,
    move_into_place,
    open_directory,
    open_own,
)
from .checksum import FILE_CHUNK, crc32c, hash_and_pwritev
from .naming import filename_from_disposition, filename_from_url, sanitize_filename

TEMP_SUFFIX = ".pixop-part"
#: Endings a server-chosen name may not have: they are our temp files and journals.
RESERVED_ENDINGS = (TEMP_SUFFIX, TEMP_SUFFIX + ".journal", TEMP_SUFFIX + ".journal.tmp")
#: Numbered alternatives tried for a server-chosen name before giving up.
MAX_ALTERNATIVES = 1000

log = logging.getLogger("pixop_async.transfer")

_claims: set[tuple[int, int, str]] = set()
_claims_lock = threading.Lock()


async def open_in_thread(opener: Callable[..., int | None], *args: Any) -> int | None:
    """Run a blocking ``opener`` (returns an fd or None) in a thread, cancel-safely.

    A cancellation arriving while the thread is opening would otherwise drop the fd it
    returns on the floor; here the open is waited for and its fd closed before re-raising.
    """
    future = asyncio.get_running_loop().run_in_executor(None, opener, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await settle(future)
        if not future.cancelled() and future.exception() is None:
            fd = future.result()
            if fd is not None:
                os.close(fd)
        raise


#: Threads that make downloads durable (fsync, rename) at once; see :func:`publisher`.
PUBLISH_THREADS = 16
_publisher: ThreadPoolExecutor | None = None


def publisher() -> ThreadPoolExecutor:
    """The pool publishing files (fsync + rename). Its own threads, so a burst of slow
    fsyncs never holds up the short steps (claiming a path) before the next requests."""
    global _publisher
    with _claims_lock:
        if _publisher is None:
            _publisher = ThreadPoolExecutor(PUBLISH_THREADS, thread_name_prefix="pixop-publish")
        return _publisher


def _forget_publisher_in_child() -> None:
    """A forked child inherits the pool but not its threads (publishing would wait
    forever): it starts without one, and with a fresh lock in case another thread held
    it at the fork. The parent's claims stay: the child keeps off those paths."""
    global _publisher, _claims_lock
    _publisher = None
    _claims_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_publisher_in_child)


async def run_to_completion(
    fn: Callable[..., Any], *args: Any, executor: Executor | None = None
) -> Any:
    """Run blocking ``fn`` in a thread (of ``executor``, default: the loop's); a
    cancellation waits for it to finish first, so nothing is still running on the
    caller's files once the CancelledError arrives."""
    future = asyncio.get_running_loop().run_in_executor(executor, fn, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await settle(future)
        raise


async def settle(future: asyncio.Future[Any]) -> None:
    """Wait until the thread behind ``future`` has finished, however many further
    cancellations arrive meanwhile (a bulk run cancels its workers twice: once through
    ``gather``, once in its cleanup). Its outcome is left on the future, marked seen."""
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([future])
    if not future.cancelled():
        future.exception()


def is_directory(dest: str | os.PathLike[str]) -> bool:
    text = os.fspath(dest)
    return os.path.isdir(text) or text.endswith((os.sep, "/"))


def _claim_key(dir_fd: int, name: str) -> tuple[int, int, str]:
    """The directory's identity (whatever path led to it) plus the file name."""
    info = os.fstat(dir_fd)
    return info.st_dev, info.st_ino, name


def server_name(offered: str | None, default: str = "download") -> str:
    """A server-offered name made safe: sanitised and never one of our temp endings."""
    name = sanitize_filename(offered, default=default)
    while name.endswith(RESERVED_ENDINGS):
        name = name.replace(".", "_")  # e.g. "x.mp4.pixop-part" -> "x_mp4_pixop-part"
    return name


def numbered(name: str, n: int) -> str:
    """``name`` with `` (n)`` before its extension: ``clip (1).mp4``."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"


def named_path(
    dest: str | os.PathLike[str], headers: Mapping[str, str], url: str, suggested: str | None
) -> Path:
    """The path ``dest`` stands for before any collision is resolved: ``dest`` itself, or in
    a directory the (sanitised) name the server or the API offers, without a number."""
    if not is_directory(dest):
        return Path(dest)
    offered = suggested or filename_from_disposition(headers.get("Content-Disposition"))
    return Path(dest) / server_name(offered or filename_from_url(url))


def read_local(path: Path) -> tuple[int, int]:
    """Size and CRC32C of the regular file at ``path`` (a link is not followed; blocking).

    Raises :class:`TransferError` when there is no such regular file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError as exc:
        raise TransferError(
            f"HTTP 304 (not modified), but there is no local file at {path.name!r} ({exc.strerror})"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TransferError(f"HTTP 304 (not modified), but {path.name!r} is not a file")
        return _hash_fd(fd)
    finally:
        os.close(fd)


def hash_regular(name: str, dir_fd: int) -> tuple[int, int] | None:
    """Size and CRC32C of the regular file ``name`` in ``dir_fd`` (no link followed)."""
    try:
        fd = os.open(
            name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK, dir_fd=dir_fd
        )
    except OSError:
        return None
    try:
        return _hash_fd(fd) if stat.S_ISREG(os.fstat(fd).st_mode) else None
    finally:
        os.close(fd)


def _hash_fd(fd: int) -> tuple[int, int]:
    """Size and CRC32C of what ``fd`` reads from its current offset to the end."""
    size = crc = 0
    while data := os.read(fd, FILE_CHUNK):
        crc = crc32c(data, crc)
        size += len(data)
    return size, crc


def resolve_target(
    dest: str | os.PathLike[str],
    headers: Mapping[str, str],
    url: str,
    suggested: str | None = None,
    claimed: list[Target] | None = None,
    identity: str | None = None,
) -> Target:
    """The claimed target for ``dest``; a directory gets a server-chosen, free name.

    A name is free when neither the file nor a temp file of that name is there, or when
    the temp file is an earlier attempt at this very object: its journal names
    ``identity`` (a :func:`~.journal.identity_hash`), so the download resumes there
    instead of starting over under a new number (and whatever it holds is checked before
    use, see :mod:`._resume`). Another object's unfinished attempt is left alone.

    The target is also appended to ``claimed`` as soon as it is claimed, so a caller
    cancelled while this runs in a thread can still release it.
    """
    claimed = [] if claimed is None else claimed
    if not is_directory(dest):
        final = Path(dest)
        if final.name.endswith(RESERVED_ENDINGS):
            raise PathBusyError(f"{final.name} is the name of a download's temp file")
        target = Target.for_path(final)
        claimed.append(target)
        target.open_directory()
        target.claim()
        return target
    directory = Path(dest)
    directory.mkdir(parents=True, exist_ok=True)
    name = named_path(dest, headers, url, suggested).name
    for n in range(MAX_ALTERNATIVES):
        candidate = directory / (numbered(name, n) if n else name)
        temp = candidate.with_name(candidate.name + TEMP_SUFFIX)
        if os.path.lexists(candidate) or (
            os.path.lexists(temp) and not _earlier_attempt(temp, identity)
        ):
            continue
        target = Target.for_path(candidate, replace=False)
        claimed.append(target)
        target.open_directory()
        with contextlib.suppress(PathBusyError):
            target.claim()
            return target
        claimed.remove(target)
        target.release()
    raise PathBusyError(f"no free name for {name!r} in the destination directory")


def _earlier_attempt(temp: Path, identity: str | None) -> bool:
    """Whether the journal beside ``temp`` is that of an attempt at ``identity``."""
    if identity is None:
        return False
    journal = jr.load(jr.journal_path(temp))
    return journal is not None and journal.identity == identity


@attrs.define
class Target:
    """Paths of one download. Blocking methods; the engine runs them in a thread.

    ``replace`` is whether an existing file at ``final`` may be replaced (only when the
    caller named the path). Once :meth:`open_directory` has run, every file operation is
    relative to the directory as it was then (see :mod:`._localfs`).
    """

    final: Path
    temp: Path
    journal: Path
    replace: bool = True
    dir_fd: int = -1
    claim_key: tuple[int, int, str] | None = None  # set by :meth:`claim`
    journal_failed: bool = False  # a journal write failed (warned about once)

    @classmethod
    def for_path(cls, final: Path, *, replace: bool = True) -> Target:
        temp = final.with_name(final.name + TEMP_SUFFIX)
        return cls(final, temp, jr.journal_path(temp), replace)

    def claim(self) -> None:
        """Reserve ``final`` for this download in this process (:meth:`release` frees it)."""
        key = _claim_key(self._dir, self.final.name)
        with _claims_lock:
            if key in _claims:
                raise PathBusyError(f"another download is already writing to {self.final.name}")
            _claims.add(key)
        self.claim_key = key

    def release(self) -> None:
        """Give the claim back and close the directory descriptor."""
        if self.claim_key is not None:
            with _claims_lock:
                _claims.discard(self.claim_key)
            self.claim_key = None
        if self.dir_fd >= 0:
            fd, self.dir_fd = self.dir_fd, -1
            os.close(fd)

    def open_directory(self) -> None:
        self.dir_fd = open_directory(self.final.parent)

    @property
    def _dir(self) -> int:
        if self.dir_fd < 0:
            self.open_directory()
        return self.dir_fd

    def load_journal(self) -> jr.Journal | None:
        return jr.load(self.journal, self._dir)

    def write_journal(self, payload: bytes) -> None:
        jr.write(self.journal, payload, self._dir)

    def save_journal(self, payload: bytes) -> None:
        """:meth:`write_journal`, best effort: a journal only ever saves work, so failing to
        write one (a full disk, say) must not fail a download whose data fits. The last
        journal written stays; whatever it lists is re-checked on resume anyway."""
        try:
            self.write_journal(payload)
        except OSError as exc:
            if not self.journal_failed:
                log.warning("could not save the resume journal (%s); continuing", exc.strerror)
            self.journal_failed = True

    def create(self, size: int) -> int:
        """A fresh temp file of ``size`` bytes (preallocated where the filesystem can)."""
        fd = create_exclusive(self.temp.name, self._dir)  # refused if a live download has it
        try:
            jr.remove(self.journal, self._dir)  # an old attempt's, never a live one's
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
                os.unlink(self.temp.name, dir_fd=self._dir)  # no room to preallocate
            raise
        return fd

    def open_existing(self, size: int) -> int | None:
        """The temp file of an earlier attempt when it is ours and has the expected size."""
        return open_own(self.temp.name, self._dir, size)

    def publish(
        self, fd: int, fsync: bool, size: int, record: _record.Record | None = None
    ) -> None:
        """Make the temp file durable and move it, checked to be ours, to the final path.

        ``record`` (the server's ETag and the bytes' size and CRC) goes with the file, so a
        rerun can ask the server whether it changed (see :mod:`._record`)."""
        try:
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, size)
            if record is not None:
                _record.write(fd, record)
            if fsync:
                os.fsync(fd)
            check_in_place(fd, self.temp.name, self._dir, self.final.parent)
        finally:
            os.close(fd)
        move_into_place(self.temp.name, self.final.name, self._dir, replace=self.replace)
        jr.remove(self.journal, self._dir)
        if fsync:
            with contextlib.suppress(OSError):
                os.fsync(self._dir)

    def publish_bytes(
        self,
        chunks: list[bytes],
        size: int,
        expected: int | None,
        fsync: bool,
        etag: str | None,
        source: str,
        written: Callable[[], object] = lambda: None,
    ) -> tuple[int, bool]:
        """A whole small object received in memory: write, hash, verify and publish it in
        one go (one worker-thread hop). Returns its CRC32C and whether it was published:
        bytes that do not match ``expected`` are not (and leave no temp file behind).
        ``source`` names the object in the file's record (with ``etag``).
        ``written()`` is called once the bytes are in the file (their memory is free)."""
        fd = create_exclusive(self.temp.name, self._dir)
        try:
            crc = hash_and_pwritev(fd, chunks, 0, 0) if chunks else 0
            chunks.clear()
            written()
            ok = expected is None or crc == expected
        except BaseException:
            os.close(fd)
            self.discard()
            raise
        if not ok:
            os.close(fd)
            self.discard()
            return crc, False
        usable = _record.usable_etag(etag)
        try:
            record = _record.Record(usable, size, crc, source) if usable else None
            self.publish(fd, fsync, size, record)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(self.temp.name, dir_fd=self._dir)
            raise
        return crc, True

    def read_final(self) -> tuple[int, int] | None:
        """Size and CRC32C of the regular file at the final path (no link followed)."""
        return hash_regular(self.final.name, self._dir)

    def discard(self) -> None:
        """Delete the temp file and the journal."""
        jr.remove(self.journal, self._dir)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp.name, dir_fd=self._dir)

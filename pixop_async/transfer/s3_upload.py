"""Local file -> S3 object by multipart upload: parallel parts, CRC32C end to end, resume.

:func:`upload_to_s3` cuts the file into parts (:mod:`.s3_plan`), sends them in parallel
under the client's :class:`~.scheduler.Scheduler` (connection slots, byte budget,
bandwidth cap), each with its ``x-amz-checksum-crc32c``, and completes the upload with the
whole file's CRC32C combined from the part CRCs (full-object checksum; stores without it get
a composite checksum). A journal (:mod:`.s3_journal`) lets a rerun after a crash send only the
parts the store does not already hold with the right CRC32C.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ..errors import ChecksumMismatchError, InvalidRequestError, TransferError
from ..retry import RetryPolicy
from . import s3_journal as sj
from ._deadline import guarded
from ._inputs import path_like
from ._s3_engine import S3Upload
from ._s3_parts import SourceChangedError
from .config import TransferConfig
from .progress import Progress, ProgressCallback
from .s3_client import S3Connection, open_client, require_aiobotocore
from .s3_plan import check_bucket, check_key, plan_upload
from .s3_result import S3UploadedPart, S3UploadResult
from .scheduler import Scheduler

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["S3Connection", "S3UploadResult", "S3UploadedPart", "SourceChangedError", "upload_to_s3"]


def _open_source(path: Path) -> tuple[int, os.stat_result]:
    """The source opened for reading. ``O_NONBLOCK`` keeps a FIFO (or a device) from
    blocking the open in a worker thread forever; such sources are refused right after."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise TransferError(f"cannot open {path.name}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TransferError(f"{path.name} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


async def _run(upload: S3Upload, client: S3Client, resume: bool) -> S3UploadResult:
    """Start or resume, send, complete; on failure keep the upload for a rerun (``resume``)
    or abort it. A changed source or a checksum the store disputes always aborts."""
    try:
        await upload.start(client)
        if upload.finished is not None:
            return upload.finished
        try:
            await upload.send_missing(client)
            await upload.release()
            upload.check_source()
            return await upload.complete(client)
        except BaseException as exc:
            if resume and not isinstance(exc, (SourceChangedError, ChecksumMismatchError)):
                await upload.save_journal(force=True)
            else:
                await asyncio.shield(upload.abort(client))
            raise
    finally:
        await upload.release()


async def upload_to_s3(
    path: str | os.PathLike[str],
    bucket: str,
    key: str,
    *,
    s3: S3Connection | None = None,
    part_size: int | None = None,
    connections: int | None = None,
    resume: bool = True,
    state_dir: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    scheduler: Scheduler | None = None,
    config: TransferConfig | None = None,
    retry: RetryPolicy | None = None,
    content_type: str | None = None,
) -> S3UploadResult:
    """Upload the file at ``path`` to ``bucket``/``key`` of an S3-compatible store.

    ``s3`` says where and with which credentials (default: AWS with the usual credential
    sources). Parts of ``part_size`` bytes (default: 8 MiB, more for files over ~78 GiB) go
    over up to ``connections`` connections, within ``scheduler``'s limits (pass a client's
    ``px.transfers`` to share them). With ``resume`` (default) a journal beside the file (or
    in ``state_dir``) lets a rerun send only missing parts, and a failed upload is kept for
    that rerun; without it a failed upload is aborted. A file that changes during the upload
    raises :class:`SourceChangedError` and the upload is aborted.
    ``progress(sent, total)`` may be sync or async.
    """
    require_aiobotocore()
    path_like("path", path)
    check_bucket(bucket)
    check_key(key)
    if part_size is not None:
        plan_upload(0, part_size)  # validates the value before any I/O
    if connections is not None and (
        isinstance(connections, bool) or not isinstance(connections, int) or connections < 1
    ):
        raise InvalidRequestError("connections", "must be an integer >= 1")
    conn = s3 or S3Connection()
    config = config or (scheduler.config if scheduler is not None else TransferConfig())
    scheduler = scheduler or Scheduler(config)
    policy = retry or config.retry or RetryPolicy()
    conns = config.connections_for(connections)
    source = Path(path)
    loop = asyncio.get_running_loop()
    fd, info = await loop.run_in_executor(None, _open_source, source)
    started = time.monotonic()
    try:
        plan = plan_upload(info.st_size, part_size)
        jdir = Path(state_dir) if state_dir is not None else None
        if jdir is None and resume:
            jdir = await loop.run_in_executor(None, sj.fallback_dir, source)
        upload = S3Upload(
            fd,
            source,
            bucket,
            key,
            conn,
            plan=plan,
            mtime_ns=info.st_mtime_ns,
            origin=(info.st_dev, info.st_ino, info.st_ctime_ns),
            fixed_part_size=part_size is not None,
            resume=resume,
            journal_path=sj.journal_path(source, conn.identity(), bucket, key, jdir),
            scheduler=scheduler,
            config=config,
            policy=policy,
            progress=Progress(progress, info.st_size, interval=config.progress_interval),
            connections=conns,
            extra_args={"ContentType": content_type} if content_type else {},
        )
        # taken inline (a few non-blocking calls): a cancellation cannot strand the lock
        held = sj.lock(upload.journal_path) if resume else None
        try:
            async with open_client(conn, conns) as client:
                result = await guarded(_run(upload, client, resume), upload.activity, config)
            sj.remove(upload.journal_path)
        finally:
            if held is not None:
                sj.unlock(upload.journal_path, held)
        await upload.progress.finish()
        return attrs.evolve(result, elapsed=time.monotonic() - started)
    finally:
        os.close(fd)

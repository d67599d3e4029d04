"""One S3 multipart upload run: start or resume, send the missing parts, complete or abort.

:class:`S3Upload` holds the state of one upload of one source file to one destination. It
is driven by :func:`~.s3_upload.upload_to_s3`, which opens the file and the S3 client and
decides what happens to the upload when something fails.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ChecksumMismatchError, TransferError
from ..retry import RetryPolicy
from . import _s3_resume
from . import s3_journal as sj
from ._deadline import Activity
from ._s3_parts import PIECE_MAX, HashAhead, PageCacheReads, PartBody, SourceChangedError
from .config import TransferConfig
from .progress import Progress
from .s3_client import UNSUPPORTED_CODES, S3Connection, describe, error_code, failure_of
from .s3_plan import (
    PartSpec,
    UploadPlan,
    composite_checksum,
    decode_crc32c,
    encode_crc32c,
    whole_crc32c,
)
from .s3_result import S3UploadedPart, S3UploadResult
from .scheduler import Scheduler

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = logging.getLogger("pixop_async.transfer.s3")


class S3Upload:
    """The state of one upload run (one source file, one destination)."""

    def __init__(
        self,
        fd: int,
        source: Path,
        bucket: str,
        key: str,
        conn: S3Connection,
        *,
        plan: UploadPlan,
        mtime_ns: int,
        origin: tuple[int, int, int],
        fixed_part_size: bool,
        resume: bool,
        journal_path: Path,
        scheduler: Scheduler,
        config: TransferConfig,
        policy: RetryPolicy,
        progress: Progress,
        connections: int,
        extra_args: dict[str, Any],
    ) -> None:
        self.fd = fd
        self.source = source
        self.bucket = bucket
        self.key = key
        self.conn = conn
        self.plan = plan
        self.mtime_ns = mtime_ns
        #: (device, inode, ctime_ns) of the source when it was opened: a rewrite that puts
        #: the old mtime back still moves the ctime, and a replaced file has another inode
        self.origin = origin
        self.fixed_part_size = fixed_part_size
        self.resume = resume
        self.journal_path = journal_path
        self.scheduler = scheduler
        self.config = config
        self.policy = policy
        self.progress = progress
        #: what the transfer deadlines (stall rule, total timeout) watch
        self.activity = Activity(progress)
        self.connections = connections
        self.extra_args = extra_args
        self.journal: sj.S3Journal | None = None
        #: set by :meth:`start` when an earlier run already completed this very upload
        self.finished: S3UploadResult | None = None
        self.done: dict[int, S3UploadedPart] = {}
        self.sent = 0
        self.resumed = 0
        self._journal_lock = asyncio.Lock()
        self._journal_stamp = 0.0
        self._rand = random.Random()
        self._hashes: HashAhead | None = None
        #: whether the source's file system takes non-blocking page-cache reads
        self._reads = PageCacheReads()

    # -- journal ---------------------------------------------------------------------------

    async def save_journal(self, *, force: bool = False) -> None:
        """Write the journal now (``force``) or when the last write is old enough."""
        if self.journal is None or not self.resume:
            return
        now = time.monotonic()
        if not force and (
            self._journal_lock.locked() or now - self._journal_stamp < self.config.journal_interval
        ):
            return
        async with self._journal_lock:
            self._journal_stamp = now
            self.journal.parts = {n: (p.etag, p.crc32c) for n, p in self.done.items()}
            payload = sj.encode(self.journal)
            loop = asyncio.get_running_loop()
            await asyncio.shield(
                loop.run_in_executor(
                    None, lambda: sj.write(self.journal_path, payload, fsync=self.config.fsync)
                )
            )

    # -- start or resume -------------------------------------------------------------------

    async def start(self, client: S3Client) -> None:
        old = sj.load(self.journal_path) if self.resume else None
        if old is not None:
            same = old.matches(
                self.conn.identity(), self.bucket, self.key, self.plan.size, self.mtime_ns
            ) and (not self.fixed_part_size or old.part_size == self.plan.part_size)
            if same and await _s3_resume.adopt(self, client, old):
                log.info(
                    "resuming S3 upload of %s: %d of %d parts already stored",
                    self.source.name,
                    len(self.done),
                    self.plan.count,
                )
                return
            if same:
                self.finished = await _s3_resume.finished_before(self, client, old)
                if self.finished is not None:
                    log.info("S3 upload of %s was completed by an earlier run", self.source.name)
                    return
            log.info("S3 upload journal of %s is stale; starting over", self.source.name)
            self._hash_missing()  # overlaps the abort and the create
            await self._abort(client, old.upload_id)
            sj.remove(self.journal_path)
        self._hash_missing()  # the first parts are hashed while the upload is created
        await self._create(client)

    async def _create(self, client: S3Client) -> None:
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "ChecksumAlgorithm": "CRC32C",
            **self.extra_args,
        }
        checksum_type = "FULL_OBJECT"
        try:
            answer = await self.call(
                client.create_multipart_upload, ChecksumType="FULL_OBJECT", **args
            )
        except TransferError as exc:
            if error_code(exc.__cause__ or exc) not in UNSUPPORTED_CODES:
                raise
            checksum_type = "COMPOSITE"
            answer = await self.call(client.create_multipart_upload, **args)
        upload_id = answer.get("UploadId")
        if not isinstance(upload_id, str) or not upload_id:
            raise TransferError("the store started a multipart upload without an UploadId")
        self.journal = sj.S3Journal(
            store=self.conn.identity(),
            bucket=self.bucket,
            key=self.key,
            upload_id=upload_id,
            part_size=self.plan.part_size,
            source_size=self.plan.size,
            source_mtime_ns=self.mtime_ns,
            checksum_type=checksum_type,
        )
        await self.save_journal(force=True)

    # -- parts -----------------------------------------------------------------------------

    def _hash_missing(self) -> None:
        """Start hashing the parts still to send (in the order they will be sent)."""
        if self._hashes is None:
            missing = (p for p in self.plan.parts() if p.number not in self.done)
            self._hashes = HashAhead(self.fd, missing, ahead=self.connections)

    async def release(self) -> None:
        """Stop the part hashing (every run ends with this, whatever happened)."""
        if self._hashes is not None:
            await self._hashes.close()

    async def send_missing(self, client: S3Client) -> None:
        missing = collections.deque(p for p in self.plan.parts() if p.number not in self.done)
        self._hash_missing()
        workers = max(1, min(self.connections, len(missing)))
        tasks = [asyncio.ensure_future(self._worker(client, missing)) for _ in range(workers)]
        try:
            finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in finished:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self, client: S3Client, missing: collections.deque[PartSpec]) -> None:
        while missing:
            spec = missing.popleft()
            self.done[spec.number] = await self._send_part(client, spec)
            self.sent += 1
            await self.save_journal()

    async def _send_part(self, client: S3Client, spec: PartSpec) -> S3UploadedPart:
        assert self.journal is not None
        assert self._hashes is not None
        piece = min(PIECE_MAX, self.config.buffer_for(self.connections))
        attempt, waited = 0, 0.0
        # one hash per part, whatever the retries: each attempt's send hashes what it sent
        # again, and a difference means the file changed (refused below)
        with self.activity.local_work():
            crc = await self._hashes.crc(spec)
        while True:
            attempt += 1
            body = PartBody(
                self.fd,
                spec,
                piece=piece,
                scheduler=self.scheduler,
                progress=self.progress,
                reads=self._reads,
            )
            grant = await self.scheduler.budget.acquire(piece)
            try:
                async with self.activity.connection(self.scheduler):
                    answer = await client.upload_part(
                        Bucket=self.bucket,
                        Key=self.key,
                        UploadId=self.journal.upload_id,
                        PartNumber=spec.number,
                        Body=body,  # type: ignore[arg-type]
                        ContentLength=spec.length,
                        ChecksumCRC32C=encode_crc32c(crc),
                    )
                break
            except SourceChangedError:
                raise
            except Exception as exc:
                self.progress.rollback(body.sent)
                if body.source_error is not None:  # not a transport failure: no retry
                    raise SourceChangedError(
                        f"{self.source.name} shrank while part {spec.number} was sent"
                    ) from None
                if body.sent == spec.length and body.crc != crc:
                    raise SourceChangedError(
                        f"part {spec.number} of {self.source.name} changed while it was sent"
                    ) from None
                delay = self._retry_delay(exc, attempt, waited, f"part {spec.number}")
                log.info("part %d failed (%s), retry in %.2fs", spec.number, describe(exc), delay)
            finally:
                self.scheduler.budget.release(grant)
            await asyncio.sleep(delay)
            waited += delay
        if body.crc != crc or body.sent != spec.length:
            raise SourceChangedError(
                f"part {spec.number} of {self.source.name} changed while it was sent"
            )
        etag = answer.get("ETag")
        if not isinstance(etag, str) or not etag or len(etag) > 256:
            raise TransferError(f"the store answered part {spec.number} without a usable ETag")
        echoed = answer.get("ChecksumCRC32C")
        if echoed is not None and decode_crc32c(echoed) != crc:
            raise ChecksumMismatchError(
                f"the store recorded another CRC32C for part {spec.number}",
                expected=crc,
                actual=decode_crc32c(echoed) or 0,
            )
        return S3UploadedPart(spec.number, spec.offset, spec.length, etag, crc)

    def _retry_delay(self, exc: BaseException, attempt: int, waited: float, what: str) -> float:
        """The wait before retrying ``what`` after ``exc``, or raise a credential-free error."""
        failure = failure_of(exc)
        if failure is None:
            raise TransferError(f"{what} failed: {describe(exc)}") from None
        decision = self.policy.decide(
            "PUT", attempt, failure, waited=waited, rand=self._rand.random(), now=time.time()
        )
        if not decision.retry:
            error = TransferError(
                f"{what} failed after {attempt} attempt(s): {describe(exc)} ({decision.reason})"
            )
            error.__cause__ = exc if error_code(exc) is not None else None
            raise error
        return decision.delay

    async def call(self, method: Any, **kwargs: Any) -> Any:
        """One control request (create/complete) with the retry policy."""
        attempt, waited = 0, 0.0
        name = getattr(method, "__name__", "S3 request")
        while True:
            attempt += 1
            try:
                async with self.activity.connection(self.scheduler):
                    return await method(**kwargs)
            except Exception as exc:
                delay = self._retry_delay(exc, attempt, waited, name)
            await asyncio.sleep(delay)
            waited += delay

    # -- finish ----------------------------------------------------------------------------

    def check_source(self) -> None:
        """Refuse the upload when the file at the path is no longer the one that was read:
        deleted, replaced, resized, or written (even with its mtime put back)."""
        try:
            info = os.stat(self.source)
        except OSError as exc:
            raise SourceChangedError(
                f"{self.source.name} vanished while it was being uploaded ({exc.strerror})"
            ) from None
        now = (info.st_size, info.st_mtime_ns, (info.st_dev, info.st_ino, info.st_ctime_ns))
        if now != (self.plan.size, self.mtime_ns, self.origin):
            raise SourceChangedError(f"{self.source.name} changed while it was being uploaded")

    async def complete(self, client: S3Client) -> S3UploadResult:
        assert self.journal is not None
        parts = [self.done[n] for n in range(1, self.plan.count + 1)]
        crc = whole_crc32c([(p.crc32c, p.size) for p in parts])
        full = self.journal.checksum_type == "FULL_OBJECT"
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "UploadId": self.journal.upload_id,
            "MultipartUpload": {
                "Parts": [
                    {
                        "PartNumber": p.number,
                        "ETag": p.etag,
                        "ChecksumCRC32C": encode_crc32c(p.crc32c),
                    }
                    for p in parts
                ]
            },
        }
        if full:
            args.update(ChecksumCRC32C=encode_crc32c(crc), ChecksumType="FULL_OBJECT")
        expected = encode_crc32c(crc) if full else composite_checksum([p.crc32c for p in parts])
        # every part in the journal: a run killed after Complete can tell the object is done
        await self.save_journal(force=True)
        try:
            # assembling a large object can take the store minutes: not a stall
            with self.activity.local_work():
                answer = await self.call(client.complete_multipart_upload, **args)
        except TransferError as exc:
            # a retried Complete whose first answer was lost finds the upload gone: the
            # object is there if the store holds our size and checksum under the key
            if error_code(exc.__cause__ or exc) != "NoSuchUpload":
                raise
            found = await self.stored_object(client, expected)
            if found is None:
                raise
            answer = found
        stored = answer.get("ChecksumCRC32C")
        if stored is not None and stored != expected:
            raise ChecksumMismatchError(
                f"the store computed another checksum for the object ({stored})",
                expected=crc,
                actual=decode_crc32c(stored) or 0,
            )
        etag = answer.get("ETag")
        return S3UploadResult(
            bucket=self.bucket,
            key=self.key,
            etag=etag if isinstance(etag, str) else "",
            size=self.plan.size,
            crc32c=crc,
            checksum_type=self.journal.checksum_type,
            parts=tuple(parts),
            parts_sent=self.sent,
            parts_resumed=self.resumed,
            elapsed=0.0,
        )

    async def stored_object(self, client: S3Client, expected: str) -> dict[str, Any] | None:
        """The object at the key when its size and CRC32C are the ones just uploaded."""
        try:
            head = await client.head_object(
                Bucket=self.bucket, Key=self.key, ChecksumMode="ENABLED"
            )
        except Exception:
            return None
        stored = head.get("ChecksumCRC32C")
        if head.get("ContentLength") != self.plan.size or stored != expected:
            return None
        return {"ETag": head.get("ETag"), "ChecksumCRC32C": stored}

    async def abort(self, client: S3Client) -> None:
        if self.journal is not None:
            await self._abort(client, self.journal.upload_id)
        sj.remove(self.journal_path)

    async def _abort(self, client: S3Client, upload_id: str) -> None:
        """Best effort: a failed abort leaves an upload the bucket's lifecycle rules clean up."""
        try:
            await asyncio.wait_for(
                client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id),
                timeout=30,
            )
        except Exception as exc:
            log.warning("could not abort a multipart upload of %s: %s", self.key, describe(exc))

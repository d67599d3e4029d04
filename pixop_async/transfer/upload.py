"""Streaming ``multipart/form-data`` uploads with constant memory and CRC32C on the way.

The body is an async generator: form fields, then the file read in ``buffer_size`` pieces
(each read and hashed in one worker-thread hop), then the closing boundary. Its exact
length is computed up front and sent as ``Content-Length`` (object stores refuse chunked
uploads). A failed attempt is retried only when the retry policy calls it safe for the
method (a POST only when the request never reached the server).
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import random
import secrets
import stat
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from .._decode import parse_json
from .._session import HttpSession
from ..auth import Auth
from ..errors import APIConnectionError, APIStatusError, InvalidRequestError, TransferError
from ._deadline import Activity, guarded
from ._engine import failure_of, with_attempts
from ._inputs import upload_args
from ._target import open_in_thread
from .checksum import crc32c
from .config import TransferConfig
from .naming import sanitize_filename
from .progress import Progress, ProgressCallback
from .scheduler import Scheduler

#: Largest response body kept in an :class:`UploadResult`.
MAX_RESPONSE_BODY = 16 * 1024 * 1024


@attrs.frozen
class UploadResult:
    """The server's answer to a finished upload plus what was sent.

    The repr shows the body's length only and no response headers (cookies live there).
    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")
    size: int
    crc32c: int
    elapsed: float

    def json(self) -> Any:
        """The response body parsed as JSON; ``None`` when empty.

        A body that is not JSON raises :class:`~pixop_async.errors.InvalidResponseError`.
        """
        return parse_json(self.status, self.body)


def _quote(value: str) -> str:
    """A header parameter value as browsers send it in multipart forms."""
    return value.replace("\r", "").replace("\n", "").replace('"', "%22")


@attrs.frozen
class MultipartLayout:
    """The fixed parts of a one-file multipart body (pure)."""

    boundary: str
    head: bytes
    tail: bytes

    @classmethod
    def build(
        cls,
        *,
        field_name: str,
        file_name: str,
        content_type: str,
        fields: Mapping[str, str],
        boundary: str | None = None,
    ) -> MultipartLayout:
        boundary = boundary or "pixop-" + secrets.token_hex(16)
        lines: list[bytes] = []
        for name, value in fields.items():
            lines.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
                f"\r\n\r\n{value}\r\n".encode()
            )
        lines.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(field_name)}"; '
            f'filename="{_quote(file_name)}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        return cls(boundary, b"".join(lines), f"\r\n--{boundary}--\r\n".encode())

    def content_length(self, file_size: int) -> int:
        return len(self.head) + file_size + len(self.tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"


def _read_and_hash(fd: int, offset: int, length: int, crc: int) -> tuple[bytes, int]:
    data = os.pread(fd, length, offset)
    return data, crc32c(data, crc)


class _Body:
    """One attempt's body generator; counts and hashes what it sends."""

    def __init__(
        self,
        fd: int,
        size: int,
        layout: MultipartLayout,
        *,
        progress: Progress,
        scheduler: Scheduler,
        piece: int,
    ) -> None:
        self._fd = fd
        self._size = size
        self._layout = layout
        self._progress = progress
        self._scheduler = scheduler
        self._piece = piece
        self.sent = 0
        self.crc = 0
        #: the whole body was handed to the connection (the server's answer may take a while)
        self.handed_over = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._layout.head
        loop = asyncio.get_running_loop()
        offset = 0
        while offset < self._size:
            length = min(self._piece, self._size - offset)
            data, self.crc = await loop.run_in_executor(
                self._scheduler.executor, _read_and_hash, self._fd, offset, length, self.crc
            )
            if len(data) != length:
                raise TransferError("the file shrank while it was being uploaded")
            offset += length
            await self._scheduler.throttle(length)
            yield data
            self.sent += length
            await self._progress.advance(length)
        yield self._layout.tail


async def _watched(body: _Body, activity: Activity) -> AsyncIterator[bytes]:
    """``body``'s chunks; once all are sent the stall rule rests: the server's think time
    before it answers is bounded by the session's read timeout, not by transfer speed."""
    async for chunk in body:
        yield chunk
    body.handed_over = True
    activity.paused += 1  # the attempt gives it back when it ends


async def upload_file(
    http: HttpSession,
    url: str,
    path: str | os.PathLike[str],
    *,
    method: str = "POST",
    field_name: str = "file",
    file_name: str | None = None,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: Auth | None = None,
    progress: ProgressCallback | None = None,
    scheduler: Scheduler | None = None,
    config: TransferConfig | None = None,
    content_type: str | None = None,
) -> UploadResult:
    """Upload the file at ``path`` to ``url`` as a ``multipart/form-data`` form.

    ``fields`` are sent before the file part, named ``field_name`` with ``file_name``
    (default: the file's own name, sanitised). Memory use does not grow with the file.
    Error statuses raise :mod:`pixop_async.errors` types; ``progress(sent, total)`` may be
    sync or async and is rolled back when an attempt is retried.
    """
    method = upload_args(url, path, method, field_name, headers)
    config = config or (scheduler.config if scheduler is not None else TransferConfig())
    scheduler = scheduler or Scheduler(config)
    source = Path(path)
    name = sanitize_filename(file_name or source.name, default="upload")
    ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    layout = MultipartLayout.build(
        field_name=field_name, file_name=name, content_type=ctype, fields=fields or {}
    )
    opened = await open_in_thread(_open_regular, source)
    assert opened is not None
    fd = opened
    tracker = Progress(progress, os.fstat(fd).st_size, interval=config.progress_interval)
    activity = Activity(tracker)
    attempts = _Attempts(
        http, url, fd, layout, method=method, headers=headers, auth=auth, config=config
    )
    try:
        return await guarded(attempts.run(tracker, activity, scheduler), activity, config)
    finally:
        os.close(fd)


def _open_regular(path: Path) -> int:
    """``path`` opened for reading; anything but a regular file is refused before any
    request is made (a directory would open fine on Linux and only fail mid-body)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidRequestError("path", "must be a regular file")
    return fd


class _Attempts:
    """The attempts of one upload, retried as the policy allows."""

    def __init__(
        self,
        http: HttpSession,
        url: str,
        fd: int,
        layout: MultipartLayout,
        *,
        method: str,
        headers: Mapping[str, str] | None,
        auth: Auth | None,
        config: TransferConfig,
    ) -> None:
        self.http, self.url, self.fd, self.layout = http, url, fd, layout
        self.method, self.headers, self.auth, self.config = method, headers, auth, config

    async def run(
        self, tracker: Progress, activity: Activity, scheduler: Scheduler
    ) -> UploadResult:
        http, fd, layout, method, url, auth, config = (
            self.http, self.fd, self.layout, self.method, self.url, self.auth, self.config
        )  # fmt: skip
        headers = self.headers
        policy = config.retry or http.config.retry
        started = time.monotonic()
        rand = random.Random()
        size = tracker.total or 0
        request_headers = {
            **(headers or {}),
            "Content-Type": layout.content_type,
            "Content-Length": str(layout.content_length(size)),
        }
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            body = _Body(
                fd, size, layout, progress=tracker, scheduler=scheduler, piece=config.buffer_size
            )
            try:
                async with (
                    activity.connection(scheduler),
                    http.stream(
                        method,
                        url,
                        headers=request_headers,
                        data=_watched(body, activity),
                        auth=auth,
                    ) as resp,
                ):
                    await http.raise_for_stream_status(resp)
                    payload = await resp.read_capped(MAX_RESPONSE_BODY)
                    status, response_headers = resp.status, dict(resp.headers)
                break
            except (APIConnectionError, APIStatusError) as exc:
                activity.paused -= body.handed_over
                body.handed_over = False
                tracker.rollback(body.sent)
                decision = policy.decide(
                    method,
                    attempt,
                    failure_of(exc),
                    waited=waited,
                    rand=rand.random(),
                    now=time.time(),
                )
                if not decision.retry:
                    raise with_attempts(exc, attempt) from exc.__cause__
                await asyncio.sleep(decision.delay)
                waited += decision.delay
        await tracker.finish()
        return UploadResult(
            status,
            response_headers,
            payload,
            size,
            body.crc,
            time.monotonic() - started,
        )

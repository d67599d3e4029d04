"""Scheduler, progress and multipart pieces of the transfer engine, without a network."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from pathlib import Path

import pytest

from pixop_async import download_url
from pixop_async._session import HttpSession
from pixop_async.errors import InvalidRequestError
from pixop_async.transfer.config import TransferConfig
from pixop_async.transfer.download import download
from pixop_async.transfer.progress import Progress
from pixop_async.transfer.scheduler import ByteBudget, Scheduler, TokenBucket
from pixop_async.transfer.upload import MultipartLayout, upload_file


async def test_byte_budget_blocks_until_released_in_order() -> None:
    budget = ByteBudget(10)
    assert await budget.acquire(6) == 6
    order: list[str] = []

    async def take(name: str, n: int) -> None:
        await budget.acquire(n)
        order.append(name)

    first = asyncio.ensure_future(take("a", 8))
    second = asyncio.ensure_future(take("b", 1))
    await asyncio.sleep(0.01)
    assert order == []  # b waits behind a: first come, first served
    budget.release(6)
    await asyncio.gather(first, second)
    assert order == ["a", "b"]
    assert budget.available == 1


async def test_byte_budget_cancelled_waiter_does_not_leak() -> None:
    budget = ByteBudget(4)
    await budget.acquire(4)
    waiter = asyncio.ensure_future(budget.acquire(4))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    budget.release(4)
    assert budget.available == 4


async def test_token_bucket_caps_rate() -> None:
    bucket = TokenBucket(rate=2_000_000, burst=100_000)
    started = time.monotonic()
    for _ in range(10):
        await bucket.take(100_000)
    elapsed = time.monotonic() - started
    # 1 MB at 2 MB/s with a 100 kB burst: about 0.45 s
    assert 0.35 <= elapsed <= 1.0


async def test_scheduler_connection_limit_is_global() -> None:
    scheduler = Scheduler(TransferConfig(max_connections=3))
    active = 0
    peak = 0

    async def use() -> None:
        nonlocal active, peak
        async with scheduler.connection():
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1

    await asyncio.gather(*(use() for _ in range(10)))
    assert peak == 3
    assert scheduler.peak_connections == 3
    assert scheduler.active_connections == 0


def test_buffers_shrink_with_connections_to_fit_the_budget() -> None:
    cfg = TransferConfig(memory_budget=16 * 1024 * 1024)
    assert cfg.buffer_for(1) == cfg.buffer_size == 1024 * 1024
    assert cfg.buffer_for(16) == 512 * 1024
    assert cfg.buffer_for(1000) == 256 * 1024
    assert TransferConfig(buffer_size=64 * 1024).buffer_for(1000) == 64 * 1024


def test_connections_for_applies_limits() -> None:
    cfg = TransferConfig(connections=4, max_connections_per_transfer=6, max_connections=5)
    assert cfg.connections_for(None) == 4
    assert cfg.connections_for(16) == 5
    with pytest.raises(ValueError):
        cfg.connections_for(0)
    with pytest.raises(ValueError):
        TransferConfig(part_size=0)


async def test_progress_throttles_clamps_and_rolls_back() -> None:
    calls: list[tuple[int, int | None]] = []
    now = [0.0]
    progress = Progress(lambda d, t: calls.append((d, t)), 100, interval=0.1, clock=lambda: now[0])
    await progress.advance(10)  # first call goes out
    await progress.advance(10)  # throttled
    now[0] = 0.05
    await progress.advance(10)  # still throttled
    now[0] = 0.2
    await progress.advance(90)  # 120 counted, reported as 100
    progress.rollback(50)
    now[0] = 0.4
    await progress.advance(5)
    await progress.finish()
    assert calls == [(10, 100), (100, 100), (75, 100)]


async def test_progress_accepts_async_callbacks() -> None:
    seen: list[int] = []

    async def callback(done: int, total: int | None) -> None:
        await asyncio.sleep(0)
        seen.append(done)

    progress = Progress(callback, None, interval=0)
    await progress.advance(3)
    await progress.advance(4)
    await progress.finish()
    assert seen == [3, 7]


def test_multipart_layout_parses_as_a_form() -> None:
    layout = MultipartLayout.build(
        field_name="file",
        file_name='cl"ip.mp4',
        content_type="video/mp4",
        fields={"title": "Hello", "n": "1"},
        boundary="BOUNDARY",
    )
    content = b"\x00\x01binary\r\n--BOUNDARY-not-really"
    body = layout.head + content + layout.tail
    assert layout.content_length(len(content)) == len(body)
    message = email.message_from_bytes(
        b"Content-Type: " + layout.content_type.encode() + b"\r\n\r\n" + body,
        policy=email.policy.HTTP,
    )
    parts = list(message.iter_parts())
    assert [p.get_param("name", header="content-disposition") for p in parts] == [
        "title",
        "n",
        "file",
    ]
    assert parts[0].get_content().strip() == "Hello"
    assert parts[2].get_filename() == "cl%22ip.mp4"
    assert parts[2].get_payload(decode=True) == content


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "ftp://host/file"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "/relative/path"}, "url"),
        ({"connections": 0}, "connections"),
        ({"connections": "4"}, "connections"),
        ({"part_size": 0}, "part_size"),
        ({"expected_crc32c": -1}, "expected_crc32c"),
        ({"expected_crc32c": 2**32}, "expected_crc32c"),
        ({"dest": ""}, "dest"),
    ],
)
async def test_download_arguments_are_checked_before_anything_is_sent(
    kwargs: dict[str, object], field: str, tmp_path: Path
) -> None:
    args: dict[str, object] = {"url": "https://example.invalid/f", "dest": tmp_path / "f"}
    args.update(kwargs)
    http = HttpSession()  # never used: validation comes first
    with pytest.raises(InvalidRequestError) as caught:
        await download(http, **args)  # type: ignore[arg-type]
    assert caught.value.field == field
    with pytest.raises(InvalidRequestError):
        await download_url(**args)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    assert http._session is None  # no connection was ever set up


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "mailto:x@y"}, "url"),
        ({"method": "GET"}, "method"),
        ({"method": ""}, "method"),
        ({"field_name": ""}, "field_name"),
        ({"path": ""}, "path"),
    ],
)
async def test_upload_arguments_are_checked_before_anything_is_sent(
    kwargs: dict[str, object], field: str, tmp_path: Path
) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"x")
    args: dict[str, object] = {"url": "https://example.invalid/up", "path": source}
    args.update(kwargs)
    http = HttpSession()
    with pytest.raises(InvalidRequestError) as caught:
        await upload_file(http, **args)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert http._session is None

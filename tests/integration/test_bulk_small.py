"""Small files in one worker hop, cheap reruns, skipped/resumed reporting (issues 12, 16).

A small object store on 127.0.0.1 logs every request (with its ``Range`` and
``If-None-Match``) so the tests count what a rerun costs at the server.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio
from aiohttp import web

from pixop_async import RetryPolicy
from pixop_async._session import HttpSession
from pixop_async.errors import ChecksumMismatchError, PixopError
from pixop_async.transfer import _record
from pixop_async.transfer.bulk import DownloadItem, ItemStatus, download_many
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from pixop_async.transfer.journal import identity_hash
from pixop_async.transfer.scheduler import Scheduler

from ..servers import serve
from .download_helpers import KiB, config, http

__all__ = ["http"]

MiB = 1024 * KiB


@attrs.define
class Store:
    """Objects by name; ``version`` bumps the ETag; faults: ``corrupt``/``cut`` the next N
    answers of a name (flip a byte / end the body half-way)."""

    objects: dict[str, bytes] = attrs.field(factory=dict)
    version: dict[str, int] = attrs.field(factory=dict)
    log: list[tuple[str, str | None, str | None]] = attrs.field(factory=list)
    corrupt: dict[str, int] = attrs.field(factory=dict)
    cut: dict[str, int] = attrs.field(factory=dict)
    cut_at: dict[str, int] = attrs.field(factory=dict)  # name -> range start cut once

    def etag(self, name: str) -> str:
        return f'"{crc32c(self.objects[name]):08x}-{self.version.get(name, 0)}"'

    def put(self, name: str, data: bytes) -> None:
        self.objects[name] = data
        self.version[name] = self.version.get(name, 0) + 1

    def requests_for(self, name: str) -> list[tuple[str, str | None, str | None]]:
        return [entry for entry in self.log if entry[0] == name]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        wanted, inm = request.headers.get("Range"), request.headers.get("If-None-Match")
        self.log.append((name, wanted, inm))
        data = self.objects[name]
        etag = self.etag(name)
        if inm == etag:
            return web.Response(status=304, headers={"ETag": etag})
        start, end, status = 0, len(data) - 1, 200
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        if wanted:
            first, _, last = wanted.removeprefix("bytes=").partition("-")
            start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        body = data[start : end + 1]
        if self.corrupt.get(name, 0) > 0:
            self.corrupt[name] -= 1
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(body)
        await response.prepare(request)
        if self.cut_at.get(name) == start:
            del self.cut_at[name]
            self.cut[name] = self.cut.get(name, 0) + 1
        if self.cut.get(name, 0) > 0:
            self.cut[name] -= 1
            await response.write(body[: len(body) // 2])
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(body)
        return response


@pytest_asyncio.fixture
async def store() -> AsyncIterator[tuple[Store, str]]:
    shop = Store()
    app = web.Application()
    app.router.add_get("/{name}", shop.handle)
    async with serve(app) as base:
        yield shop, base


async def test_rerun_of_an_unchanged_file_costs_one_conditional_request(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    data = os.urandom(64 * KiB)
    shop.put("a", data)
    dest = tmp_path / "a.bin"
    first = await download(http, f"{base}/a", dest, config=config())
    assert first.outcome == "downloaded" and first.bytes_fetched == len(data)
    assert [inm for _, _, inm in shop.requests_for("a")] == [None]
    again = await download(http, f"{base}/a", dest, config=config())
    assert again.outcome == "skipped" and again.skipped and again.not_modified
    assert again.bytes_fetched == 0 and again.crc32c == crc32c(data) and again.size == len(data)
    assert [inm for _, _, inm in shop.requests_for("a")] == [None, shop.etag("a")]
    assert dest.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


async def test_rerun_after_the_object_changed_downloads_it_in_the_same_request(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    shop.put("a", os.urandom(40 * KiB))
    dest = tmp_path / "a.bin"
    await download(http, f"{base}/a", dest, config=config())
    old_etag = shop.etag("a")
    newer = os.urandom(50 * KiB)
    shop.put("a", newer)
    again = await download(http, f"{base}/a", dest, config=config())
    assert again.outcome == "downloaded" and dest.read_bytes() == newer
    assert [inm for _, _, inm in shop.requests_for("a")] == [None, old_etag]


async def test_a_locally_altered_file_is_never_skipped_on_its_record(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    """Same size, same inode (so the record stays), other bytes: the 304 is not enough."""
    shop, base = store
    data = os.urandom(30 * KiB)
    shop.put("a", data)
    dest = tmp_path / "a.bin"
    await download(http, f"{base}/a", dest, config=config())
    with dest.open("r+b") as handle:
        handle.write(b"\0" * 10)
    again = await download(http, f"{base}/a", dest, config=config())
    assert again.outcome == "downloaded" and dest.read_bytes() == data
    assert [inm for _, _, inm in shop.requests_for("a")] == [None, shop.etag("a"), None]


async def test_a_file_with_the_expected_crc_is_skipped_without_a_request(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    data = os.urandom(20 * KiB)
    shop.put("a", data)
    dest = tmp_path / "a.bin"
    dest.write_bytes(data)  # no record: written by someone else
    result = await download(http, f"{base}/a", dest, expected_crc32c=crc32c(data))
    assert result.outcome == "skipped" and result.bytes_fetched == 0
    assert shop.log == []
    # same name, other bytes (the last byte flipped: b"x" was the same byte 1 time in 256)
    dest.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    fixed = await download(http, f"{base}/a", dest, expected_crc32c=crc32c(data))
    assert fixed.outcome == "downloaded" and dest.read_bytes() == data
    # and without a CRC or a record, a name alone is never trusted
    plain = tmp_path / "plain.bin"
    plain.write_bytes(data)
    assert (await download(http, f"{base}/a", plain)).outcome == "downloaded"


async def test_skip_unchanged_off_always_downloads(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    shop.put("a", os.urandom(10 * KiB))
    dest = tmp_path / "a.bin"
    await download(http, f"{base}/a", dest)
    again = await download(http, f"{base}/a", dest, skip_unchanged=False)
    assert again.outcome == "downloaded"
    assert [inm for _, _, inm in shop.requests_for("a")] == [None, None]


async def test_a_small_file_takes_two_worker_hops_and_is_fsynced_before_its_rename(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, base = store
    data = os.urandom(64 * KiB)
    shop.put("a", data)
    loop = asyncio.get_running_loop()
    hops: list[str] = []
    real_hop = loop.run_in_executor

    def counted(executor: Any, fn: Any, *args: Any) -> Any:
        hops.append(getattr(fn, "__name__", repr(fn)))
        return real_hop(executor, fn, *args)

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        synced.append("dir" if stat.S_ISDIR(mode) else f"file:{os.fstat(fd).st_size}")
        real_fsync(fd)

    monkeypatch.setattr(loop, "run_in_executor", counted)
    monkeypatch.setattr(os, "fsync", fsync)
    result = await download(http, f"{base}/a", tmp_path / "a.bin", config=config(buffer_size=MiB))
    monkeypatch.undo()
    assert result.outcome == "downloaded" and (tmp_path / "a.bin").read_bytes() == data
    assert hops == ["inspect_destination", "publish_bytes"]
    assert synced == [f"file:{len(data)}", "dir"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]  # no temp, no journal
    record = _record.read("a.bin", os.open(tmp_path, os.O_RDONLY))
    assert record is not None and record[1] == _record.Record(
        shop.etag("a"), len(data), crc32c(data), identity_hash(f"{base}/a")
    )


async def test_a_corrupt_small_answer_is_fetched_once_more_then_refused(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    data = os.urandom(16 * KiB)
    shop.put("a", data)
    shop.corrupt["a"] = 1
    result = await download(
        http, f"{base}/a", tmp_path / "a.bin", expected_crc32c=crc32c(data), config=config()
    )
    assert result.crc32c == crc32c(data) and (tmp_path / "a.bin").read_bytes() == data
    assert len(shop.requests_for("a")) == 2
    shop.corrupt["b"] = 2
    shop.put("b", data)
    with pytest.raises(ChecksumMismatchError):
        await download(
            http, f"{base}/b", tmp_path / "b.bin", expected_crc32c=crc32c(data), config=config()
        )
    assert len(shop.requests_for("b")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


async def test_a_small_answer_cut_short_is_retried(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    data = os.urandom(48 * KiB)
    shop.put("a", data)
    shop.cut["a"] = 1
    result = await download(http, f"{base}/a", tmp_path / "a.bin", config=config())
    assert (tmp_path / "a.bin").read_bytes() == data and result.size == len(data)
    assert len(shop.requests_for("a")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


async def test_download_many_rerun_reports_skipped_with_one_request_each(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    for i in range(12):
        shop.put(f"f{i}", os.urandom(8 * KiB + i))
    items = [DownloadItem(f"{base}/f{i}", tmp_path / f"f{i}") for i in range(12)]
    scheduler = Scheduler(config(max_connections=3))
    first = await download_many(http, items, scheduler=scheduler)
    assert first.summary() == "12 done, 0 skipped, 0 failed"
    assert scheduler.peak_connections <= 3
    shop.put("f5", os.urandom(100))  # one object changed on the server
    shop.log.clear()
    again = await download_many(http, items, scheduler=scheduler)
    assert again.summary() == "1 done, 11 skipped, 0 failed"
    assert [r.status for r in again.items] == [
        ItemStatus.DONE if i == 5 else ItemStatus.SKIPPED for i in range(12)
    ]
    skipped = [r.result for r in again.skipped]
    assert all(r is not None and r.outcome == "skipped" and r.bytes_fetched == 0 for r in skipped)
    assert len(shop.log) == 12  # one conditional request per item, nothing refetched
    assert all(inm is not None for _, _, inm in shop.log)
    assert (tmp_path / "f5").read_bytes() == shop.objects["f5"]


async def test_download_many_reports_resumed_items(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    data = os.urandom(512 * KiB)
    shop.put("big", data)
    shop.put("small", os.urandom(KiB))
    items = [
        DownloadItem(f"{base}/big", tmp_path / "big"),
        DownloadItem(f"{base}/small", tmp_path / "small"),
    ]
    # the first answer (bytes=0-) breaks half-way, then the request for the rest of the
    # segment breaks half-way too; retries are off
    shop.cut["big"] = 2
    broken = await download_many(
        http,
        items[:1],
        part_size=64 * KiB,
        connections=1,
        config=config(retry=RetryPolicy.disabled()),
    )
    assert broken.summary() == "0 done, 0 skipped, 1 failed"
    assert isinstance(broken.failed[0].error, PixopError)
    report = await download_many(http, items, part_size=64 * KiB, connections=1, config=config())
    assert report.summary() == "2 done (1 resumed), 0 skipped, 0 failed"
    assert [r.item.dest for r in report.resumed] == [tmp_path / "big"]
    big = report.items[0].result
    assert big is not None and big.outcome == "resumed"
    # the second break came at 384 KiB: parts 0-5 were kept (and maybe what part 6 had
    # written when it broke)
    assert len(data) - 448 * KiB <= big.bytes_fetched <= len(data) - 384 * KiB
    assert (tmp_path / "big").read_bytes() == data


async def test_a_record_disagreeing_with_the_expected_crc_sends_no_conditional_request(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    shop, base = store
    old = os.urandom(8 * KiB)
    shop.put("a", old)
    dest = tmp_path / "a.bin"
    await download(http, f"{base}/a", dest)
    newer = os.urandom(8 * KiB)
    shop.put("a", newer)  # the expected CRC32C already says the local file is stale
    result = await download(http, f"{base}/a", dest, expected_crc32c=crc32c(newer))
    assert result.outcome == "downloaded" and dest.read_bytes() == newer
    assert [inm for _, _, inm in shop.requests_for("a")] == [None, None]


async def test_a_connection_budget_beyond_the_descriptors_left_fails_no_item(
    store: tuple[Store, str], tmp_path: Path
) -> None:
    """``max_concurrent_files`` unset: files in flight follow ``max_connections`` (here 256,
    so 384 files), and still fit in what ``RLIMIT_NOFILE`` leaves."""
    import resource

    shop, base = store
    for i in range(200):
        shop.put(f"f{i}", os.urandom(4 * KiB + i))
    items = [DownloadItem(f"{base}/f{i}", tmp_path / f"f{i}") for i in range(200)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    session = HttpSession()
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 100, hard))
    try:
        report = await download_many(
            session, items, connections=1, config=config(max_connections=256)
        )
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        await session.close()
    assert report.summary() == "200 done, 0 skipped, 0 failed", [
        str(r.error) for r in report.failed
    ][:3]
    assert all((tmp_path / f"f{i}").read_bytes() == shop.objects[f"f{i}"] for i in range(200))


async def test_rerun_into_a_directory_reuses_the_published_copies(
    store: tuple[Store, str], http: HttpSession, tmp_path: Path
) -> None:
    """Server-named files: a rerun finds each object's copy (also a numbered one) by its
    recorded ETag instead of adding ``name (2)``; a changed object gets a new copy."""
    shop, base = store
    for name in ("a", "b"):
        shop.put(name, os.urandom(6 * KiB))
    pairs = [(f"{base}/a", tmp_path), (f"{base}/b", tmp_path)]
    first = await download_many(http, pairs[:2], config=config())
    assert first.summary() == "2 done, 0 skipped, 0 failed"
    (tmp_path / "a").rename(tmp_path / "a (1)")  # as if another object had taken "a"
    (tmp_path / "a").write_bytes(b"someone else's")
    again = await download_many(http, pairs[:2], config=config())
    assert again.summary() == "0 done, 2 skipped, 0 failed"
    assert [r.result.path.name for r in again.items if r.result] == ["a (1)", "b"]
    shop.put("b", os.urandom(7 * KiB))
    third = await download_many(http, pairs[1:2], config=config())
    assert third.summary() == "1 done, 0 skipped, 0 failed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "a (1)", "b", "b (1)"]
    assert (tmp_path / "b (1)").read_bytes() == shop.objects["b"]
    assert (tmp_path / "a").read_bytes() == b"someone else's"

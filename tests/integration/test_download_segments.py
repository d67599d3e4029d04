"""One long segment per connection, split when a connection frees up (real servers)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp import web

from pixop_async import RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from pixop_async.transfer.scheduler import Scheduler
from tests.servers import serve

from .download_helpers import KiB, config, http, leftovers
from .integrity_server import store

__all__ = ["http"]

PART = 64 * KiB
DATA = os.urandom(8 * PART + 123)
NO_RETRY = RetryPolicy(max_attempts=1)


def _span(header: str) -> tuple[int, int]:
    low, _, high = header[6:].partition("-")
    return int(low), int(high or len(DATA) - 1)


async def test_a_free_connection_splits_the_slow_segment_and_the_bytes_are_exact(
    http: HttpSession, tmp_path: Path
) -> None:
    # The first request (bytes=0-; its segment is parts 0-4 of 9 with two connections) sends
    # one part, then holds back until the other connection, done with its own segment, has taken the
    # second half of this one. The split is thus certain, whatever the timing.
    split_seen = asyncio.Event()
    asked: list[tuple[int, int]] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        start, end = _span(request.headers["Range"])
        asked.append((start, end))
        if 0 < start < 5 * PART:
            split_seen.set()
        headers = {"Content-Range": f"bytes {start}-{end}/{len(DATA)}", "ETag": '"v1"'}
        response = web.StreamResponse(status=206, headers=headers)
        response.content_length = end - start + 1
        await response.prepare(request)
        if start == 0:
            await response.write(DATA[:PART])
            await split_seen.wait()
            start = PART
        try:
            for offset in range(start, end + 1, PART):
                await response.write(DATA[offset : min(offset + PART, end + 1)])
        except (ConnectionError, RuntimeError):
            pass  # the client stops reading at the segment's new end
        return response

    app = web.Application()
    app.router.add_get("/f", handle)
    async with serve(app) as base:
        result = await download(
            http, base + "/f", tmp_path / "f", connections=2, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == DATA
    assert result.crc32c == crc32c(DATA)
    assert result.bytes_fetched == len(DATA)  # no byte counted twice: no overlap was written
    assert asked[0] == (0, len(DATA) - 1) and asked[1] == (5 * PART, len(DATA) - 1)
    (split,) = [a for a in asked if 0 < a[0] < 5 * PART]
    assert split[0] % PART == 0 and split[1] == 5 * PART - 1  # part-aligned, up to the cut
    assert leftovers(tmp_path) == ["f"]


async def test_an_open_ended_first_request_broken_mid_part_resumes_from_its_last_byte(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    cut = 2 * PART + 1000  # inside part 2 of the first request's (open-ended) stream
    async with store(DATA, break_at=cut, fail_from=1) as server:
        with pytest.raises(errors.ServerError):
            await download(
                http, server.url, dest, connections=1, part_size=PART,
                config=config(retry=NO_RETRY),
            )  # fmt: skip
        saved = jr.load(Target.for_path(dest).journal)
        assert saved is not None
        assert sorted(saved.done) == [0, 1]
        assert saved.partial == {2: (1000, crc32c(DATA[2 * PART : cut]))}
        server.break_at, server.fail_from = None, None
        server.seen.clear()
        result = await download(
            http, server.url, dest, connections=1, part_size=PART, expected_crc32c=crc32c(DATA),
            config=config(),
        )  # fmt: skip
    assert dest.read_bytes() == DATA
    assert result.bytes_fetched == len(DATA) - cut  # only what was missing
    ranges = [h["Range"] for h in server.seen]
    # the resume's first request asks for the first missing byte on, pinned (no bytes=0-)
    assert ranges == [f"bytes={cut}-{len(DATA) - 1}"]
    assert all(h.get("If-Match") == '"v1"' for h in server.seen)
    assert leftovers(tmp_path) == ["f"]


async def test_an_object_replaced_between_segment_requests_is_never_mixed(
    http: HttpSession, tmp_path: Path
) -> None:
    new = os.urandom(len(DATA))

    def replace_on_second(server: object, count: int) -> None:
        if count == 1:  # after the first request: the other segments meet another version
            server.replace(new, '"v2"', None)  # type: ignore[attr-defined]

    async with store(DATA) as server:
        server.before = replace_on_second
        result = await download(
            http, server.url, tmp_path / "f", connections=4, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == new
    assert result.etag == '"v2"' and result.crc32c == crc32c(new)
    pinned = [h for h in server.seen if h.get("Range") != "bytes=0-"]
    assert pinned and all("If-Match" in h and "If-Range" in h for h in pinned)
    assert leftovers(tmp_path) == ["f"]


async def test_a_store_ignoring_the_pin_still_cannot_mix_versions(
    http: HttpSession, tmp_path: Path
) -> None:
    new = os.urandom(len(DATA))

    def replace_on_second(server: object, count: int) -> None:
        if count == 1:
            server.replace(new, '"v2"', None)  # type: ignore[attr-defined]

    async with store(DATA, honour_preconditions=False) as server:
        server.before = replace_on_second
        result = await download(
            http, server.url, tmp_path / "f", connections=4, part_size=PART, config=config()
        )
    # the answers' ETag differs from the first one's: the download starts over on v2
    assert (tmp_path / "f").read_bytes() == new and result.crc32c == crc32c(new)


async def test_downloads_sharing_fewer_slots_than_they_want_all_finish(
    http: HttpSession, tmp_path: Path
) -> None:
    # two downloads of three connections each on a client limited to three: a first
    # request's slot is given back once its segment is read, segments wait for free slots,
    # and the client never holds more than its limit
    scheduler = Scheduler(config(max_connections=3))
    other = os.urandom(len(DATA))
    async with store(DATA) as first, store(other) as second:
        results = await asyncio.gather(
            download(http, first.url, tmp_path / "a", connections=3, part_size=PART,
                     scheduler=scheduler),
            download(http, second.url, tmp_path / "b", connections=3, part_size=PART,
                     scheduler=scheduler),
        )  # fmt: skip
    assert (tmp_path / "a").read_bytes() == DATA and (tmp_path / "b").read_bytes() == other
    assert [r.crc32c for r in results] == [crc32c(DATA), crc32c(other)]
    assert scheduler.peak_connections <= 3
    assert len(first.seen) >= 3 and len(second.seen) >= 3  # one request per segment at least


async def test_a_capped_answer_to_the_open_ended_first_request_is_continued(
    http: HttpSession, tmp_path: Path
) -> None:
    # some stores answer an open-ended range with a shorter one (Content-Range says so);
    # the first segment then continues from where that answer stopped (bounded ranges
    # must still be answered exactly, see test_wrong_content_range_is_refused)
    cap = 3 * PART - 100
    asked: list[tuple[int, int]] = []

    async def handle(request: web.Request) -> web.Response:
        start, end = _span(request.headers["Range"])
        asked.append((start, end))
        if request.headers["Range"].endswith("-"):
            end = min(end, start + cap - 1)
        headers = {"Content-Range": f"bytes {start}-{end}/{len(DATA)}", "ETag": '"v1"'}
        return web.Response(status=206, body=DATA[start : end + 1], headers=headers)

    app = web.Application()
    app.router.add_get("/f", handle)
    async with serve(app) as base:
        result = await download(
            http, base + "/f", tmp_path / "f", connections=2, part_size=PART, config=config()
        )
    assert (tmp_path / "f").read_bytes() == DATA and result.crc32c == crc32c(DATA)
    assert result.bytes_fetched == len(DATA)
    assert asked[0] == (0, len(DATA) - 1)
    # the rest of the first segment was asked for from the cap on, up to a part boundary
    # (the segment's end, or an earlier one if a free connection split it meanwhile)
    assert [a for a in asked if a[0] == cap and (a[1] + 1) % PART == 0]

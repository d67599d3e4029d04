"""Every media fault of the emulator ends in the exact bytes or a typed error, nothing partial."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.media import MediaFault
from pixop_async.errors import PermissionDeniedError, ServerError, TransferError
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.config import TransferConfig
from pixop_async.transfer.download import DownloadResult, download

from .download_helpers import KiB, config, controls, http, leftovers, serve

__all__ = ["http"]

PART = 128 * KiB


async def _get(
    http: HttpSession,
    url: str,
    dest: Path,
    crc: int | None,
    *,
    cfg: TransferConfig | None = None,
    connections: int = 4,
    **kw: Any,
) -> DownloadResult:
    return await download(
        http,
        url,
        dest,
        connections=connections,
        part_size=PART,
        expected_crc32c=crc,
        config=cfg or config(),
        **kw,
    )


@pytest.mark.parametrize("kind", ["reset", "truncate"])
async def test_broken_stream_resumes_from_its_last_byte(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path, kind: str
) -> None:
    src = serve(pixop_emulator, os.urandom(1024 * KiB))
    ctl = controls(pixop_emulator)
    cut = 3 * PART + 100 * KiB  # inside the fourth part
    ctl.add(MediaFault(kind, at=cut))  # type: ignore[arg-type]
    # one connection: one request for the whole object, which breaks inside the fourth part
    result = await _get(http, src.url, tmp_path / "f", src.crc, connections=1)
    assert (tmp_path / "f").read_bytes() == src.data
    assert result.bytes_fetched == len(src.data)  # nothing received was thrown away
    resumed = [s for s in ctl.served if 3 * PART < s[0] < 4 * PART]
    # the retry asked for the rest only: from the first byte not on disk to the end
    assert resumed and resumed[0][1] == len(src.data) - 1
    assert len(ctl.served) == 2
    assert leftovers(tmp_path) == ["f"]


async def test_corrupted_byte_refetches_the_damaged_part(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(1024 * KiB))
    ctl = controls(pixop_emulator)
    ctl.add(MediaFault("corrupt", at=5 * PART + 7))
    result = await _get(http, src.url, tmp_path / "f", src.crc, connections=1)
    assert (tmp_path / "f").read_bytes() == src.data
    assert result.crc32c == src.crc
    assert result.bytes_fetched > len(src.data)
    assert leftovers(tmp_path) == ["f"]


async def test_corruption_on_every_fetch_raises_and_leaves_nothing(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(512 * KiB))
    controls(pixop_emulator).add(MediaFault("corrupt", at=PART + 1, times=5))
    from pixop_async.errors import ChecksumMismatchError

    with pytest.raises(ChecksumMismatchError):
        await _get(http, src.url, tmp_path / "f", src.crc)
    assert leftovers(tmp_path) == []


async def test_burst_of_503s_is_retried(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(512 * KiB))
    controls(pixop_emulator).add(
        MediaFault("status", status=503, times=3, at=2 * PART, headers={"Retry-After": "0"})
    )
    await _get(http, src.url, tmp_path / "f", src.crc)
    assert (tmp_path / "f").read_bytes() == src.data


async def test_429_retry_after_is_honoured(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(256 * KiB))
    controls(pixop_emulator).add(
        MediaFault("status", status=429, at=PART, headers={"Retry-After": "0.3"})
    )
    started = time.monotonic()
    await _get(http, src.url, tmp_path / "f", src.crc)
    assert time.monotonic() - started >= 0.3
    assert (tmp_path / "f").read_bytes() == src.data


async def test_endless_503s_give_a_typed_error_and_no_file(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(512 * KiB))
    ctl = controls(pixop_emulator)
    # the first request breaks inside part 3; every request for the rest answers 503
    ctl.add(MediaFault("status", status=503, times=100, at=3 * PART, skip=1))
    ctl.add(MediaFault("reset", at=3 * PART))
    with pytest.raises(ServerError) as caught:
        await _get(http, src.url, tmp_path / "f", src.crc, connections=1)
    assert caught.value.status == 503
    assert caught.value.attempts == 4  # the retry policy's limit, stated in the error
    assert "after 4 attempts" in str(caught.value)
    assert not (tmp_path / "f").exists()
    # what did arrive stays beside it, journaled, for the next attempt to resume
    assert leftovers(tmp_path) == ["f.pixop-part", "f.pixop-part.journal"]


async def test_etag_change_mid_download_starts_over(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(1024 * KiB))
    ctl = controls(pixop_emulator)
    ctl.add(MediaFault("etag_change", skip=3))
    result = await _get(http, src.url, tmp_path / "f", src.crc)
    assert (tmp_path / "f").read_bytes() == src.data
    assert result.etag is not None and result.etag.endswith('-v1"')
    # the first version's segments were abandoned: a new first request and segments again
    assert len(ctl.served) > 4 and ctl.served.count((0, len(src.data) - 1)) == 2
    assert leftovers(tmp_path) == ["f"]


async def test_object_that_keeps_changing_fails_cleanly(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(1024 * KiB))
    ctl = controls(pixop_emulator)
    ctl.add(MediaFault("etag_change", skip=2, times=1000))  # a new version on every request
    with pytest.raises(TransferError, match="kept changing"):
        await _get(http, src.url, tmp_path / "f", None)
    assert leftovers(tmp_path) == []


async def test_expired_url_is_renewed_mid_download(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(1024 * KiB))
    controls(pixop_emulator).add(MediaFault("expire", skip=2))
    renewed: list[str] = []

    async def refresh() -> str:
        fresh = serve(pixop_emulator, src.data).url  # same bytes, new object URL
        renewed.append(fresh)
        return fresh

    result = await _get(
        http, src.url, tmp_path / "f", src.crc, refresh_url=refresh, identity="video-1"
    )
    assert (tmp_path / "f").read_bytes() == src.data
    assert len(renewed) >= 1
    assert result.size == len(src.data)


async def test_expired_url_without_renewal_is_permission_denied(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(256 * KiB), expires_in=60)
    pixop_emulator.state.clock.advance(120)
    with pytest.raises(PermissionDeniedError):
        await _get(http, src.url, tmp_path / "f", None)
    assert leftovers(tmp_path) == []


async def test_url_is_renewed_before_its_known_expiry(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(100 * KiB))
    calls = 0

    async def refresh() -> tuple[str, float]:
        nonlocal calls
        calls += 1
        return src.url, time.time() + 3600

    # the first URL would not even connect; it must never be used
    result = await _get(
        http,
        "http://127.0.0.1:9/never",
        tmp_path / "f",
        src.crc,
        refresh_url=refresh,
        url_expires_at=time.time() - 1,
    )
    assert calls == 1
    assert result.size == len(src.data)


async def test_cancelled_download_resumes_from_its_journal(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(2048 * KiB))
    ctl = controls(pixop_emulator)
    ctl.rate_limit = 4 * 1024 * KiB
    dest = tmp_path / "f"
    target = Target.for_path(dest)
    task = asyncio.ensure_future(
        _get(http, src.url, dest, src.crc, cfg=config(journal_interval=0.05))
    )
    for _ in range(200):
        await asyncio.sleep(0.02)
        saved = jr.load(target.journal)
        if saved is not None and len(saved.done) >= 4:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    saved = jr.load(target.journal)
    assert saved is not None and 4 <= len(saved.done) < 16
    on_disk = target.temp.read_bytes()
    for index, crc in saved.done.items():  # the journal only lists parts fully on disk
        assert crc32c(on_disk[index * PART : (index + 1) * PART]) == crc
    assert not dest.exists()
    for index, (written, crc) in saved.partial.items():  # and in-flight progress likewise
        assert 0 < written < PART
        assert crc32c(on_disk[index * PART : index * PART + written]) == crc
    kept = len(saved.done) * PART + sum(w for w, _ in saved.partial.values())
    ctl.rate_limit = None
    result = await _get(http, src.url, dest, src.crc)
    assert dest.read_bytes() == src.data
    assert result.bytes_fetched == len(src.data) - kept  # nothing on disk was fetched again
    assert leftovers(tmp_path) == ["f"]


async def test_new_version_between_runs_starts_over(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(1024 * KiB))
    ctl = controls(pixop_emulator)
    ctl.rate_limit = 256 * KiB
    dest = tmp_path / "f"
    target = Target.for_path(dest)
    task = asyncio.ensure_future(_get(http, src.url, dest, None, cfg=config(journal_interval=0.02)))
    for _ in range(200):
        await asyncio.sleep(0.02)
        saved = jr.load(target.journal)
        if saved is not None and saved.done:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    ctl.rate_limit = None
    new_data = os.urandom(1024 * KiB)
    src.path.write_bytes(new_data)  # a new object version: a new ETag
    result = await _get(http, src.url, dest, None)
    assert dest.read_bytes() == new_data
    assert result.bytes_fetched == len(new_data)
    assert leftovers(tmp_path) == ["f"]


async def test_rate_limit_applies_per_connection(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    src = serve(pixop_emulator, os.urandom(512 * KiB))
    controls(pixop_emulator).rate_limit = 1024 * KiB
    started = time.monotonic()
    await _get(http, src.url, tmp_path / "one", None, connections=1)
    single = time.monotonic() - started
    started = time.monotonic()
    await _get(http, src.url, tmp_path / "four", None)
    parallel = time.monotonic() - started
    assert single >= 0.4  # 512 KiB at 1 MiB/s on one connection, reused for every part
    assert parallel < single * 0.6  # four connections, four budgets
    assert (tmp_path / "four").read_bytes() == src.data

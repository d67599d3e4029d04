"""Legacy media service: uploads, ranged downloads, HEAD, 304, hostile file names, and a
bulk run across several JWT expiries."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from pixop_async import PixopLegacy, errors
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.faults import Fault
from pixop_async.emulator.legacy import legacy_store
from pixop_async.polling import PollIntervals
from pixop_async.transfer import TransferConfig, crc32c_file
from tests.integration.legacy_helpers import legacy_client

FAST = PollIntervals(minimum=0.02, maximum=0.1)
LIFETIME = 1.2
#: Emulator and token-clock time between two rounds of the bulk test below: every third
#: round falls in the last quarter of a token's life, where the client refreshes early.
STEP = 0.35


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=40.0, jwt_lifetime_seconds=LIFETIME)


@pytest_asyncio.fixture
async def legacy(pixop_emulator: EmulatorServer) -> AsyncIterator[PixopLegacy]:
    async with legacy_client(
        pixop_emulator, transfer=TransferConfig(part_size=256 * 1024, fsync=False)
    ) as client:
        yield client


def media_file(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


async def test_upload_download_head_roundtrip(legacy: PixopLegacy, tmp_path: Path) -> None:
    source = media_file(tmp_path, "master.mov", 1_500_000)
    created = await legacy.videos.create(name="master")
    seen: list[int] = []
    receipt = await legacy.media.upload(
        created.video_id, source, progress=lambda done, total: seen.append(done)
    )
    assert receipt.video_id == created.video_id
    assert receipt.check_ingest_progress_url and receipt.process_video_url
    assert seen and seen[-1] == source.stat().st_size
    video = await legacy.videos.get(created.video_id)
    assert video.upload is not None and video.upload.file_name == "master.mov"
    assert video.upload.file_size == source.stat().st_size
    assert video.upload.file_type == "video/quicktime"

    info = await legacy.media.head_original(created.video_id)
    assert info.size == source.stat().st_size
    assert info.etag and info.file_name == "master.mov"

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = await legacy.media.download_original(created.video_id, out_dir, connections=4)
    assert result.path == out_dir / "master.mov"
    assert result.path.read_bytes() == source.read_bytes()
    assert result.crc32c == await crc32c_file(source)
    assert result.etag == info.etag

    with pytest.raises(errors.ConflictError) as twice:
        await legacy.media.upload(created.video_id, source)
    assert twice.value.error_code == "MediaAlreadyUploadedException"


async def test_processed_media_download(legacy: PixopLegacy, tmp_path: Path) -> None:
    source = media_file(tmp_path, "old.mp4", 300_000)
    created = await legacy.videos.create(name="old")
    await legacy.media.upload(created.video_id, source)
    await legacy.videos.wait_ingested(created.video_id, timeout=10, intervals=FAST)
    started = await legacy.videos.process(created.video_id, tag="uhd_4k", container="mov")
    with pytest.raises(errors.NotFoundError) as early:
        await legacy.media.download_processed(started.processed_video_id, tmp_path / "early.mov")
    assert early.value.error_code == "MediaNotFoundException"
    assert not (tmp_path / "early.mov").exists()
    await legacy.videos.wait_processed(started.processed_video_id, timeout=10, intervals=FAST)
    head = await legacy.media.head_processed(started.processed_video_id)
    assert head.file_name == "old_pixop.mov"
    result = await legacy.media.download_processed(started.processed_video_id, tmp_path)
    assert result.path.name == "old_pixop.mov"
    assert result.size == head.size > source.stat().st_size
    assert result.path.read_bytes().endswith(source.read_bytes())


async def test_not_modified_leaves_the_local_file_untouched(
    legacy: PixopLegacy, tmp_path: Path
) -> None:
    source = media_file(tmp_path, "a.mp4", 200_000)
    created = await legacy.videos.create()
    await legacy.media.upload(created.video_id, source)
    target = tmp_path / "copy.mp4"
    first = await legacy.media.download_original(created.video_id, target)
    os.utime(target, (1_000_000, 1_000_000))
    stat_before = target.stat()
    again = await legacy.media.download_original(created.video_id, target, if_none_match=first.etag)
    assert again.not_modified is True
    assert again.bytes_fetched == 0
    assert target.stat().st_mtime == stat_before.st_mtime
    assert target.stat().st_ino == stat_before.st_ino
    assert target.read_bytes() == source.read_bytes()
    changed = await legacy.media.download_original(
        created.video_id, tmp_path / "fresh.mp4", if_none_match='"some-other-etag"'
    )
    assert changed.not_modified is False and changed.size == 200_000


@pytest.mark.parametrize(
    ("stored_name", "expected"),
    [
        ("../../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.mov", "evil.mov"),
        ("ctl\x01\x1fchars.mp4", "ctl__chars.mp4"),
        ("..", None),
        ("/abs/path/.hidden.mp4", "hidden.mp4"),
        ("x" * 600 + ".mp4", None),
    ],
)
async def test_hostile_content_disposition_names_are_sanitised(
    legacy: PixopLegacy,
    pixop_emulator: EmulatorServer,
    tmp_path: Path,
    stored_name: str,
    expected: str | None,
) -> None:
    source = media_file(tmp_path, "fine.mp4", 5_000)
    created = await legacy.videos.create()
    await legacy.media.upload(created.video_id, source)
    legacy_store(pixop_emulator.app).videos[str(created.video_id)]["upload"]["fileName"] = (
        stored_name
    )
    out_dir = tmp_path / "safe"
    out_dir.mkdir()
    info = await legacy.media.head_original(created.video_id)
    result = await legacy.media.download_original(created.video_id, out_dir)
    assert result.path.parent == out_dir
    assert list(out_dir.iterdir()) == [result.path]
    name = result.path.name
    assert info.file_name in (name, None)
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert all(ord(ch) >= 32 for ch in name)
    assert len(name.encode()) <= 255
    if expected is not None:
        assert name == expected
    assert result.path.read_bytes() == source.read_bytes()


async def test_download_survives_a_reset_mid_transfer(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    source = media_file(tmp_path, "big.mp4", 1_200_000)
    created = await legacy.videos.create()
    await legacy.media.upload(created.video_id, source)
    pixop_emulator.faults.add(Fault(reset=True, times=2, path="/media/v1/download/original/"))
    result = await legacy.media.download_original(created.video_id, tmp_path / "b.mp4")
    assert result.crc32c == await crc32c_file(source)
    assert pixop_emulator.faults.hits == 2


async def test_media_input_validation(legacy: PixopLegacy, tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidRequestError) as missing:
        await legacy.media.upload(uuid.uuid4(), tmp_path / "nope.mp4")
    assert missing.value.field == "path"
    with pytest.raises(errors.InvalidRequestError) as vid:
        await legacy.media.download_original("x", tmp_path)
    assert vid.value.field == "video_id"
    with pytest.raises(errors.InvalidRequestError) as conns:
        await legacy.media.download_original(uuid.uuid4(), tmp_path, connections=0)
    assert conns.value.field == "connections"
    assert legacy.jwt_auth.refresh_count == 0
    with pytest.raises(errors.NotFoundError):
        await legacy.media.head_original(uuid.uuid4())


class VirtualTime:
    """One clock for the emulator and the client's token schedule that moves only when the
    test says: a round of transfers takes no time on it, however slow the machine."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now


async def test_bulk_transfers_across_token_expiries(
    legacy: PixopLegacy,
    pixop_emulator: EmulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Uploads and downloads keep going for several token lifetimes: no error reaches the
    caller, no request is refused, and each expiry costs exactly one token fetch.

    Time moves 0.35 s between rounds and stands still within one (on the emulator's
    clock, which issues and checks the tokens, and on the client's, which schedules the
    refreshes): a loaded machine cannot stretch a request across an expiry (a refusal the
    client answers with a replay, tested on its own below)."""
    store = legacy_store(pixop_emulator.app)
    assert store.issued_tokens == legacy.jwt_auth.refresh_count == 0
    clock = VirtualTime(pixop_emulator.state.clock.time())
    monkeypatch.setattr(pixop_emulator.state.clock, "time", clock.time)
    monkeypatch.setattr(legacy.jwt_auth, "_clock", clock.time)
    monkeypatch.setattr(legacy.jwt_auth, "_wall_clock", clock.time)
    sources = [media_file(tmp_path, f"s{i}.mp4", 400_000) for i in range(4)]
    started = clock.time()
    rounds = 0
    while clock.time() - started < 3 * LIFETIME + 0.3:
        rounds += 1
        created = await asyncio.gather(*(legacy.videos.create() for _ in sources))
        await asyncio.gather(
            *(legacy.media.upload(c.video_id, s) for c, s in zip(created, sources, strict=True))
        )
        results = await asyncio.gather(
            *(
                legacy.media.download_original(
                    c.video_id, tmp_path / f"r{rounds}-{i}.mp4", connections=4
                )
                for i, c in enumerate(created)
            )
        )
        for result, source in zip(results, sources, strict=True):
            assert result.size == source.stat().st_size
        clock.now += STEP
    elapsed = clock.time() - started
    assert not store.rejections or sum(store.rejections.values()) == 0, store.rejections
    fetches = store.issued_tokens
    assert fetches == legacy.jwt_auth.refresh_count
    expiries = int(elapsed // LIFETIME)
    assert expiries >= 3
    # One fetch per token lifetime (refreshed a quarter-lifetime early), never two per expiry.
    gaps = [b - a for a, b in zip(store.issued_times, store.issued_times[1:], strict=False)]
    assert all(gap >= LIFETIME * 0.75 - 0.1 for gap in gaps), gaps
    assert expiries <= fetches <= int(elapsed / (LIFETIME * 0.75)) + 1
    # On this schedule exactly: at 0, then at the first round past each refresh time
    # (0.9 s after the token came, not at its expiry 1.2 s after): 1.05, 2.1, 3.15 s.
    assert rounds == 12 and fetches == 4, (rounds, fetches)
    assert gaps == pytest.approx([3 * STEP] * 3), gaps


async def test_transfers_replay_once_after_a_server_side_expiry(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    store = legacy_store(pixop_emulator.app)
    source = media_file(tmp_path, "late.mp4", 300_000)
    created = await legacy.videos.create()
    pixop_emulator.state.clock.advance(LIFETIME + 5)  # the held token is dead server-side
    await legacy.media.upload(created.video_id, source)
    assert store.rejections["ExpiredJWTTokenException"] == 1
    pixop_emulator.state.clock.advance(LIFETIME + 5)
    results = await asyncio.gather(
        *(
            legacy.media.download_original(created.video_id, tmp_path / f"late-{i}.mp4")
            for i in range(3)
        )
    )
    crc = await crc32c_file(source)
    assert [r.crc32c for r in results] == [crc] * 3
    # Transfers refused with the same dead token share one refresh. (Each claims its file
    # in a worker thread before its first request, so a late one may already carry the
    # fresh token: 1 to 3 of them are refused, never one more than that.)
    assert 2 <= store.rejections["ExpiredJWTTokenException"] <= 4
    assert store.issued_tokens == legacy.jwt_auth.refresh_count == 3


async def test_one_slow_download_spans_a_token_refresh(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    """Parts started after the refresh carry the new token (auth is asked per request)."""
    store = legacy_store(pixop_emulator.app)
    slow = TransferConfig(part_size=128 * 1024, bandwidth_limit=1_000_000, fsync=False)
    async with legacy_client(pixop_emulator, transfer=slow) as client:
        source = media_file(tmp_path, "long.mp4", 1_600_000)
        created = await client.videos.create()
        await client.media.upload(created.video_id, source)
        before = store.issued_tokens
        started = time.monotonic()
        result = await client.media.download_original(
            created.video_id, tmp_path / "long-copy.mp4", connections=2
        )
        assert time.monotonic() - started > LIFETIME
        assert result.crc32c == await crc32c_file(source)
        assert store.issued_tokens > before
        assert sum(store.rejections.values()) == 0

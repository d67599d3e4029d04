"""Issue 10: a resume journal saves work and never vouches for bytes.

An interrupted download (the store starts answering 503) leaves its temp file and journal;
the tests then damage one or the other the way a crash or a hostile user would, and the
rerun must end with the exact bytes and a CRC32C computed from them.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pixop_async import RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.transfer import journal as jr
from pixop_async.transfer._target import Target
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, http
from .integrity_server import Store, store

PART = 64 * KiB
DATA = os.urandom(6 * PART + 99)
NO_RETRY = RetryPolicy(max_attempts=1)
SECRET = "X-Amz-Signature=topsecretsignature0123"

__all__ = ["http"]


async def _run(http: HttpSession, server: Store, dest: Path, **kwargs: Any) -> Any:
    settings: dict[str, Any] = {"part_size": PART, "connections": 1, "config": config()}
    settings.update(kwargs)
    return await download(http, server.url + "?" + SECRET, dest, **settings)


async def _interrupted(http: HttpSession, server: Store, dest: Path) -> Target:
    """Three parts fetched and journaled, then the store fails: the first answer breaks
    off after three parts, and every later request gets a 503."""
    server.break_at, server.fail_from = 3 * PART, 1
    with pytest.raises(errors.ServerError):
        await _run(http, server, dest, config=config(retry=NO_RETRY))
    server.break_at, server.fail_from = None, None
    target = Target.for_path(dest)
    saved = jr.load(target.journal)
    assert saved is not None and sorted(saved.done) == [0, 1, 2]
    return target


def _ranges(server: Store) -> list[str]:
    return [h["Range"] for h in server.seen if "Range" in h]


async def test_journal_holds_no_url_credential_and_is_private(
    http: HttpSession, tmp_path: Path
) -> None:
    async with store(DATA) as server:
        target = await _interrupted(http, server, tmp_path / "f")
    raw = target.journal.read_bytes()
    assert b"topsecret" not in raw and b"X-Amz" not in raw and b"127.0.0.1" not in raw
    assert stat.S_IMODE(target.journal.stat().st_mode) == 0o600


async def test_a_part_that_never_reached_the_disk_is_fetched_again(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(DATA) as server:
        target = await _interrupted(http, server, dest)
        with open(target.temp, "r+b") as handle:  # the journal lists part 1; its bytes are lost
            handle.seek(PART)
            handle.write(bytes(PART))
        server.seen.clear()
        result = await _run(http, server, dest)  # no expected CRC: only the disk can tell
    assert dest.read_bytes() == DATA
    assert result.crc32c == crc32c(DATA)
    assert f"bytes={PART}-{2 * PART - 1}" in _ranges(server)
    assert f"bytes={2 * PART}-{3 * PART - 1}" not in _ranges(server)  # a good part is kept


async def test_a_journal_with_a_wrong_crc_cannot_vouch_for_a_part(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(DATA) as server:
        target = await _interrupted(http, server, dest)
        saved = json.loads(target.journal.read_text())
        saved["done"]["2"] ^= 1
        target.journal.write_text(json.dumps(saved))
        server.seen.clear()
        result = await _run(http, server, dest, expected_crc32c=crc32c(DATA))
    assert dest.read_bytes() == DATA and result.crc32c == crc32c(DATA)
    # part 2 and the missing parts after it come in one request; parts 0 and 1 are kept.
    # The first request, shaped by the journal before the disk was read, asked for the
    # first byte the journal claimed missing; its answer could not be used (the lie)
    assert _ranges(server) == [
        f"bytes={3 * PART}-{len(DATA) - 1}",
        f"bytes={2 * PART}-{len(DATA) - 1}",
    ]


def _mutations() -> list[tuple[str, Any]]:
    def edit(**changes: Any) -> Any:
        return lambda saved: {**saved, **changes}

    return [
        ("not-json", lambda saved: b"\x00{garbage"),
        ("a-list", lambda saved: [1, 2, 3]),
        ("old-version-with-url", edit(version=1)),
        ("bool-size", edit(size=True)),
        ("float-part-size", edit(partSize=65536.0)),
        ("one-byte-parts", edit(partSize=1)),
        ("huge-part-size", edit(partSize=2**60)),
        ("part-out-of-range", lambda saved: {**saved, "done": {"999": 1}}),
        ("negative-crc", lambda saved: {**saved, "done": {"0": -1}}),
        ("crc-too-big", lambda saved: {**saved, "done": {"0": 2**40}}),
        ("partial-longer-than-part", lambda saved: {**saved, "partial": {"4": [PART * 2, 0]}}),
        ("partial-not-a-pair", lambda saved: {**saved, "partial": {"4": 7}}),
        ("index-not-a-number", lambda saved: {**saved, "done": {"x": 1}}),
        ("deep-nesting", lambda saved: b"[" * 100_000),
        ("huge-number", lambda saved: b'{"version": 2, "size": 1' + b"0" * 5000 + b"}"),
    ]


MUTATIONS = _mutations()


@pytest.mark.parametrize("mutate", [m[1] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
async def test_a_bad_journal_is_discarded_with_a_warning_and_the_download_starts_afresh(
    http: HttpSession, tmp_path: Path, caplog: pytest.LogCaptureFixture, mutate: Any
) -> None:
    dest = tmp_path / "f"
    async with store(DATA) as server:
        target = await _interrupted(http, server, dest)
        changed = mutate(json.loads(target.journal.read_text()))
        target.journal.write_bytes(
            changed if isinstance(changed, bytes) else json.dumps(changed).encode()
        )
        caplog.set_level(logging.WARNING, logger="pixop_async.transfer")
        server.seen.clear()
        result = await _run(http, server, dest)
    assert dest.read_bytes() == DATA and result.crc32c == crc32c(DATA)
    assert "resume journal" in caplog.text
    # everything fetched again, in one stream from the first byte: the journal saved nothing
    assert _ranges(server) == ["bytes=0-"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


async def test_a_journal_planted_as_a_link_is_not_followed(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(DATA) as server:
        target = await _interrupted(http, server, dest)
        real = tmp_path / "elsewhere.json"
        target.journal.rename(real)
        before = real.read_bytes()
        target.journal.symlink_to(real)
        result = await _run(http, server, dest)
    assert dest.read_bytes() == DATA and result.crc32c == crc32c(DATA)
    assert real.read_bytes() == before  # the link target was neither used nor written


async def test_a_200_to_the_ranges_of_a_resume_gives_one_fresh_stream(
    http: HttpSession, tmp_path: Path
) -> None:
    dest = tmp_path / "f"
    async with store(DATA) as server:
        target = await _interrupted(http, server, dest)
        with open(target.temp, "r+b") as handle:  # junk where nothing was fetched yet
            handle.seek(5 * PART)
            handle.write(b"junk")
        server.ignore_ranges = True
        server.seen.clear()
        result = await _run(http, server, dest)
    assert dest.read_bytes() == DATA and result.crc32c == crc32c(DATA)
    assert len(server.seen) == 1 and result.pinned is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]

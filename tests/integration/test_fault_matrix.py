"""The fault matrix for downloads: one table, every media fault of the emulator.

Each row queues faults on the emulator's media serving and runs one download. The row
ends either with the exact bytes at the final path (CRC32C equal, nothing else left in
the directory) or with the typed error the row names and *nothing at the final path*.
A last test runs a bulk download with a faulty item among good ones: the report names
the failed item and every other file is kept.

Related cases proven elsewhere: kill -9 then resume
(test_download_kill.py::test_kill_9_then_resume_refetches_at_most_in_flight_parts), JWT
expiry during legacy transfers (test_fault_matrix_more.py), cancellation and ENOSPC
(test_fault_cancel.py), stalls and lying servers (test_hostile_transfers.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from pixop_async import RetryPolicy
from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.media import MediaFault
from pixop_async.errors import (
    APIConnectionError,
    ChecksumMismatchError,
    PermissionDeniedError,
    PixopError,
    RateLimitError,
    ServerError,
    TransferError,
)
from pixop_async.retry import RetryDecision
from pixop_async.transfer.bulk import DownloadItem, ItemStatus, download_many
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, controls, http, leftovers, serve

__all__ = ["http"]

PART = 64 * KiB
SIZE = 8 * PART + 1234  # nine parts, the last one short


class RecordingPolicy(RetryPolicy):
    """The fast test policy, remembering every decision it made."""

    def decide(self, *args: Any, **kwargs: Any) -> RetryDecision:
        decision = super().decide(*args, **kwargs)
        self.__dict__.setdefault("decisions", []).append(decision)
        return decision

    @property
    def decisions(self) -> list[RetryDecision]:
        return self.__dict__.setdefault("decisions", [])


def _policy() -> RecordingPolicy:
    return RecordingPolicy(base_delay=0.01, max_delay=0.05, max_total_delay=5.0)


Faults = Callable[[], list[MediaFault]]


@attrs.frozen
class Case:
    """One row: the faults to queue and what must come out."""

    id: str
    faults: Faults
    error: type[PixopError] | None = None  # None: the exact bytes must arrive
    renew: bool = False  # hand the download a refresh_url
    min_delay: float = 0.0  # a retry must have waited at least this long (server advice)


def _burst(status: int, times: int = 3, **headers: str) -> Faults:
    return lambda: [MediaFault("status", status=status, times=times, at=2 * PART, headers=headers)]


CASES = [
    Case("reset-mid-body", lambda: [MediaFault("reset", at=3 * PART + 5000)]),
    Case("reset-in-first-part", lambda: [MediaFault("reset", at=100)]),
    Case("truncated-body", lambda: [MediaFault("truncate", at=5 * PART + 1)]),
    Case("truncated-last-part", lambda: [MediaFault("truncate", at=SIZE - 10)]),
    Case("corrupted-byte", lambda: [MediaFault("corrupt", at=4 * PART + 77)]),
    Case("500-burst", _burst(500)),
    Case("502-burst", _burst(502)),
    Case("503-burst", _burst(503)),
    Case("504-burst", _burst(504)),
    Case("429-retry-after", _burst(429, 1, **{"Retry-After": "0.2"}), min_delay=0.2),
    Case(
        "429-ratelimit-reset",
        _burst(429, 1, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0.2"}),
        min_delay=0.2,
    ),
    Case("etag-change", lambda: [MediaFault("etag_change", skip=3)]),
    Case("url-expires-renewed", lambda: [MediaFault("expire", skip=3)], renew=True),
    Case("every-fault-at-once", lambda: [
        MediaFault("reset", at=PART + 10),
        MediaFault("corrupt", at=6 * PART + 3),
        MediaFault("status", status=503, times=2, at=7 * PART),
        MediaFault("expire", skip=5),
    ], renew=True),
    # the failures: a typed error and nothing at the final path
    Case("endless-503", _burst(503, 100), error=ServerError),
    Case("endless-429", _burst(429, 100, **{"Retry-After": "0"}), error=RateLimitError),
    Case("endless-reset", lambda: [MediaFault("reset", at=2 * PART + 9, times=100)],
         error=APIConnectionError),
    Case("endless-corruption", lambda: [MediaFault("corrupt", at=PART + 1, times=100)],
         error=ChecksumMismatchError),
    Case("url-expires-no-renewal", lambda: [MediaFault("expire", skip=2)],
         error=PermissionDeniedError),
    Case("etag-keeps-changing", lambda: [MediaFault("etag_change", skip=2, times=1000)],
         error=TransferError),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_download_fault_matrix(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path, case: Case
) -> None:
    data = os.urandom(SIZE)
    src = serve(pixop_emulator, data)
    ctl = controls(pixop_emulator)
    for fault in case.faults():
        ctl.add(fault)
    policy = _policy()
    renewals = 0

    async def refresh() -> str:
        nonlocal renewals
        renewals += 1
        return serve(pixop_emulator, data).url  # the same bytes under a new URL

    out = tmp_path / "out"
    out.mkdir()
    dest = out / "video.mp4"
    kwargs: dict[str, Any] = {"refresh_url": refresh, "identity": "v1"} if case.renew else {}
    run = download(
        http,
        src.url,
        dest,
        connections=4,
        part_size=PART,
        expected_crc32c=crc32c(data),
        config=config(retry=policy),
        **kwargs,
    )
    if case.error is None:
        result = await run
        assert dest.read_bytes() == data
        assert result.crc32c == crc32c(data) and result.size == SIZE
        assert leftovers(out) == ["video.mp4"]  # no temp file, no journal
        if case.renew:
            assert renewals >= 1
        if case.min_delay:
            assert max(d.delay for d in policy.decisions if d.retry) >= case.min_delay
        return
    with pytest.raises(case.error) as raised:
        await run
    assert not dest.exists()
    text = f"{raised.value} {raised.value!r}"
    assert "pixop-part" not in text  # messages name no temp internals
    assert src.url.partition("?")[2] not in text  # nor the pre-signed URL's signature
    assert all(name.endswith((".pixop-part", ".journal")) for name in leftovers(out))


async def test_bulk_run_reports_the_failed_item_and_keeps_the_others(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    sources = [serve(pixop_emulator, os.urandom(3 * PART + i)) for i in range(5)]
    ctl = controls(pixop_emulator)
    doomed = sources[2].url.split("/media-store/")[1].split("?")[0]
    ctl.add(MediaFault("status", status=503, times=1000, path=doomed))
    ctl.add(MediaFault("reset", at=PART + 1, times=3))  # the healthy items are hit too
    ctl.add(MediaFault("corrupt", at=2 * PART + 5, times=2))
    items = [
        DownloadItem(s.url, tmp_path / f"f{i}", expected_crc32c=s.crc)
        for i, s in enumerate(sources)
    ]
    report = await download_many(
        http, items, part_size=PART, connections=2, config=config(retry=_policy())
    )
    assert [r.status for r in report.items] == [
        ItemStatus.DONE,
        ItemStatus.DONE,
        ItemStatus.FAILED,
        ItemStatus.DONE,
        ItemStatus.DONE,
    ]
    failed = report.failed[0]
    assert failed.item.dest == tmp_path / "f2"
    assert isinstance(failed.error, ServerError) and failed.error.status == 503
    assert not (tmp_path / "f2").exists()
    for i, src in enumerate(sources):
        if i != 2:
            assert (tmp_path / f"f{i}").read_bytes() == src.data
    assert report.summary() == "4 done, 0 skipped, 1 failed"

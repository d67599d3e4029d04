"""Headers the download engine sets itself (ranges, version pins) are refused from callers,
before any request, with the field and the rule named; other headers still go out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pixop_async._session import HttpSession
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import InvalidRequestError
from pixop_async.transfer.bulk import DownloadItem, ItemStatus, download_many
from pixop_async.transfer.download import download

from .download_helpers import KiB, config, http, serve

__all__ = ["http"]

#: nothing listens here: a request would fail with a connection error, not a refusal
UNREACHABLE = "http://127.0.0.1:9/video.mp4"


@pytest.mark.parametrize(
    "name",
    ["Range", "if-range", "If-Match", "IF-NONE-MATCH", "If-Modified-Since", "If-Unmodified-Since"],
)
async def test_download_refuses_an_engine_header_before_any_request(
    http: HttpSession, tmp_path: Path, name: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await download(http, UNREACHABLE, tmp_path / "f", headers={name: "bytes=0-1"})
    assert caught.value.field == "headers"
    assert repr(name) in str(caught.value) and "set by the download engine" in str(caught.value)
    assert os.listdir(tmp_path) == []


async def test_if_none_match_points_to_its_keyword(http: HttpSession, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="use if_none_match="):
        await download(http, UNREACHABLE, tmp_path / "f", headers={"If-None-Match": '"e"'})


async def test_download_many_refuses_shared_engine_headers_and_fails_only_the_item(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path
) -> None:
    good = serve(pixop_emulator, os.urandom(40 * KiB), name="good.bin")
    other = serve(pixop_emulator, os.urandom(40 * KiB), name="other.bin")
    with pytest.raises(InvalidRequestError) as caught:
        await download_many(http, [(good.url, tmp_path)], headers={"Range": "bytes=0-"})
    assert caught.value.field == "headers"
    assert os.listdir(tmp_path) == []
    items = [
        DownloadItem(good.url, tmp_path / "good.bin", headers={"X-Trace": "1"}),
        DownloadItem(other.url, tmp_path / "other.bin", headers={"If-Match": '"x"'}),
    ]
    report = await download_many(http, items, config=config())
    assert [r.status for r in report.items] == [ItemStatus.DONE, ItemStatus.FAILED]
    error = report.items[1].error
    assert isinstance(error, InvalidRequestError) and error.field == "item.headers"
    assert (tmp_path / "good.bin").read_bytes() == good.data
    assert not (tmp_path / "other.bin").exists()


@pytest.mark.parametrize("odd", [[], "", [("X-A", "1")]])
async def test_item_headers_that_are_not_a_mapping_fail_that_item(
    pixop_emulator: EmulatorServer, http: HttpSession, tmp_path: Path, odd: object
) -> None:
    good = serve(pixop_emulator, os.urandom(4 * KiB), name="good.bin")
    items = [
        DownloadItem(good.url, tmp_path / "good.bin"),
        DownloadItem(good.url, tmp_path / "odd.bin", headers=odd),  # type: ignore[arg-type]
    ]
    report = await download_many(http, items, config=config())
    assert [r.status for r in report.items] == [ItemStatus.DONE, ItemStatus.FAILED]
    error = report.items[1].error
    assert isinstance(error, InvalidRequestError) and error.field == "item.headers"
    assert "must be a mapping" in str(error)
    assert not (tmp_path / "odd.bin").exists()

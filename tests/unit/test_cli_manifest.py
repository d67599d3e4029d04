"""Pure parts of the CLI: manifests, the import state file, option and CRC parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixop_async.cli.common import CliError
from pixop_async.cli.manifest import (
    DownloadItem,
    ImportItem,
    ImportState,
    load_manifest,
    parse_manifest,
)
from pixop_async.cli.process_cmd import parse_options, unknown_key
from pixop_async.cli.support import describe_error, hex_crc, parse_crc32c
from pixop_async.errors import InvalidRequestError, OperationFailedError


def test_csv_imports_and_downloads() -> None:
    items = parse_manifest(
        "url,name,project_id,crc32c\nhttps://h/a.mp4,A,,0x1f\nhttps://h/b.mp4, B ,p,31\n",
        is_json=False,
    )
    assert items == [
        ImportItem("https://h/a.mp4", "A", None, 31),
        ImportItem("https://h/b.mp4", "B", "p", 31),
    ]
    downloads = parse_manifest("video_id,dest\nv1,\nv2,out/x.mp4\n", is_json=False)
    assert downloads == [DownloadItem("v1"), DownloadItem("v2", "out/x.mp4")]


def test_json_forms() -> None:
    listed = parse_manifest(json.dumps([{"video_id": "v"}]), is_json=True)
    wrapped = parse_manifest(json.dumps({"downloads": [{"video_id": "v"}]}), is_json=True)
    assert listed == wrapped == [DownloadItem("v")]
    imports = parse_manifest(json.dumps({"imports": [{"url": "u", "name": "n"}]}), is_json=True)
    assert imports == [ImportItem("u", "n")]


@pytest.mark.parametrize(
    ("text", "is_json", "message"),
    [
        ("url,name\nhttps://h/a,\n", False, "item 2: 'name' is required"),
        ("url,name,extra\nu,n,x\n", False, "unexpected field(s) for an import: ['extra']"),
        ("video_id,name\nv,n\n", False, "unexpected field(s) for a download: ['name']"),
        ("url,name,crc32c\nu,n,zz\n", False, "item 2: --crc32c"),
        ('[{"video_id": "v"}, {"url": "u", "name": "n"}]', True, "not both"),
        ('{"imports": [], "downloads": []}', True, "exactly one of"),
        ("[]", True, "no items"),
        ("[1]", True, "item 0: must be an object"),
        ("{", True, "not valid JSON"),
        ("", False, "header row"),
    ],
)
def test_bad_manifests(text: str, is_json: bool, message: str) -> None:
    with pytest.raises(CliError) as caught:
        parse_manifest(text, is_json=is_json)
    assert message in str(caught.value)


def test_load_detects_json_and_state_round_trips(tmp_path: Path) -> None:
    manifest = tmp_path / "jobs.txt"
    manifest.write_text('[{"url": "u", "name": "n"}]')
    [item] = load_manifest(manifest)
    assert isinstance(item, ImportItem)
    state = ImportState.beside(manifest)
    assert state.get(item) is None
    state.record(item, "video-1")
    again = ImportState.beside(manifest)
    assert again.get(item) == "video-1"
    assert again.get(ImportItem("u", "other name")) is None  # a changed row is a new item
    again.forget(item)
    assert ImportState.beside(manifest).get(item) is None
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["jobs.txt", "jobs.txt.pixop-state.json"]  # no temp files left behind


def test_crc_parsing_and_formatting() -> None:
    assert parse_crc32c("0xdeadbeef") == 0xDEADBEEF
    assert parse_crc32c("42") == 42
    for bad in ("-1", "0x100000000", "dead"):
        with pytest.raises(CliError):
            parse_crc32c(bad)
    assert hex_crc(0x1F) == "0000001f" and hex_crc(None) is None


def test_options_unknown_keys_and_rules() -> None:
    good = {
        "container": "MP4",
        "filters": {"scaler": "DVRES2"},
        "filterSettings": {"resolution": {"tag": "2X"}},
    }
    assert parse_options(good).to_json() == good
    assert unknown_key({"filters": {"scalr": "X"}}, {"filters": {}}) == "options.filters.scalr"
    with pytest.raises(InvalidRequestError) as typo:
        parse_options({"container": "MP4", "encodingConfiguraton": {}})
    assert typo.value.field == "options.encoding_configuraton"
    with pytest.raises(InvalidRequestError) as bad:
        parse_options({"container": "AVI"})
    assert bad.value.field == "options.container"


def test_describe_error_adds_the_server_code_once() -> None:
    failed = OperationFailedError("import failed: bad crc", error_code="CHECKSUM_MISMATCH")
    assert describe_error(failed) == (
        "OperationFailedError: import failed: bad crc [CHECKSUM_MISMATCH]"
    )
    assert describe_error(ValueError("x")) == "ValueError: x"

"""``pixop bulk``: manifests of imports and downloads, failures, interrupted runs and reruns."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import google_crc32c
import pytest

from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.lifecycle import media_of
from tests.integration.cli_helpers import run_cli

from .video_helpers import ingested_video, serve

FAST = ("--poll-interval", "0.05")
DATA_A = os.urandom(300_000)
DATA_B = os.urandom(200_000)


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=60, allow_http_sources=True)


def master_ids(emu: EmulatorServer) -> set[str]:
    return {vid for vid, video in emu.state.videos.items() if video["flags"]["isMaster"]}


def stored(emu: EmulatorServer, video_id: str) -> bytes:
    info = media_of(emu.state, video_id)
    assert info is not None
    return info.path.read_bytes()


async def test_bulk_imports_report_failures_and_rerun_resumes(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    emu = pixop_emulator
    async with serve(DATA_A, "/a.mp4") as a, serve(DATA_B, "/b.mp4") as b:
        b.gate.clear()  # b's data is held back: its import stays under way
        manifest = tmp_path / "imports.csv"
        manifest.write_text(
            "url,name,crc32c\n"
            f"{a.url},film a,{google_crc32c.value(DATA_A)}\n"
            f"{b.url},film b,\n"
            f"{a.url},film c,12345\n"  # wrong checksum: this import fails
        )
        first = await run_cli(emu, "bulk", str(manifest), "--timeout", "1.5", "--json", *FAST)
        assert first.code == 1, first.err
        report = json.loads(first.out)
        outcomes = {i["item"]: i for i in report["items"]}
        assert outcomes["film a"]["outcome"] == "done"
        assert outcomes["film b"]["outcome"] == "failed"  # interrupted by the timeout
        assert "PollTimeoutError" in outcomes["film b"]["error"]
        assert outcomes["film c"]["outcome"] == "failed"
        assert "CHECKSUM_MISMATCH" in outcomes["film c"]["error"]
        assert report["failed"] == 2
        assert stored(emu, outcomes["film a"]["videoId"]) == DATA_A
        state = json.loads((tmp_path / "imports.csv.pixop-state.json").read_text())
        assert len(state["imports"]) == 3  # every started import was recorded at once
        masters = master_ids(emu)
        assert len(masters) == 3

        b.delay = 2.0  # released, but still under way when the rerun looks at it
        b.gate.set()
        second = await run_cli(emu, "bulk", str(manifest), "--json", *FAST)
        assert second.code == 1, second.err  # film c still has the wrong checksum
        again = {i["item"]: i for i in json.loads(second.out)["items"]}
        assert again["film a"]["outcome"] == "skipped"
        assert again["film b"]["outcome"] == "resumed"
        assert again["film c"]["outcome"] == "failed"
        for name in ("film a", "film b"):
            assert again[name]["videoId"] == outcomes[name]["videoId"]
        assert stored(emu, again["film b"]["videoId"]) == DATA_B
        assert master_ids(emu) == masters  # nothing was imported twice

        manifest.write_text(f"url,name\n{a.url},film a\n{b.url},film b\n")
        table = await run_cli(emu, "bulk", str(manifest), *FAST)
    assert table.code == 0, table.err
    assert "Bulk summary" in table.out and "2 skipped" in table.out
    assert master_ids(emu) == masters


async def test_bulk_downloads_summary_and_rerun_skips_finished(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    emu = pixop_emulator
    first = ingested_video(emu, DATA_A, name="first.mp4")
    second = ingested_video(emu, DATA_B, name="second.mp4")
    missing = "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"
    out = tmp_path / "out"
    manifest = tmp_path / "downloads.json"
    manifest.write_text(
        json.dumps(
            {
                "downloads": [
                    {"video_id": first["id"]},
                    {"video_id": second["id"], "dest": str(tmp_path / "named.mp4")},
                    {"video_id": missing},
                ]
            }
        )
    )
    run = await run_cli(emu, "bulk", str(manifest), "--dest-dir", str(out), "--json")
    assert run.code == 1, run.err
    items = {i["item"]: i for i in json.loads(run.out)["items"]}
    assert items[first["id"]]["outcome"] == "done"
    assert Path(items[first["id"]]["path"]).parent == out
    assert Path(items[first["id"]]["path"]).read_bytes() == DATA_A
    assert (tmp_path / "named.mp4").read_bytes() == DATA_B
    assert items[second["id"]]["crc32c"] == f"{google_crc32c.value(DATA_B):08x}"
    assert items[missing]["outcome"] == "failed" and "NotFoundError" in items[missing]["error"]

    (tmp_path / "named.mp4").unlink()
    rerun = await run_cli(emu, "bulk", str(manifest), "--dest-dir", str(out))
    assert rerun.code == 1
    assert "1 done, 0 resumed, 1 skipped, 1 failed" in rerun.out
    assert (tmp_path / "named.mp4").read_bytes() == DATA_B


async def test_bad_manifests_are_one_line_errors(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps([{"video_id": "x"}, {"url": "https://a/b", "name": "n"}]))
    no_name = tmp_path / "no_name.csv"
    no_name.write_text("url,name\nhttps://example.com/a.mp4,\n")
    results = await asyncio.gather(
        run_cli(pixop_emulator, "bulk", str(mixed)),
        run_cli(pixop_emulator, "bulk", str(no_name)),
        run_cli(pixop_emulator, "bulk", str(tmp_path / "absent.csv")),
    )
    assert [r.code for r in results] == [1, 1, 1]
    assert "imports or downloads, not both" in results[0].err
    assert "item 2: 'name' is required" in results[1].err
    assert "absent.csv" in results[2].err
    assert all("Traceback" not in r.err for r in results)


async def test_bulk_download_rerun_finds_a_numbered_copy(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    # two videos with one suggested name: the CLI used to hand the resource "out/same.mp4"
    # as a caller-named path, so the second video failed with PathBusyError (or, one at a
    # time, replaced the first while both were reported done); now it lands as
    # "same (1).mp4", and a rerun finds it there instead of downloading it once more
    emu = pixop_emulator
    ids = [ingested_video(emu, data, name="same.mp4")["id"] for data in (DATA_A, DATA_B)]
    out = tmp_path / "out"
    manifest = tmp_path / "downloads.json"
    manifest.write_text(json.dumps({"downloads": [{"video_id": vid} for vid in ids]}))
    run = await run_cli(emu, "bulk", str(manifest), "--dest-dir", str(out), "--json")
    assert run.code == 0, run.err
    rerun = await run_cli(emu, "bulk", str(manifest), "--dest-dir", str(out), "--json")
    assert rerun.code == 0, rerun.err
    items = {i["item"]: i for i in json.loads(rerun.out)["items"]}
    assert [items[vid]["outcome"] for vid in ids] == ["skipped", "skipped"]
    assert Path(items[ids[1]]["path"]).read_bytes() == DATA_B
    assert sorted(p.name for p in out.iterdir()) == ["same (1).mp4", "same.mp4"]

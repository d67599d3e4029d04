"""The scripts in ``examples/`` run as documented against the emulator (CI runs them)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.lifecycle import media_of
from pixop_async.emulator.webhook_delivery import hub

from .video_helpers import FAST, ingested_video, serve

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=60, allow_http_sources=True)


def _env(emu: EmulatorServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXOP_")}
    env.update(PYTHONPATH=str(ROOT), PIXOP_API_KEY=emu.api_key, PIXOP_BASE_URL=emu.base_url)
    return env


async def _start(emu: EmulatorServer, script: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / script), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(emu),
    )  # fmt: skip


async def _run(emu: EmulatorServer, script: str, *args: str) -> tuple[int, list[dict], str]:
    proc = await _start(emu, script, *args)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, [json.loads(line) for line in out.decode().splitlines()], err.decode()


@pytest.mark.slow
async def test_bulk_ingest_reports_each_url(pixop_emulator: EmulatorServer) -> None:
    emu = pixop_emulator
    data = os.urandom(300_000)
    async with serve(data) as first, serve(data[:1000]) as second:
        bad = "http://127.0.0.1:9/missing.mov"  # nothing listens there
        code, lines, err = await _run(emu, "bulk_ingest.py", first.url, second.url, bad)
    assert code == 1, err  # one failure, reported, the others done
    by_url = {line["url"]: line for line in lines}
    assert set(by_url) == {first.url, second.url, bad}
    assert "error" in by_url[bad]
    for source, expected in ((first, data), (second, data[:1000])):
        video_id = by_url[source.url]["videoId"]
        info = media_of(emu.state, video_id)
        assert info is not None and info.path.read_bytes() == expected
        assert emu.state.videos[video_id]["flags"]["isIngested"] is True


@pytest.mark.slow
async def test_download_many_downloads_and_reports(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    emu = pixop_emulator
    payloads = [os.urandom(200_000), os.urandom(50_000)]
    ids = [ingested_video(emu, data, name=f"v{i}.mp4")["id"] for i, data in enumerate(payloads)]
    missing = "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"
    code, lines, err = await _run(emu, "download_many.py", str(tmp_path), *ids, missing)
    assert code == 1, err
    by_id = {line["videoId"]: line for line in lines}
    for video_id, data in zip(ids, payloads, strict=True):
        assert by_id[video_id]["status"] == "done", by_id[video_id]
        assert Path(by_id[video_id]["path"]).read_bytes() == data
    assert by_id[missing]["status"] == "failed" and "NotFound" in by_id[missing]["error"]


@pytest.mark.slow
async def test_webhook_worker_processes_each_ingested_video(
    pixop_emulator: EmulatorServer,
) -> None:
    emu = pixop_emulator
    proc = await _start(emu, "webhook_worker.py", "--port", "0", "--count", "1",
                        "--timeout", "90")  # fmt: skip
    try:
        assert proc.stdout is not None
        ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
        assert ready["listening"].startswith("http://127.0.0.1:")
        data = os.urandom(100_000)
        async with serve(data) as source, Pixop(emu.api_key, base_url=emu.base_url) as px:
            started = await px.imports.from_https(
                source.url, "to upscale", allow_loopback_http=True
            )
            await px.imports.wait(started.video_id, timeout=30, intervals=FAST)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["source"] == str(started.video_id)
    assert result["outcome"] == "done"
    processed = emu.state.videos[result["processed"]]
    assert processed["name"] == "upscaled 2x"
    assert ready["webhookId"] not in hub(emu.state).webhooks  # deleted on the way out

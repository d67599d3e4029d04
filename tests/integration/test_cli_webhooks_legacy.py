"""``pixop webhooks listen|create|list|test`` and ``pixop legacy upload|process|download``."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import aiohttp
import pytest

from pixop_async.emulator import EmulatorConfig, EmulatorServer
from tests.integration.cli_helpers import run_cli

FAST = ("--poll-interval", "0.05")


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=60, allow_http_sources=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_listening(port: int, timeout: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def test_webhooks_listen_prints_a_verified_test_event(
    pixop_emulator: EmulatorServer,
) -> None:
    emu = pixop_emulator
    port = free_port()
    listener = asyncio.ensure_future(
        run_cli(emu, "webhooks", "listen", "--port", str(port), "--count", "1",
                "--timeout", "20", "--json")
    )  # fmt: skip
    await wait_listening(port)
    url = f"http://127.0.0.1:{port}/webhooks/pixop"
    async with aiohttp.ClientSession() as session:  # a forged delivery is refused
        forged = await session.post(url, data=b'{"id": "x"}')
        assert forged.status == 401
    created = await run_cli(
        emu, "webhooks", "create", url, "--events", "video_in.done", "--name", "cli hook", "--json"
    )
    assert created.code == 0, created.err
    hook = json.loads(created.out)
    listing = await run_cli(emu, "webhooks", "list")
    assert "cli hook" in listing.out and hook["id"] in listing.out
    video_id = "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"
    sent = await run_cli(emu, "webhooks", "test", hook["id"], "--video-id", video_id, "--json")
    assert sent.code == 0, sent.err
    result = await listener
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    assert len(lines) == 1  # the forged delivery was not printed
    event = json.loads(lines[0])
    assert event["test"] is True
    assert event["eventType"] == "video_in.done"
    assert event["data"]["videoId"] == video_id
    assert event["webhookId"] == hook["id"]
    assert event["keyId"]


async def test_webhooks_listen_times_out_without_events(pixop_emulator: EmulatorServer) -> None:
    port = free_port()
    result = await run_cli(
        pixop_emulator, "webhooks", "listen", "--port", str(port), "--count", "1",
        "--timeout", "0.3",
    )  # fmt: skip
    assert result.code == 1 and "got 0 of 1 events" in result.err
    assert result.out == ""


async def test_legacy_upload_process_download(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    emu = pixop_emulator
    env = {"PIXOP_LEGACY_BASE_URL": emu.root_url}
    source = tmp_path / "clip.mov"
    data = os.urandom(400_000)
    source.write_bytes(data)
    uploaded = await run_cli(
        emu, "legacy", "upload", str(source), "--name", "legacy clip", "--wait", "--json", *FAST,
        env=env,
    )  # fmt: skip
    assert uploaded.code == 0, uploaded.err
    upload = json.loads(uploaded.out)
    assert upload["ingestion"] == "done"
    vid = upload["videoId"]

    original = tmp_path / "original.mov"
    fetched = await run_cli(emu, "legacy", "download", vid, str(original), "--json", env=env)
    assert fetched.code == 0, fetched.err
    assert original.read_bytes() == data
    assert json.loads(fetched.out)["size"] == len(data)

    bad = await run_cli(emu, "legacy", "process", vid, "--apple-prores-profile", "hq", env=env)
    assert bad.code == 1 and "apple_prores_profile" in bad.err and "Traceback" not in bad.err

    processed = await run_cli(
        emu, "legacy", "process", vid, "--codec", "prores", "--apple-prores-profile", "hq",
        "--tag", "uhd_4k", "--wait", "--json", *FAST, env=env,
    )  # fmt: skip
    assert processed.code == 0, processed.err
    result = json.loads(processed.out)
    assert result["sourceVideoId"] == vid and result["status"] == "done"
    out = tmp_path / "processed.mov"
    done = await run_cli(
        emu, "legacy", "download", result["processedVideoId"], str(out), "--processed", env=env
    )
    assert done.code == 0, done.err
    assert out.stat().st_size > 0 and str(out) in done.out

    no_creds = await run_cli(None, "legacy", "download", vid, str(out), env=env)
    assert no_creds.code == 1 and "PIXOP_EMAIL" in no_creds.err

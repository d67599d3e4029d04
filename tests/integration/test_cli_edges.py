"""CLI rough edges: ids at 80 columns, ``pixop emulator --json`` and SIGTERM, default ports."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from pixop_async.cli.emulator_cmd import DEFAULT_PORT
from pixop_async.cli.main import build_parser, interrupted_message
from pixop_async.cli.webhooks_cmd import LISTEN_PORT
from pixop_async.emulator import EmulatorServer
from pixop_async.import_url import url_problem
from pixop_async.webhooks.listen_url import advertised_url
from tests.integration.cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


async def test_project_ids_are_whole_at_80_and_100_columns(
    pixop_emulator: EmulatorServer,
) -> None:
    created = await run_cli(pixop_emulator, "projects", "create", "a" * 40, "--json")
    project = json.loads(created.out)
    for columns in ("80", "100"):
        table = await run_cli(pixop_emulator, "projects", "list", env={"COLUMNS": columns})
        assert table.code == 0, table.err
        assert project["id"] in table.out and project["teamId"] in table.out
        assert "…" not in table.out
        assert max(len(line) for line in table.out.splitlines()) <= int(columns)


@pytest.mark.slow
async def test_emulator_json_line_and_sigterm_removes_its_data() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXOP_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pixop_async", "emulator", "--port", "0", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        info = json.loads(line)
        assert set(info) == {"rootUrl", "baseUrl", "apiKey", "email", "password", "dataDir"}
        data_dir = Path(info["dataDir"])
        assert data_dir.is_dir()
        (data_dir / "videos").mkdir(exist_ok=True)
        (data_dir / "videos" / "big.bin").write_bytes(b"x" * 1024)
        headers = {"X-API-Key": info["apiKey"]}
        async with (
            aiohttp.ClientSession() as session,
            session.get(info["baseUrl"] + "/v1/account", headers=headers) as resp,
        ):
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0, (await proc.stderr.read()).decode() if proc.stderr else ""
    assert not data_dir.exists()


def test_default_ports_never_collide() -> None:
    parser = build_parser()
    emulator = parser.parse_args(["emulator"])
    listen = parser.parse_args(["webhooks", "listen"])
    assert emulator.port == DEFAULT_PORT == 8080
    assert listen.port == LISTEN_PORT == 8090
    readme = (ROOT / "README.md").read_text()
    example = readme.split("## Receiving webhooks", 1)[1].split("```", 2)[1]
    assert "port=8091" in example
    assert "port=8080" not in example and "port=8090" not in example


def test_a_wildcard_bind_is_advertised_as_a_url_webhooks_create_accepts() -> None:
    bound = "http://0.0.0.0:8091/webhooks/pixop"
    assert url_problem(bound, allow_loopback_http=True) is not None  # refused as it is
    usable = advertised_url(bound)
    assert usable == "http://127.0.0.1:8091/webhooks/pixop"
    assert url_problem(usable, allow_loopback_http=True) is None
    assert advertised_url("http://[::]:1/x") == "http://[::1]:1/x"
    for kept in ("http://127.0.0.1:8091/x", "https://hooks.example.com/x"):
        assert advertised_url(kept) == kept


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["download", "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1", "out/"], "resume the download"),
        (["bulk", "manifest.csv"], "finished items are skipped"),
        (["watch", "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"], "pixop watch VIDEO_ID"),
        (["projects", "list"], "interrupted"),
    ],
)
def test_ctrl_c_says_how_to_pick_up_again(argv: list[str], expected: str) -> None:
    assert expected in interrupted_message(build_parser().parse_args(argv))


@pytest.mark.slow
async def test_ctrl_c_on_the_emulator_removes_its_data_and_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXOP_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pixop_async", "emulator", "--port", "0", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        info = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
        proc.send_signal(signal.SIGINT)
        _out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 130
    assert "emulator stopped" in err.decode() and "Traceback" not in err.decode()
    assert not Path(info["dataDir"]).exists()


async def test_an_unreachable_host_says_connection_refused() -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await run_cli(
        None,
        "projects",
        "list",
        env={
            "PIXOP_API_KEY": "pxk_unreachable_0123456789",
            "PIXOP_BASE_URL": f"http://127.0.0.1:{port}/api",
        },
    )
    assert result.code == 1
    assert "APIConnectionError" in result.err
    assert "(connection refused)" in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "pxk_unreachable" not in result.err

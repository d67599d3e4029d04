"""The ``pixop`` command: demo, projects, JSON output, one-line errors."""

from __future__ import annotations

import json

from pixop_async.emulator import EmulatorServer
from tests.integration.cli_helpers import run_cli


async def test_demo_runs_end_to_end() -> None:
    result = await run_cli(None, "demo", "--size-mib", "4", timeout=120)
    assert result.code == 0, result.err
    assert "demo finished" in result.out
    # every stage of the job ran: webhook events arrived for import, processing and export,
    # the download was verified and the legacy round trip completed
    for marker in (
        "video_in_ingestion.done",
        "video_processing.done",
        "video_out.done",
        "verified",
        "Legacy round trip",
        "4,194,304 bytes",
        "Pixop's CRC32C matches",  # the local-file leg (S3 multipart upload, then import)
    ):
        assert marker in result.out, marker
    assert "Traceback" not in result.err


async def test_projects_commands(pixop_emulator: EmulatorServer) -> None:
    created = await run_cli(pixop_emulator, "projects", "create", "from cli", "--json")
    assert created.code == 0, created.err
    project = json.loads(created.out)
    assert project["name"] == "from cli"
    listing = await run_cli(pixop_emulator, "projects", "list", "--json")
    names = [p["name"] for p in json.loads(listing.out)]
    assert names == ["Default Project", "from cli"]
    table = await run_cli(pixop_emulator, "projects", "list")
    assert "from cli" in table.out and "Default Project" in table.out
    renamed = await run_cli(pixop_emulator, "projects", "rename", project["id"], "renamed")
    assert renamed.code == 0 and "renamed" in renamed.out
    default = await run_cli(pixop_emulator, "projects", "get", "default", "--json")
    assert json.loads(default.out)["name"] == "Default Project"
    deleted = await run_cli(pixop_emulator, "projects", "delete", project["id"])
    assert deleted.code == 0
    assert project["id"] not in pixop_emulator.state.projects


async def test_errors_are_one_line(pixop_emulator: EmulatorServer) -> None:
    bad = await run_cli(pixop_emulator, "projects", "get", "not-a-uuid")
    assert bad.code == 1
    assert "project_id: must be a UUID" in bad.err
    assert "Traceback" not in bad.err
    missing = await run_cli(
        pixop_emulator, "projects", "get", "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"
    )
    assert missing.code == 1 and "NotFoundError" in missing.err
    assert len(missing.err.strip().splitlines()) <= 2
    no_key = await run_cli(None, "projects", "list")
    assert no_key.code == 1 and "no API key" in no_key.err
    assert pixop_emulator.api_key not in bad.err + missing.err

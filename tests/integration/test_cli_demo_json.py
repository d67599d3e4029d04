"""``pixop demo --json``: stdout holds one JSON summary of the run and nothing else."""

from __future__ import annotations

import json
import re

from tests.integration.cli_helpers import run_cli

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def test_demo_json_prints_only_the_summary() -> None:
    result = await run_cli(None, "demo", "--size-mib", "2", "--json", timeout=180)
    assert result.code == 0, result.err
    summary = json.loads(result.out)  # the whole of stdout is the JSON document
    assert summary["ok"] is True and summary["sample_size"] == 2 * 1024 * 1024
    for step in ("import", "process"):
        assert UUID.match(summary[step]["video_id"]), step
    assert summary["import"]["ingestion_status"] == "DONE"
    download = summary["download"]
    assert download["size"] > 0 and download["verified"] is True
    assert re.fullmatch(r"[0-9a-f]{8}", download["crc32c"])
    assert summary["export"]["objects"] and summary["export"]["status"]
    events = {e["event"] for e in summary["webhook_events"]}
    assert {"video_in_ingestion.done", "video_processing.done", "video_out.done"} <= events
    legacy = summary["legacy"]
    assert legacy["uploaded"] == legacy["downloaded"] == 2 * 1024 * 1024
    assert summary["local_file"].get("verified") is True or "skipped" in summary["local_file"]
    assert "demo finished" not in result.out and "Traceback" not in result.err

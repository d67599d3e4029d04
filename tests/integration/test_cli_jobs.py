"""``pixop videos|import|process|watch|download`` against the emulator, in subprocesses."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import google_crc32c
import pytest
from aiohttp import web

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer, buckets
from pixop_async.emulator.lifecycle import media_of
from pixop_async.emulator.processing_engine import engine
from tests.integration.cli_helpers import run_cli
from tests.servers import serve as serve_app

from .video_helpers import ingested_video, serve

DATA = os.urandom(700_000)
FAST = ("--poll-interval", "0.05")
OPTIONS = {
    "container": "MP4",
    "encodingConfiguration": {"codec": "H264"},
    "filters": {"scaler": "DVRES2"},
    "filterSettings": {"resolution": {"tag": "2X"}},
}


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=60, allow_http_sources=True)


def stored(emu: EmulatorServer, video_id: str) -> bytes:
    info = media_of(emu.state, video_id)
    assert info is not None
    return info.path.read_bytes()


def crc_hex(data: bytes) -> str:
    return f"{google_crc32c.value(data):08x}"


async def test_import_process_watch_download(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    emu = pixop_emulator
    local = tmp_path / "local.mp4"
    local.write_bytes(DATA)
    async with serve(DATA) as source:
        imported = await run_cli(
            emu, "import", "https", source.url, "--name", "cli film",
            "--crc32c", "auto", "--local-file", str(local), "--wait", "--json", *FAST,
        )  # fmt: skip
    assert imported.code == 0, imported.err
    status = json.loads(imported.out)
    master = status["videoId"]
    assert status["upload"]["uploadState"]["uploadStatus"] == "DONE"
    assert status["ingestion"]["ingestionState"]["ingestionStatus"] == "DONE"
    assert emu.state.videos[master]["name"] == "cli film"
    assert stored(emu, master) == DATA

    listed = await run_cli(emu, "videos", "list", "--json")
    assert master in [v["id"] for v in json.loads(listed.out)]
    table = await run_cli(emu, "videos", "get", master)
    assert table.code == 0 and "cli film" in table.out and "ready" in table.out

    started = await run_cli(
        emu, "process", master, "--options", json.dumps(OPTIONS), "--name", "upscaled",
        "--watch", "--json", *FAST,
    )  # fmt: skip
    assert started.code == 0, started.err
    processed = json.loads(started.out)
    new_id = processed["videoId"]
    assert processed["processingState"]["processingStatus"] == "DONE"
    assert emu.state.videos[new_id]["name"] == "upscaled"

    watched = await run_cli(emu, "watch", new_id, "--json", *FAST)
    assert watched.code == 0, watched.err
    assert json.loads(watched.out)["phase"] == "processing"

    derived = await run_cli(emu, "videos", "derived", master, "--json")
    assert new_id in [v["id"] for v in json.loads(derived.out)]

    dest = tmp_path / "out.mp4"
    fetched = await run_cli(emu, "download", new_id, str(dest), "--json")
    assert fetched.code == 0, fetched.err
    report = json.loads(fetched.out)
    expected = stored(emu, new_id)
    assert dest.read_bytes() == expected
    assert report == {
        **report,
        "path": str(dest),
        "size": len(expected),
        "crc32c": crc_hex(expected),
        "verified": True,
    }
    human = await run_cli(emu, "download", new_id, str(tmp_path / "again.mp4"))
    assert human.code == 0, human.err
    assert crc_hex(expected) in human.out and "verified" in human.out

    deleted = await run_cli(emu, "videos", "delete", master, "--json")
    assert deleted.code == 0, deleted.err
    assert master not in emu.state.videos and new_id not in emu.state.videos


async def test_bad_options_print_one_line_naming_the_field(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    emu = pixop_emulator
    video = "6c1c3c1e-3ad2-4b8e-9d1f-6a1f1fb0b0a1"
    bad_width = {**OPTIONS, "filterSettings": {"resolution": {"width": "wide"}}}
    typo = {**OPTIONS, "filters": {"scalr": "DVRES2"}}
    options_file = tmp_path / "options.json"
    options_file.write_text(json.dumps(typo))
    for options, field in (
        (json.dumps(bad_width), "options.filter_settings.resolution.width"),
        (str(options_file), "options.filters.scalr"),
        ("{not json", "--options"),
    ):
        result = await run_cli(emu, "process", video, "--options", options)
        assert result.code == 1
        assert field in result.err, result.err
        assert "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) == 1, result.err
    assert emu.state.videos == {} or video not in emu.state.videos


async def test_import_s3_never_echoes_the_secret(pixop_emulator: EmulatorServer) -> None:
    emu = pixop_emulator
    secret = "s3-secret-never-shown"
    buckets.create_bucket(emu.state, "cli-bucket", access_key="AKIACLI", secret_access_key=secret)
    buckets.put_object(emu.state, "cli-bucket", "in/film.mov", DATA[:200_000])
    env = {"PIXOP_S3_SECRET_ACCESS_KEY": secret}
    ok = await run_cli(
        emu, "import", "s3", "in/film.mov", "--name", "from s3", "--bucket", "cli-bucket",
        "--access-key", "AKIACLI", "--wait", "--json", *FAST, env=env,
    )  # fmt: skip
    assert ok.code == 0, ok.err
    vid = json.loads(ok.out)["videoId"]
    assert stored(emu, vid) == DATA[:200_000]
    wrong = await run_cli(
        emu, "import", "s3", "in/film.mov", "--name", "x", "--bucket", "cli-bucket",
        "--access-key", "AKIACLI", "--secret-access-key", "wrong-secret-value",
    )  # fmt: skip
    assert wrong.code == 1 and "Traceback" not in wrong.err
    missing = await run_cli(emu, "import", "s3", "k", "--name", "x", "--bucket", "cli-bucket")
    assert missing.code == 1 and "PIXOP_S3_SECRET_ACCESS_KEY" in missing.err
    for run in (ok, wrong, missing):
        assert secret not in run.out + run.err
        assert "wrong-secret-value" not in run.out + run.err


async def test_download_url_checks_the_given_crc32c(tmp_path: Path) -> None:
    data = os.urandom(3_000_000)
    dest = tmp_path / "file.bin"
    async with serve(data) as source:
        first = await run_cli(
            None, "download", "--url", source.url, str(dest), "--crc32c", f"0x{crc_hex(data)}",
            "--json",
        )  # fmt: skip
        assert first.code == 0, first.err
        report = json.loads(first.out)
        assert dest.read_bytes() == data
        assert report["crc32c"] == crc_hex(data) and report["verified"] is True
        assert report["size"] == len(data)
        wrong = await run_cli(
            None, "download", "--url", source.url, str(tmp_path / "bad.bin"), "--crc32c", "1"
        )
        assert wrong.code == 1 and "ChecksumMismatchError" in wrong.err
        assert not (tmp_path / "bad.bin").exists()
        plain = await run_cli(None, "download", "--url", source.url, str(tmp_path / "p.bin"))
        assert plain.code == 0 and "not verified" in plain.out
        assert crc_hex(data) in plain.out


async def test_process_with_configuration_and_a_failing_job(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    emu = pixop_emulator
    source = str(ingested_video(emu, DATA[:400_000], name="src.mp4")["id"])
    config = await pixop_client.processing_configurations.create("cli preset", OPTIONS)
    started = await run_cli(
        emu, "process", source, "--config-id", str(config.id), "--name", "from preset", "--json"
    )
    assert started.code == 0, started.err
    new_id = json.loads(started.out)["videoId"]
    assert emu.state.videos[new_id]["name"] == "from preset"
    followed = await run_cli(emu, "watch", new_id, "--phase", "processing", *FAST)
    assert followed.code == 0, followed.err
    assert f"processing of {new_id} finished" in followed.out
    assert "processing" in followed.err  # the bar, on stderr

    engine(emu.state).fail_jobs_of(source)
    before = set(emu.state.videos)
    failing = await run_cli(
        emu, "process", source, "--options", json.dumps(OPTIONS), "--watch", *FAST
    )
    assert failing.code == 1
    assert "VIDEO_PROCESSING_FAILED" in failing.err and "Traceback" not in failing.err
    assert failing.out == ""
    [failed_id] = set(emu.state.videos) - before
    assert failed_id in failing.err
    watched = await run_cli(emu, "watch", failed_id, "--json", *FAST)
    # --json: the failure is one JSON error object on stdout (it used to leave stdout empty)
    assert watched.code == 1
    error = json.loads(watched.out)["error"]
    assert error["type"] == "CliError" and "VIDEO_PROCESSING_FAILED" in error["message"]
    assert f"processing of {failed_id}" in watched.err and "VIDEO_PROCESSING_FAILED" in watched.err


async def test_import_from_a_saved_s3_location(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    emu = pixop_emulator
    buckets.create_bucket(emu.state, "saved-bucket", access_key="AKIASAVED", secret_access_key="k")
    buckets.put_object(emu.state, "saved-bucket", "a/b.mp4", DATA[:100_000])
    location = await pixop_client.input_locations.create("saved", "saved-bucket", "AKIASAVED", "k")
    result = await run_cli(
        emu, "import", "s3", "a/b.mp4", "--name", "saved", "--location-id", str(location.id),
        "--wait", "--json", *FAST,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert stored(emu, json.loads(result.out)["videoId"]) == DATA[:100_000]
    both = await run_cli(
        emu, "import", "s3", "a/b.mp4", "--name", "x", "--location-id", str(location.id),
        "--bucket", "saved-bucket",
    )  # fmt: skip
    assert both.code == 1 and "exclude each other" in both.err


async def test_killed_download_resumes_from_its_journal(tmp_path: Path) -> None:
    size = 18 * 1024 * 1024  # nine 2 MiB parts
    data = os.urandom(size)
    release = asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        low, _, high = request.headers["Range"][6:].partition("-")
        first, last = int(low), int(high or len(data) - 1)
        last = min(last, size - 1)
        if first > 0:
            await release.wait()  # only the first request's segment arrives before the kill
        return web.Response(
            status=206,
            body=data[first : last + 1],
            headers={"Content-Range": f"bytes {first}-{last}/{size}", "ETag": '"v1"'},
        )

    app = web.Application()
    app.router.add_get("/big.bin", handle)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIXOP_")}

    async def interrupted(url: str, dest: Path) -> int:
        """Start a download, kill it once part 0 is journaled; the bytes the journal keeps."""
        release.clear()
        journal = dest.with_name(dest.name + ".pixop-part.journal")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pixop_async", "download", "--url", url, str(dest), "--json",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env=environment,
        )  # fmt: skip
        try:
            for _ in range(300):
                if journal.exists() and '"0"' in journal.read_text():
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("part 0 was never journaled")
        finally:
            process.kill()
            await process.wait()
        assert not dest.exists()
        release.set()
        saved = json.loads(journal.read_text())
        kept = len(saved["done"]) * saved["partSize"] + sum(w for w, _ in saved["partial"].values())
        assert 0 < kept < size
        return int(kept)

    async with serve_app(app) as root:
        url = f"{root}/big.bin"
        dest = tmp_path / "big.bin"
        kept = await interrupted(url, dest)
        resumed = await run_cli(None, "download", "--url", url, str(dest), "--json")
        assert resumed.code == 0, resumed.err
        report = json.loads(resumed.out)
        assert report["bytesFetched"] == size - kept  # what the journal kept was not fetched again
        assert dest.read_bytes() == data
        fresh = tmp_path / "fresh.bin"
        await interrupted(url, fresh)
        again = await run_cli(None, "download", "--url", url, str(fresh), "--no-resume", "--json")
        assert json.loads(again.out)["bytesFetched"] == size  # started over
        assert fresh.read_bytes() == data

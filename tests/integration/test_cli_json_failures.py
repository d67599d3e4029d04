"""``--json`` failures: every command that takes ``--json`` leaves exactly one JSON error
object on stdout when it fails (API status error, connection error, input refused before any
request, Ctrl+C in a download), keeps its exit status and its human line on stderr, and never
shows a secret. Run through the ``pixop`` entry point against the emulator."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import json
import os
import signal
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web

from pixop_async.cli import entry
from pixop_async.emulator import EmulatorServer
from pixop_async.emulator.faults import Fault

from ..servers import serve
from .cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
VIDEO = str(uuid.uuid4())
BAD_KEY = "pxk_wrong_key_0123456789abcdef"
BAD_PASSWORD = "not-the-password-42"


@attrs.frozen
class Run:
    code: int
    out: str
    err: str

    def error(self) -> dict[str, Any]:
        """The one JSON object on stdout, which must be an error object."""
        lines = self.out.strip().splitlines()
        assert len(lines) == 1, self.out
        record = json.loads(lines[0])
        assert list(record) == ["error"]
        error = record["error"]
        assert isinstance(error, dict)
        assert isinstance(error["type"], str) and isinstance(error["message"], str)
        return error


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("PIXOP_")]:
        del os.environ[key]
    os.environ.update(env, COLUMNS="200")
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _main(argv: list[str]) -> int:
    try:
        entry.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


async def cli(argv: list[str], env: dict[str, str]) -> Run:
    """Run ``pixop argv`` in this process (in a thread: the emulator serves in this loop)."""
    out, err = io.StringIO(), io.StringIO()
    with (
        _environment(env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = await asyncio.wait_for(asyncio.to_thread(_main, argv), 120)
    return Run(code, out.getvalue(), err.getvalue())


class _PerThread(io.TextIOBase):
    """A stream writing to the calling thread's own buffer (commands run side by side)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def buffer_of_thread(self) -> io.StringIO:
        if not hasattr(self.local, "buffer"):
            self.local.buffer = io.StringIO()
        buffer: io.StringIO = self.local.buffer
        return buffer

    def write(self, text: str) -> int:
        return self.buffer_of_thread().write(text)

    def isatty(self) -> bool:
        return False


async def cli_many(argvs: list[list[str]], env: dict[str, str]) -> list[Run]:
    """Run several ``pixop`` commands at once (each in a thread, with its own output)."""
    out, err = _PerThread(), _PerThread()

    def one(argv: list[str]) -> Run:
        out.local.buffer, err.local.buffer = io.StringIO(), io.StringIO()
        code = _main(argv)
        return Run(code, out.buffer_of_thread().getvalue(), err.buffer_of_thread().getvalue())

    loop = asyncio.get_running_loop()
    with (
        _environment(env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        concurrent.futures.ThreadPoolExecutor(len(argvs)) as pool,
    ):
        runs = [loop.run_in_executor(pool, one, argv) for argv in argvs]
        return list(await asyncio.wait_for(asyncio.gather(*runs), 120))


def emulator_env(emu: EmulatorServer, **changes: str) -> dict[str, str]:
    env = {
        "PIXOP_API_KEY": emu.api_key,
        "PIXOP_BASE_URL": emu.base_url,
        "PIXOP_EMAIL": emu.email,
        "PIXOP_PASSWORD": emu.password,
        "PIXOP_LEGACY_BASE_URL": emu.root_url,
    }
    env.update(changes)
    return env


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def media(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mov"
    path.write_bytes(os.urandom(4096))
    return path


def api_commands(media: Path, tmp_path: Path) -> list[list[str]]:
    """One call of every API command that takes --json (with plausible arguments)."""
    return [
        ["projects", "list"],
        ["projects", "get", VIDEO],
        ["projects", "create", "Name"],
        ["projects", "rename", VIDEO, "New"],
        ["projects", "delete", VIDEO],
        ["videos", "list"],
        ["videos", "get", VIDEO],
        ["videos", "derived", VIDEO],
        ["videos", "delete", VIDEO],
        ["import", "https", "https://media.example.com/clip.mp4", "--name", "clip"],
        ["import", "s3", "clip.mp4", "--name", "clip", "--location-id", VIDEO],
        ["process", VIDEO, "--config-id", VIDEO],
        ["watch", VIDEO],
        ["download", VIDEO, str(tmp_path / "out.mp4")],
        ["webhooks", "list"],
        ["webhooks", "create", "https://hooks.example.com/x", "--events", "video_in.done"],
        ["webhooks", "test", VIDEO],
    ]


def legacy_commands(media: Path, tmp_path: Path) -> list[list[str]]:
    return [
        ["legacy", "upload", str(media)],
        ["legacy", "process", VIDEO],
        ["legacy", "download", VIDEO, str(tmp_path / "legacy.mov")],
    ]


async def test_an_api_status_error_is_one_json_object(
    pixop_emulator: EmulatorServer, media: Path, tmp_path: Path
) -> None:
    env = emulator_env(pixop_emulator, PIXOP_API_KEY=BAD_KEY, PIXOP_PASSWORD=BAD_PASSWORD)
    for argv in api_commands(media, tmp_path) + legacy_commands(media, tmp_path):
        run = await cli([*argv, "--json"], env)
        assert run.code == 1, (argv, run)
        error = run.error()
        assert error["status"] == 401, (argv, error)
        assert error["type"] == "AuthenticationError"
        assert error["message"] and error["attempts"] == 1
        assert "AuthenticationError" in run.err and "401" in run.err
        for secret in (BAD_KEY, BAD_PASSWORD):
            assert secret not in run.out + run.err
        assert "Traceback" not in run.err
    # commands of many items report each item's failure in their one JSON document
    manifest = tmp_path / "downloads.csv"
    manifest.write_text(f"video_id\n{VIDEO}\n")
    per_item = [
        (["import", "file", str(media), "--location-id", VIDEO], "files"),
        (["bulk", str(manifest), "--dest-dir", str(tmp_path)], "items"),
    ]
    for argv, noun in per_item:
        run = await cli([*argv, "--json"], env)
        assert run.code == 1, (argv, run)
        document = json.loads(run.out)
        assert "AuthenticationError" in json.dumps(document)
        assert f"1 of 1 {noun} failed" in run.err
        assert BAD_KEY not in run.out + run.err
    # the same failure without --json: the human line alone, stdout empty
    run = await cli(["projects", "list"], env)
    assert (run.code, run.out) == (1, "")
    assert "AuthenticationError" in run.err


async def test_a_404_carries_the_fields_the_exception_has(
    pixop_emulator: EmulatorServer,
) -> None:
    run = await cli(["videos", "get", VIDEO, "--json"], emulator_env(pixop_emulator))
    assert run.code == 1
    error = run.error()
    assert (error["type"], error["status"]) == ("NotFoundError", 404)
    assert error["request_path"].endswith(VIDEO)
    assert set(error) <= {
        "type", "message", "status", "attempts", "error_code", "request_id", "request_path",
        "validation_errors",
    }  # fmt: skip
    assert "NotFoundError" in run.err


async def test_a_connection_error_is_one_json_object(
    media: Path, tmp_path: Path, redis_free_queue: str
) -> None:
    port = closed_port()
    env = {
        "PIXOP_API_KEY": BAD_KEY,
        "PIXOP_BASE_URL": f"http://127.0.0.1:{port}/api",
        "PIXOP_EMAIL": "user@example.com",
        "PIXOP_PASSWORD": BAD_PASSWORD,
        "PIXOP_LEGACY_BASE_URL": f"http://127.0.0.1:{port}",
    }
    commands = api_commands(media, tmp_path) + legacy_commands(media, tmp_path)
    # side by side: each waits out its retries against the refused port
    runs = await cli_many([[*argv, "--json"] for argv in commands], env)
    for argv, run in zip(commands, runs, strict=True):
        assert run.code == 1, (argv, run)
        error = run.error()
        assert error["type"] == "APIConnectionError", (argv, error)
        assert error["reason"] == "Connection refused"
        assert error["attempts"] >= 1 and error["request_sent"] is False
        assert "APIConnectionError" in run.err and "connection refused" in run.err
        assert BAD_KEY not in run.out + run.err and BAD_PASSWORD not in run.out + run.err
    # the worker cannot reach its queue: the URL's password is masked in both outputs
    run = await cli(["worker", "--queue", redis_free_queue, "--json"], env)
    assert run.code == 1
    error = run.error()
    assert error["type"] == "CliError" and "cannot reach the queue" in error["message"]
    assert "s3cret-queue-pw" not in run.out + run.err
    assert "cannot reach the queue" in run.err


@pytest.fixture
def redis_free_queue() -> str:
    return f"redis://worker:s3cret-queue-pw@127.0.0.1:{closed_port()}/0"


async def test_input_refused_before_any_request_is_one_json_object(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    env = emulator_env(pixop_emulator)
    before = pixop_emulator.faults.hits
    # a fault on every path would be hit by any request that got out
    pixop_emulator.faults.add(Fault(status=599, times=1000, path="."))
    bad_id = [
        ["projects", "get", "not-a-uuid"],
        ["projects", "rename", "not-a-uuid", "New"],
        ["projects", "delete", "not-a-uuid"],
        ["videos", "get", "not-a-uuid"],
        ["videos", "derived", "not-a-uuid"],
        ["videos", "delete", "not-a-uuid"],
        ["process", "not-a-uuid", "--config-id", VIDEO],
        ["watch", "not-a-uuid"],
        ["download", "not-a-uuid", str(tmp_path / "o.mp4")],
        ["webhooks", "test", "not-a-uuid"],
        ["legacy", "process", "not-a-uuid"],
        ["legacy", "download", "not-a-uuid", str(tmp_path / "o.mov")],
    ]
    for argv in bad_id:
        run = await cli([*argv, "--json"], env)
        assert run.code == 1, (argv, run)
        error = run.error()
        assert error["type"] == "InvalidRequestError", (argv, error)
        assert error["field"] and error["rule"], error
        assert error["field"] in run.err
    other = [
        (["projects", "list", "--json"], "CliError", {"PIXOP_API_KEY": ""}),
        (["projects", "create", "", "--json"], "InvalidRequestError", {}),
        (["videos", "list", "--json"], "InvalidRequestError", {"PIXOP_API_KEY": "two words"}),
        (["import", "https", "ftp://x/y.mp4", "--name", "n", "--json"], None, {}),
        (["import", "s3", "", "--name", "n", "--json"], None, {}),
        (["import", "file", str(tmp_path / "missing.mov"), "--json"], None, {}),
        (["webhooks", "list", "--json"], "CliError", {"PIXOP_API_KEY": ""}),
        (["webhooks", "create", "http://x/y", "--events", "video_in.done", "--json"], None, {}),
        (["webhooks", "listen", "--port", "0", "--count", "1", "--timeout", "0.1", "--json"],
         "CliError", {}),
        (["bulk", str(tmp_path / "missing.csv"), "--json"], None, {}),
        (["worker", "--json"], "CliError", {}),
        (["legacy", "upload", str(tmp_path / "missing.mov"), "--json"], None, {}),
        (["legacy", "upload", str(tmp_path), "--json"], None, {"PIXOP_PASSWORD": ""}),
    ]  # fmt: skip
    for argv, kind, changes in other:
        run = await cli(argv, {**env, **changes})
        assert run.code != 0, (argv, run)
        error = run.error()
        if kind is not None:
            assert error["type"] == kind, (argv, error)
        assert error["message"]
        assert "error" in run.err, (argv, run.err)
        assert "Traceback" not in run.err
    assert pixop_emulator.faults.hits == before  # nothing reached the server
    # the commands that start servers of their own (signal handlers: a process of their own)
    for argv in (
        ["emulator", "--speed", "0", "--json"],
        ["demo", "--size-mib", "0", "--json"],
        ["demo", "--speed", "-1", "--json"],
    ):
        result = await run_cli(None, *argv)
        run = Run(result.code, result.out, result.err)
        assert run.code == 2, (argv, run)
        error = run.error()
        assert error["type"] == "UsageError" and "must be" in error["message"]
        assert "must be" in run.err


async def test_a_usage_error_is_one_json_object_too() -> None:
    run = await cli(["videos", "get", "--json"], {})
    assert run.code == 2
    error = run.error()
    assert error["type"] == "UsageError"
    assert "the following arguments are required: video_id" in error["message"]
    assert "usage:" in run.err and "required: video_id" in run.err
    run = await cli(["videos", "get"], {})
    assert (run.code, run.out) == (2, "")


class StallingOrigin:
    """Answers a download with part of its body, then stalls until the test ends."""

    SIZE = 4 * 1024 * 1024

    def __init__(self) -> None:
        self.streaming = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Length": str(self.SIZE), "Content-Type": "video/mp4"}
        )
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        await response.write(b"\0" * 65536)
        self.streaming.set()
        await self.release.wait()
        return response


@pytest.fixture
async def stalling() -> AsyncIterator[tuple[StallingOrigin, str]]:
    origin = StallingOrigin()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", origin.handle)
    async with serve(app) as url:
        yield origin, url
        origin.release.set()


async def test_an_interrupted_download_is_one_json_object(
    stalling: tuple[StallingOrigin, str], tmp_path: Path
) -> None:
    origin, url = stalling
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXOP_")}
    env.update(PYTHONPATH=str(ROOT), PIXOP_API_KEY=BAD_KEY)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pixop_async", "download", "--url", f"{url}/clip.mp4",
        str(tmp_path / "clip.mp4"), "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        await asyncio.wait_for(origin.streaming.wait(), 60)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    run = Run(proc.returncode or 0, out.decode(), err.decode())
    assert run.code == 130
    error = run.error()
    assert error["type"] == "KeyboardInterrupt"
    assert "resume the download" in error["message"]
    assert "resume the download" in run.err and "Traceback" not in run.err
    assert BAD_KEY not in run.out + run.err

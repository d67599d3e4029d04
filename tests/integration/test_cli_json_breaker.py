"""Breaking ``--json`` failures (b17c): a server whose error bodies carry control
characters, forged lines, invalid UTF-8 or megabytes; a stdout that is a closed pipe;
debug logging on; secrets given by flag. Real ``pixop`` processes, real pipes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from pixop_async.emulator import EmulatorServer

from ..servers import serve

ROOT = Path(__file__).resolve().parents[2]
VIDEO = str(uuid.uuid4())
KEY = "pxk_breaker_secret_key_0123456789"
PASSWORD = "breaker-password-77"
#: What a hostile server puts in its error body: an OSC title change, a bell, a forged
#: second line, a screen clear in the error code, NUL, a bidi override, a line separator.
NASTY = "ctrl \x1b]0;pwned\x07 \r\nerror: FORGED \u2028 \u202e \x00 \x9b end"


def _body(mode: str) -> bytes:
    if mode == "markup":  # rich console markup, unbalanced
        return json.dumps({"message": "closing [/x] tag [bold red]LOUD " + NASTY}).encode()
    if mode == "bytes":  # not UTF-8, with escape sequences
        return b'{"message": "bad \xff\xfe \x1b[31mRED\x1b[0m", "errorCode": "X\x1b[2J"}'
    if mode == "huge":
        return json.dumps({"message": "A" * 3_000_000 + NASTY}).encode()
    return json.dumps({"message": NASTY, "errorCode": "E\x1b[1m", "requestId": "r\n2"}).encode()


@pytest.fixture
async def hostile() -> AsyncIterator[str]:
    """Answers ``/{status}/{mode}/...`` with that status and a hostile body."""

    async def handle(request: web.Request) -> web.Response:
        status, mode = int(request.match_info["status"]), request.match_info["mode"]
        return web.Response(status=status, body=_body(mode), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{status}/{mode}/{tail:.*}", handle)
    async with serve(app) as url:
        yield url


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXOP_")}
    env.update(PYTHONPATH=str(ROOT), COLUMNS="300", PIXOP_API_KEY=KEY, PIXOP_PASSWORD=PASSWORD)
    env.update(extra)
    return env


async def pixop(
    *argv: str, env: dict[str, str], closed_stdout: bool = False
) -> tuple[int, bytes, bytes]:
    """Run ``pixop argv``; ``closed_stdout``: its stdout is a pipe nobody reads (closed)."""
    if closed_stdout:
        read_end, write_end = os.pipe()
        os.close(read_end)
        stdout: int = write_end
    else:
        stdout = asyncio.subprocess.PIPE
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pixop_async", *argv,
            stdout=stdout, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
    finally:
        if closed_stdout:
            os.close(stdout)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out or b"", err


def _no_controls(text: str) -> None:
    """Nothing a terminal would act on: no C0/C1 control but the final newline(s)."""
    bad = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0]
    bad += [c for c in text if c in "\u2028\u2029\u202e"]
    assert not bad, (bad, text[:400])


@pytest.mark.parametrize(("status", "mode"), [(400, "text"), (404, "bytes"), (503, "huge")])
async def test_hostile_error_bodies(hostile: str, status: int, mode: str) -> None:
    env = _env(PIXOP_BASE_URL=f"{hostile}/{status}/{mode}/api", PIXOP_LOG="debug")
    code, out, err = await pixop("videos", "get", VIDEO, "--json", env=env)
    assert code == 1
    text = out.decode("utf-8")  # stdout is UTF-8, whatever the server sent
    assert text.count("\n") == 1 and text.endswith("\n")
    record = json.loads(text)
    assert record["error"]["status"] == status
    assert len(text) < 20_000  # a huge body is cut, not echoed
    human = err.decode("utf-8")
    _no_controls(human)
    # no line of the server's making
    assert not any(line.startswith("error: FORGED") for line in human.splitlines())
    assert KEY not in text + human
    if mode == "text":
        assert "\\x1b" in human  # shown, escaped, not acted on
        assert "\x1b" in record["error"]["message"]  # the JSON keeps the text as it came


async def test_a_closed_stdout_is_no_traceback(
    hostile: str, pixop_emulator: EmulatorServer
) -> None:
    env = _env(PIXOP_BASE_URL=f"{hostile}/400/text/api")
    code, _out, err = await pixop("videos", "get", VIDEO, "--json", env=env, closed_stdout=True)
    assert code == 1
    assert b"Traceback" not in err and b"Exception ignored" not in err
    assert b"BadRequestError" in err  # the failure itself is still told
    # a command that succeeds but cannot write its output
    ok = _env(PIXOP_API_KEY=pixop_emulator.api_key, PIXOP_BASE_URL=pixop_emulator.base_url)
    for argv in (["projects", "list", "--json"], ["videos", "list", "--json"]):
        code, _out, err = await pixop(*argv, env=ok, closed_stdout=True)
        assert b"Traceback" not in err and b"Exception ignored" not in err, err.decode()
        assert code != 0  # the output did not arrive


async def test_secrets_given_by_flag_are_masked(tmp_path: Path) -> None:
    env = _env(PIXOP_BASE_URL="http://127.0.0.1:9/api")
    env.pop("PIXOP_API_KEY")
    flag_key = "pxk_flag_secret_ABCDEFGH"
    # a typo'd flag: argparse quotes the unrecognized words, the secret among them
    code, out, err = await pixop("videos", "list", "--api-keyy", flag_key, "--json", env=env)
    assert code == 2
    assert json.loads(out)["error"]["type"] == "UsageError"
    assert flag_key.encode() not in out + err


async def test_per_item_failures_shown_inert(hostile: str, tmp_path: Path) -> None:
    """The human outputs of bulk and import file show a hostile error as text: markup is
    not interpreted (``[/x]`` crashed ``import file`` with a MarkupError traceback) and
    control characters are escaped."""
    clip = tmp_path / "clip [red].mov"
    clip.write_bytes(os.urandom(2048))
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"video_id\n{VIDEO}\n")
    env = _env(PIXOP_BASE_URL=f"{hostile}/400/markup/api")
    for argv in (
        ["import", "file", str(clip), "--location-id", VIDEO],
        ["bulk", str(manifest), "--dest-dir", str(tmp_path / "out")],
    ):
        code, out, err = await pixop(*argv, env=env)
        shown = (out + err).decode("utf-8")
        assert code == 1, shown
        assert "Traceback" not in shown and "MarkupError" not in shown
        assert "[/x]" in shown
        if argv[0] == "import":
            assert "clip [red].mov" in shown  # a local name is no markup either
        _no_controls(shown.replace("\r", ""))  # rich's own progress redraws aside
        assert not any(line.startswith("error: FORGED") for line in shown.splitlines())


async def test_tables_show_server_names_as_text(pixop_emulator: EmulatorServer) -> None:
    """A project named with markup and escape sequences lists as text (``[/x]`` crashed
    every table with a MarkupError; ``\\x1b[2J`` reached the terminal)."""
    from pixop_async import Pixop

    async with Pixop(api_key=pixop_emulator.api_key, base_url=pixop_emulator.base_url) as px:
        await px.projects.create(name="evil [/x] [bold]loud \x1b[2J")
    env = _env(PIXOP_API_KEY=pixop_emulator.api_key, PIXOP_BASE_URL=pixop_emulator.base_url)
    code, out, err = await pixop("projects", "list", env=env)
    shown = out.decode("utf-8")
    assert code == 0, err.decode()
    assert "evil [/x] [bold]loud \\x1b[2J" in shown
    _no_controls(shown)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
async def test_a_stdout_that_is_not_utf8(hostile: str, encoding: str) -> None:
    """The error object reaches a non-UTF-8 stdout (it crashed with UnicodeEncodeError on
    the server's emoji or line separator, leaving stdout empty)."""
    env = _env(PIXOP_BASE_URL=f"{hostile}/400/text/api", PYTHONIOENCODING=encoding)
    code, out, err = await pixop("videos", "get", VIDEO, "--json", env=env)
    assert code == 1
    assert b"Traceback" not in err
    record = json.loads(out.decode("ascii"))
    assert "\u2028" in record["error"]["message"]

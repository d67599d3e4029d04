"""Hostile servers against the transfer engine: names, lengths, ranges, stalls, redirects.

Table rows run one download against :mod:`tests.integration.hostile_media`; each ends
with the exact bytes or the typed error it names, and never with a file outside the
directory asked for or a partial file at the final path.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web

from pixop_async import ClientConfig, Pixop, RetryPolicy, TransferConfig, errors
from pixop_async._session import HttpSession
from pixop_async.auth import ApiKeyAuth
from pixop_async.transfer.checksum import crc32c
from pixop_async.transfer.download import download
from pixop_async.transfer.upload import upload_file
from tests.servers import serve

from .download_helpers import KiB, config
from .hostile_media import Hostile, hostile

PART = 64 * KiB
DATA = os.urandom(6 * PART + 321)
KEY = "pxk_hostile_transfer_secret_1"


def _safe_name(path: Path, directory: Path) -> None:
    assert path.parent == directory
    name = path.name
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".") and all(ord(ch) >= 32 for ch in name)
    assert len(name.encode()) <= 255


# -- file names offered by the server --------------------------------------------------

NAMES = [
    ("dot-dot", 'attachment; filename="../../escape.mp4"', "escape.mp4"),
    ("absolute", 'attachment; filename="/etc/cron.d/evil.mp4"', "evil.mp4"),
    ("backslashes", 'attachment; filename="..\\\\..\\\\win.mp4"', "win.mp4"),
    ("nul-encoded", "attachment; filename*=UTF-8''a%00b.mp4", "a_b.mp4"),
    ("crlf-encoded", "attachment; filename*=UTF-8''x%0d%0aSet-Cookie%3a1.mp4", None),
    ("only-dots", 'attachment; filename=".."', None),
    ("hidden", 'attachment; filename=".bashrc"', "bashrc"),
    ("reserved", 'attachment; filename="CON.mp4"', "_CON.mp4"),
    ("thousands", 'attachment; filename="' + "é" * 3000 + '.mp4"', None),
    ("empty", 'attachment; filename=""', None),
]


@pytest.mark.parametrize(("case", "disposition", "expected"), NAMES, ids=[n[0] for n in NAMES])
async def test_hostile_content_disposition(
    tmp_path: Path, case: str, disposition: str, expected: str | None
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    async with hostile(DATA) as server:
        server.disposition = disposition
        http = HttpSession()
        try:
            result = await download(http, server.url, out, part_size=PART, config=config())
        finally:
            await http.close()
    _safe_name(result.path, out)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == sorted(
        ["out", f"out/{result.path.name}"]
    )
    if expected is not None:
        assert result.path.name == expected
    if case == "thousands":
        assert result.path.name.endswith(".mp4")
    assert result.path.read_bytes() == DATA


# -- lengths, ranges, stalls, error bodies ---------------------------------------------


@attrs.frozen
class Row:
    id: str
    knobs: Callable[[Hostile], None]
    error: type[errors.PixopError] | None = None
    read_timeout: float = 60.0


def _set(**values: Any) -> Callable[[Hostile], None]:
    def apply(server: Hostile) -> None:
        for key, value in values.items():
            setattr(server, key, value)

    return apply


ROWS = [
    Row("content-length-lies-twice", _set(short_by=1000, short_times=2)),
    Row("content-length-always-lies", _set(short_by=1000, short_times=1000),
        error=errors.APIConnectionError),
    Row("200-where-206-asked", _set(ranges_once=True)),
    Row("body-longer-than-the-range", _set(long_by=10), error=errors.TransferError),
    Row("content-range-not-the-one-asked", _set(shift_range=7), error=errors.TransferError),
    Row("stall-once", _set(stall=3.0, stall_times=1), read_timeout=0.3),
    Row("stall-forever", _set(stall=3.0, stall_times=1000), error=errors.APITimeoutError,
        read_timeout=0.2),
    Row("huge-error-bodies", _set(error_body=64 * 1024 * KiB, error_times=1000),
        error=errors.ServerError),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
async def test_lying_servers(tmp_path: Path, row: Row) -> None:
    dest = tmp_path / "video.mp4"
    retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    async with hostile(DATA) as server:
        row.knobs(server)
        http = HttpSession(ClientConfig(read_timeout=row.read_timeout, max_error_body=32 * KiB))
        try:
            run = download(
                http,
                server.url,
                dest,
                connections=3,
                part_size=PART,
                expected_crc32c=crc32c(DATA),
                config=config(retry=retry),
            )
            if row.error is None:
                result = await run
                assert dest.read_bytes() == DATA
                assert result.crc32c == crc32c(DATA)
                assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]
                return
            with pytest.raises(row.error) as raised:
                await run
        finally:
            await http.close()
    assert not dest.exists()
    if isinstance(raised.value, errors.APIStatusError):
        assert len(raised.value.body) <= 32 * KiB  # the endless body was read with a cap
        assert len(str(raised.value)) < 400


# -- redirects to another host ---------------------------------------------------------


async def test_transfer_redirect_to_another_host_drops_credentials(tmp_path: Path) -> None:
    async with hostile(DATA, host="127.0.0.2") as elsewhere, hostile(DATA) as origin:
        origin.redirect_to = elsewhere.url.rsplit("/media/", 1)[0]
        http = HttpSession()
        try:
            result = await download(
                http,
                origin.url,
                tmp_path / "v.mp4",
                part_size=PART,
                headers={
                    "Authorization": "Bearer sekrit-token-123",
                    "Cookie": "s=1",
                    "x-mimir-api-key": "mimir-secret-1",
                    "x-pixop-api-key": KEY,
                },
                auth=ApiKeyAuth(KEY),
                config=config(),
            )
        finally:
            await http.close()
    assert result.path.read_bytes() == DATA
    assert origin.seen and all(h.get("X-API-Key") == KEY for _, _, h in origin.seen)
    assert len(elsewhere.seen) >= 2  # every part went through the redirect
    for _method, _path, headers in elsewhere.seen:
        lowered = {k.lower() for k in headers}
        assert not lowered & {
            "x-api-key",
            "authorization",
            "cookie",
            "x-mimir-api-key",
            "x-pixop-api-key",
        }


async def test_upload_redirect_to_another_host_sends_neither_credentials_nor_body(
    tmp_path: Path,
) -> None:
    """A streamed body cannot be replayed: following a 307 fails cleanly, and the other
    host sees no credential and no byte of the file."""
    async with hostile(b"", host="127.0.0.2") as elsewhere, hostile(b"") as origin:
        origin.redirect_to = elsewhere.url.rsplit("/media/", 1)[0]
        path = tmp_path / "clip.mp4"
        path.write_bytes(os.urandom(300 * KiB))
        http = HttpSession()
        try:
            with pytest.raises(errors.PixopError):
                await upload_file(
                    http,
                    origin.url,
                    path,
                    method="PUT",
                    auth=ApiKeyAuth(KEY),
                    config=config(retry=RetryPolicy(max_attempts=1)),
                )
        finally:
            await http.close()
    for _method, _path, headers in elsewhere.seen:
        assert not {k.lower() for k in headers} & {"x-api-key", "authorization", "cookie"}


# -- px.downloads: hostile names in the API's download record --------------------------


def _record(server: Hostile, video_id: str, name: str, extension: str) -> dict[str, Any]:
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)
    return {
        "videoId": video_id,
        "presignedUrl": server.url,
        "expiresAt": expires.isoformat().replace("+00:00", "Z"),
        "fileSize": len(server.data),
        "mimeType": "video/mp4",
        "fileExtension": extension,
        "suggestedFileName": name,
        "crc32cChecksum": crc32c(server.data),
    }


@pytest.fixture
def api_with_hostile_record() -> Callable[[str, str], Any]:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def run(name: str, extension: str) -> AsyncIterator[tuple[Pixop, str]]:
        video_id = str(uuid.uuid4())
        async with hostile(DATA) as media:

            async def download_url(request: web.Request) -> web.Response:
                return web.json_response(_record(media, video_id, name, extension))

            app = web.Application()
            app.router.add_post("/api/v1/videos/{vid}/out/https", download_url)
            async with (
                serve(app) as root,
                Pixop(KEY, base_url=root + "/api", transfer=TransferConfig(part_size=PART)) as px,
            ):
                yield px, video_id

    return run


RECORD_NAMES = [
    pytest.param("traversal", "../../../../tmp/evil.mp4", "mp4", "evil.mp4", id="traversal"),
    pytest.param("absolute", "/root/.ssh/authorized_keys", "mp4", "authorized_keys",
                 id="absolute"),
    pytest.param("nul-and-controls", "a\x00b\x1b[31m.mp4", "mp4", "a_b_[31m.mp4",
                 id="nul-and-controls"),
    pytest.param("thousands", "n" * 5000 + ".mov", "mov", None, id="thousands"),
    pytest.param("empty-name-hostile-extension", "", "mp4/../../../x", None,
                 id="empty-name-hostile-extension"),
    pytest.param("empty-name-control-extension", "", "\x00\r\n", None,
                 id="empty-name-control-extension"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "name", "extension", "expected"), RECORD_NAMES)
async def test_hostile_suggested_file_names(
    api_with_hostile_record: Callable[[str, str], Any],
    tmp_path: Path,
    case: str,
    name: str,
    extension: str,
    expected: str | None,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    async with api_with_hostile_record(name, extension) as (px, video_id):
        result = await px.downloads.download(video_id, out)
    _safe_name(result.path, out)
    if expected is not None:
        assert result.path.name == expected
    assert result.path.read_bytes() == DATA
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == sorted(
        ["out", f"out/{result.path.name}"]
    )


# -- redirects nowhere -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "loops"),
    [
        ("file:///etc/passwd", False),
        ("ftp://example.com/v.mp4", False),
        ("javascript:alert(1)", False),
        ("loop", True),
        ("http://", True),  # resolves to the current URL: a loop
    ],
)
async def test_redirects_to_non_http_locations_are_refused_at_once(
    location: str, loops: bool
) -> None:
    calls = 0

    async def moved(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        raise web.HTTPFound(request.path if location == "loop" else location)

    app = web.Application()
    app.router.add_get("/api/v1/account", moved)
    async with serve(app) as root, Pixop(KEY, base_url=root + "/api") as px:
        with pytest.raises(errors.APIConnectionError) as raised:
            await px.account.get()
    assert raised.value.attempts == 1  # refused, not retried
    assert calls == (px.config.max_redirects + 1 if loops else 1)
    assert KEY not in str(raised.value)

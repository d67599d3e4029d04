"""One declaration of the per-download options (``pixop_async.transfer.options``), passed
through by every entry point: unknown names are refused like any unknown keyword, before any
request, and a prepared ``DownloadOptions`` mapping is accepted as keywords."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixop_async import Pixop, PixopLegacy, download_url
from pixop_async.errors import InvalidRequestError
from pixop_async.models.locations import S3BucketWithAccessKeys
from pixop_async.transfer.options import DownloadOptions, checked_download_options

V = "5b8e9c6a-1d2f-4f3a-9b7c-0e1d2c3b4a59"


async def test_download_url_refuses_an_unknown_option_before_any_request() -> None:
    with pytest.raises(TypeError, match=r"unexpected download option.*: conections"):
        await download_url("https://127.0.0.1:9/v", "/nonexistent/x", conections=4)  # type: ignore[call-arg]


async def test_legacy_downloads_take_the_same_options() -> None:
    async with PixopLegacy(
        email="u@example.com", password="pw", base_url="http://127.0.0.1:9"
    ) as legacy:
        with pytest.raises(TypeError, match=r"unexpected download option.*: etag"):
            await legacy.media.download_processed(V, "/nonexistent/x", etag="x")  # type: ignore[call-arg]
        with pytest.raises(InvalidRequestError, match="expected_crc32c"):
            await legacy.media.download_original(V, "/nonexistent/x", expected_crc32c=-1)
        with pytest.raises(InvalidRequestError, match="connections"):
            await legacy.media.download_original(V, "/nonexistent/x", connections=65)


def test_checked_options_keep_what_was_given() -> None:
    prepared: DownloadOptions = {"part_size": 1024, "resume": False, "if_none_match": '"e"'}
    assert checked_download_options(prepared) == prepared
    for bad in ({"resume": 1}, {"part_size": 0}, {"if_none_match": ""}, {"progress": 3}):
        with pytest.raises(InvalidRequestError, match=next(iter(bad))):
            checked_download_options(bad)


async def test_imports_from_file_options_are_declared_once_and_checked() -> None:
    bucket = S3BucketWithAccessKeys("my-bucket", "AKIAEXAMPLE", "s3-secret-value")
    async with Pixop("key", base_url="http://127.0.0.1:9") as px:
        with pytest.raises(TypeError, match=r"unexpected import option.*: waitt"):
            await px.imports.from_file("/nonexistent", "n", bucket=bucket, waitt=True)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match=r"unexpected import option.*: object_key"):
            await px.imports.from_files(["/nonexistent"], bucket=bucket, object_key="k")  # type: ignore[call-arg]
        with pytest.raises(InvalidRequestError, match="location_id"):
            await px.imports.from_files(["/nonexistent"])


async def test_legacy_uploads_share_one_options_declaration(tmp_path: Path) -> None:
    media = tmp_path / "v.mp4"
    media.write_bytes(b"x")
    async with PixopLegacy(
        email="u@example.com", password="pw", base_url="http://127.0.0.1:9"
    ) as legacy:
        for upload in (legacy.media.upload, legacy.media.upload_light):
            with pytest.raises(TypeError, match=r"unexpected upload option.*: filename"):
                await upload(V, media, filename="a.mp4")  # type: ignore[call-arg]
            with pytest.raises(InvalidRequestError, match="content_type"):
                await upload(V, media, content_type="x")


@pytest.mark.parametrize(
    ("options", "field", "rule"),
    [
        ({"headers": {"X-A": "a\r\nX-Injected: 1"}}, "headers", "must not contain CR, LF"),
        ({"headers": {"X-A": "a\x7f"}}, "headers", "other control characters"),
        ({"headers": {"X-A": 1}}, "headers", "'X-A' must have a str value"),
        ({"headers": {"bad name": "v"}}, "headers", "not a valid HTTP header name"),
        ({"headers": "X-A: 1"}, "headers", "must be a mapping"),
        ({"if_none_match": '"e"\r\nX-Injected: 1'}, "if_none_match", "must not contain CR, LF"),
    ],
)
async def test_download_headers_are_checked_before_any_request(
    options: dict[str, object], field: str, rule: str
) -> None:
    # these used to reach aiohttp: a raw ValueError/TypeError at the first request, or a
    # malformed header on the wire
    with pytest.raises(InvalidRequestError, match=rule) as err:
        checked_download_options(options)
    assert err.value.field == field
    with pytest.raises(InvalidRequestError, match=rule):
        await download_url("https://127.0.0.1:9/v", "/nonexistent/x", **options)  # type: ignore[arg-type]

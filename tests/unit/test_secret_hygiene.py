"""Secret hygiene: no API key, password, JWT, S3 secret or signature secret in any repr,
str or exception text. (Every log record of the whole run is scanned by tests/conftest.py.)

Canary secrets are planted in clients, auth objects and every model field that holds a
credential (found by name, so a new secret field is covered without editing this file),
then every text the SDK can show is searched for them. Servers that echo the credentials
they received back into error bodies must not get them into exception texts either.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from aioresponses import aioresponses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixop_async import ClientConfig, Pixop, PixopLegacy, RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.auth import ApiKeyAuth, BasicAuth
from pixop_async.resources.admin import MimirAdminAuth
from pixop_async.transfer.bulk import DownloadItem, ItemReport, ItemStatus, UploadItem
from pixop_async.transfer.download import download
from pixop_async.transfer.upload import UploadResult
from tests.servers import serve
from tests.unit.test_model_round_trip import MODELS, strategy_for

KEY = "pxk_CANARY_api_key_0123456789"
PASSWORD = "CANARY-password-9876543210"
S3_SECRET = "CANARY/s3+secret+key/ABCDEFGHIJ"
SIG_SECRET = "CANARY-signature-secret-55555"
MIMIR_KEY = "CANARY-mimir-key-4444444444"
JWT = (
    base64.urlsafe_b64encode(b'{"alg":"HS256"}').rstrip(b"=").decode()
    + "."
    + base64.urlsafe_b64encode(b'{"sub":"u","exp":4102444800}').rstrip(b"=").decode()
    + ".CANARYsignatureCANARYsignature"
)
CANARIES = [KEY, PASSWORD, S3_SECRET, SIG_SECRET, MIMIR_KEY, JWT, "CANARYsignature"]

#: Model fields that carry a credential (access keys are shown masked, never whole).
SECRET_FIELD = re.compile(r"secret|password|(^|_)token$|^api_key$|jwt|access_key$")


def _clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"{canary[:12]}... leaked in {text[:160]!r}"


def test_clients_and_auth_objects() -> None:
    px = Pixop(KEY, base_url="https://api.example.test/api", email="me@x.test", password=PASSWORD)
    legacy = PixopLegacy(email="me@x.test", password=PASSWORD, base_url="https://x.test")
    legacy.jwt_auth.set_token(JWT)
    auths: list[Any] = [
        ApiKeyAuth(KEY),
        BasicAuth("me@x.test", PASSWORD),
        legacy.jwt_auth,
        MimirAdminAuth(KEY, MIMIR_KEY, "tenant-1"),
    ]
    for obj in [px, legacy, *auths, px.config, px.transfer_config, legacy.accounts]:
        _clean(repr(obj), str(obj))


def test_transfer_items_results_and_reports() -> None:
    """Bulk items carry pre-signed URLs and request headers; their reprs (and so the
    reports that quote them) show neither signatures nor header values."""
    signed = f"https://media.example.test/v.mp4?X-Pixop-Signature={SIG_SECRET}&t={JWT}"
    creds = {"Authorization": f"Bearer {JWT}", "X-API-Key": KEY}
    download_item = DownloadItem(signed, "/tmp/x", headers=creds)
    upload_item = UploadItem(signed, "/tmp/x", headers=creds, fields={"name": "n"})
    result = UploadResult(201, {"Set-Cookie": f"session={JWT}"}, JWT.encode(), 1, 2, 0.1)
    report = ItemReport(download_item, ItemStatus.FAILED, error=errors.TransferError("x"))
    for obj in (download_item, upload_item, result, report):
        _clean(repr(obj), str(obj))
    assert "media.example.test/v.mp4" in repr(download_item)  # still says which file


def _secret_models() -> list[type[Any]]:
    return [m for m in MODELS if any(SECRET_FIELD.search(f.name) for f in attrs.fields(m))]


def test_the_secret_bearing_models_are_found() -> None:
    names = {m.__name__ for m in _secret_models()}
    assert {"ApiKey", "S3BucketWithAccessKeys", "LegacyToken", "LegacyUser"} <= names


@pytest.mark.parametrize("model", _secret_models(), ids=lambda m: m.__name__)
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_models_never_show_their_secrets(model: type[Any], data: st.DataObject) -> None:
    instance = data.draw(strategy_for(model))
    planted = {
        f.name: (JWT if "token" in f.name or "jwt" in f.name else S3_SECRET)
        for f in attrs.fields(model)
        if SECRET_FIELD.search(f.name) and f.init
    }
    instance = attrs.evolve(instance, **planted)
    _clean(repr(instance), str(instance))


async def test_request_validation_errors_never_echo_credentials() -> None:
    """Refused credentials are named, never shown."""
    async with Pixop(KEY, base_url="https://api.example.test/api") as px:
        with aioresponses() as mocked:
            with pytest.raises(errors.InvalidRequestError) as bad_secret:
                await px.input_locations.create("n", "my-bucket", S3_SECRET, [S3_SECRET])
            assert mocked.requests == {}
    assert bad_secret.value.field == "secret_access_key"
    _clean(str(bad_secret.value), repr(bad_secret.value))
    with pytest.raises(errors.InvalidRequestError) as bad_header:
        MimirAdminAuth(KEY, MIMIR_KEY + "\r\n", "t")
    _clean(str(bad_header.value), repr(bad_header.value))


def _echo_app(status: int) -> web.Application:
    """Answers every request with an error body that quotes the credentials it received."""

    async def echo(request: web.Request) -> web.Response:
        sent = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        quoted = " ".join(sent.values())
        decoded = ""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            decoded = base64.b64decode(auth[6:]).decode()
        body = {
            "errorCode": "ECHO",
            "message": f"refused: {quoted} {decoded}",
            "statusCode": status,
            "requestPath": request.path + "?key=" + request.headers.get("X-API-Key", ""),
            "validationErrors": [{"field": "key", "value": quoted, "message": decoded}],
        }
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


@pytest.mark.parametrize("status", [400, 401, 403, 500])
async def test_servers_echoing_credentials_do_not_leak_them_into_errors(
    status: int, tmp_path: Any
) -> None:
    config = ClientConfig(retry=RetryPolicy.disabled())
    async with serve(_echo_app(status)) as root:
        async with Pixop(
            KEY, base_url=root + "/api", email="me@x.test", password=PASSWORD, config=config
        ) as px:
            with pytest.raises(errors.APIStatusError) as keyed:
                await px.account.get()
            with pytest.raises(errors.APIStatusError) as basic:
                await px.api_keys.get("5b8e9c6a-1d2f-4f3a-9b7c-0e1d2c3b4a59")
            with pytest.raises(errors.APIStatusError) as mimir:
                await px.admin.mimir_integration.delete(mimir_tenant="t", mimir_api_key=MIMIR_KEY)
        http = HttpSession(config)
        try:
            with pytest.raises(errors.APIStatusError) as streamed:
                await download(
                    http,
                    root + "/media/clip.mp4",
                    tmp_path / "x",
                    headers={"Authorization": f"Bearer {JWT}"},
                )
        finally:
            await http.close()
    for raised in (keyed, basic, mimir, streamed):
        exc = raised.value
        assert exc.status == status
        assert b"***" in exc.body  # the echo was there, and was scrubbed
        _clean(str(exc), repr(exc), exc.body.decode(), repr(exc.validation_errors))


async def test_legacy_errors_do_not_leak_the_token_or_password() -> None:
    async with serve(_echo_app(401)) as root:
        legacy = PixopLegacy(
            email="me@x.test",
            password=PASSWORD,
            base_url=root,
            config=ClientConfig(retry=RetryPolicy.disabled()),
        )
        try:
            legacy.jwt_auth.set_token(JWT)
            with pytest.raises(errors.PixopError) as raised:
                await legacy.videos.get("5b8e9c6a-1d2f-4f3a-9b7c-0e1d2c3b4a59")
        finally:
            await legacy.close()
    _clean(str(raised.value), repr(raised.value))


async def test_connection_errors_do_not_show_signed_query_strings(tmp_path: Path) -> None:
    """Pre-signed URLs carry signatures in their query; messages drop the query.

    (The destination is a real directory: a missing one now fails before any request.)"""
    http = HttpSession(ClientConfig(retry=RetryPolicy.disabled()))
    url = f"https://media.example.test/v.mp4?X-Pixop-Signature={SIG_SECRET}&token={JWT}"
    try:
        with aioresponses(), pytest.raises(errors.APIConnectionError) as raised:
            await download(http, url, tmp_path / "x")
    finally:
        await http.close()
    _clean(str(raised.value), repr(raised.value))

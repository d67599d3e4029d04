"""TLS: certificates are verified by default; turning that off is explicit and logged.

A local HTTPS server with a self-signed certificate stands in for a man in the middle: a
default client refuses it (for API calls and for transfers), and only a client built with
``ClientConfig(verify_ssl=False)`` talks to it, after logging a warning.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pixop_async import ClientConfig, Pixop, RetryPolicy, errors
from pixop_async._session import HttpSession
from pixop_async.transfer.download import download
from tests.payloads import account_json

KEY = "pxk_tls_test_key_123456"


def _self_signed(directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest_asyncio.fixture
async def https_root(tmp_path: Path) -> AsyncIterator[str]:
    async def account(request: web.Request) -> web.Response:
        return web.json_response(account_json("e@x"))

    async def media(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1000, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/api/v1/account", account)
    app.router.add_get("/media/clip.mp4", media)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=_self_signed(tmp_path))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_verification_is_on_by_default() -> None:
    http = HttpSession()
    try:
        assert http.config.verify_ssl is True
        assert ClientConfig().verify_ssl is True
        connector = http._client().connector
        assert connector is not None
        assert connector._ssl is True  # type: ignore[attr-defined]  # aiohttp: verify
    finally:
        await http.close()


async def test_default_client_refuses_an_untrusted_certificate(
    https_root: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    config = ClientConfig(retry=RetryPolicy.disabled())
    async with Pixop(KEY, base_url=https_root + "/api", config=config) as px:
        with pytest.raises(errors.APIConnectionError) as api:
            await px.account.get()
    http = HttpSession(config)
    try:
        with pytest.raises(errors.APIConnectionError) as transfer:
            await download(http, https_root + "/media/clip.mp4", tmp_path / "clip.mp4")
    finally:
        await http.close()
    assert not (tmp_path / "clip.mp4").exists()
    for raised in (api, transfer):
        assert "Certificate" in str(raised.value) or "SSL" in str(raised.value)
        assert KEY not in str(raised.value)
    assert "verification is turned off" not in caplog.text


async def test_turning_verification_off_is_explicit_and_logged(
    https_root: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    insecure = ClientConfig(verify_ssl=False)
    async with Pixop(KEY, base_url=https_root + "/api", config=insecure) as px:
        account = await px.account.get()
        connector = px.http._client().connector
        assert connector is not None and connector._ssl is False  # type: ignore[attr-defined]
    assert account.user.email == "e@x"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("verification is turned off" in r.getMessage() for r in warnings)

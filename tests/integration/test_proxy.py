"""Proxies: ClientConfig.proxy and HTTPS_PROXY/HTTP_PROXY/NO_PROXY, through a real forward
proxy on 127.0.0.1 that counts what it carries (tests/forward_proxy.py)."""

from __future__ import annotations

import logging
import socket

import pytest
from yarl import URL

from pixop_async import ClientConfig, Pixop, RetryPolicy
from pixop_async._proxy import DIRECT, bypassed, choose_route, env_proxies, split_proxy
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import APIConnectionError, APIStatusError

from ..forward_proxy import ForwardProxy
from .test_tls import https_root  # noqa: F401  (the self-signed HTTPS server fixture)

SECRET = "pr0xy-pa55word-never-shown"


@pytest.fixture(autouse=True)
def _clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _client(emu: EmulatorServer, **config: object) -> Pixop:
    return Pixop(emu.api_key, base_url=emu.base_url, config=ClientConfig(**config))  # type: ignore[arg-type]


async def test_explicit_proxy_carries_api_calls_and_transfers(
    pixop_emulator: EmulatorServer,
) -> None:
    async with ForwardProxy() as proxy, _client(pixop_emulator, proxy=proxy.url) as px:
        account = await px.account.get()
        project = await px.projects.create("Through the proxy")
        assert account.user.email == pixop_emulator.email
        assert project.name == "Through the proxy"
        api = f"{pixop_emulator.base_url}/v1/account"
        assert ("GET", api) in proxy.requests
        assert ("POST", f"{pixop_emulator.base_url}/v1/projects") in proxy.requests
        before = len(proxy.requests)
        # the transfer path (raw streamed requests) goes through the same proxy
        async with px.http.stream("GET", api, auth=px._default_auth()) as response:
            assert response.status == 200
        assert len(proxy.requests) == before + 1


async def test_environment_proxy_and_no_proxy(
    pixop_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with _client(pixop_emulator) as px:
            await px.account.get()
        assert len(proxy.requests) == 1
        async with _client(pixop_emulator, trust_env=False) as px:
            await px.account.get()
        assert len(proxy.requests) == 1  # trust_env=False: the variables are ignored
        monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.1")
        async with _client(pixop_emulator) as px:
            await px.account.get()
        assert len(proxy.requests) == 1  # the host is exempt
        monkeypatch.setenv("no_proxy", "")  # an empty lower-case name does not hide NO_PROXY
        monkeypatch.setenv("NO_PROXY", "other.test")
        async with _client(pixop_emulator) as px:
            await px.account.get()
        assert len(proxy.requests) == 2


async def test_proxy_credentials_are_sent_and_never_shown(
    pixop_emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with ForwardProxy(credentials=f"alice:{SECRET}") as proxy:
        good = proxy.url.replace("http://", f"http://alice:{SECRET}@")
        config = ClientConfig(proxy=good)
        assert SECRET not in repr(config) and "alice:***@" in repr(config)
        async with Pixop(
            pixop_emulator.api_key, base_url=pixop_emulator.base_url, config=config
        ) as px:
            await px.account.get()
            assert SECRET not in repr(px)
        assert proxy.proxy_auth[-1] is not None and proxy.proxy_auth[-1].startswith("Basic ")
        wrong = proxy.url.replace("http://", f"http://alice:wrong-{SECRET}@")
        async with _client(pixop_emulator, proxy=wrong) as px:
            with pytest.raises((APIConnectionError, APIStatusError)) as refused:
                await px.account.get()
        assert SECRET not in str(refused.value) and SECRET not in repr(refused.value)
    # a proxy that is gone: the connection error names neither password nor user info
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://alice:{SECRET}@127.0.0.1:{sock.getsockname()[1]}"
    async with _client(pixop_emulator, proxy=dead, retry=ClientConfig().retry.disabled()) as px:
        with pytest.raises(APIConnectionError) as gone:
            await px.account.get()
    assert SECRET not in str(gone.value)
    assert SECRET not in caplog.text


async def test_https_proxy_tunnels_https_with_connect(
    https_root: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        config = ClientConfig(verify_ssl=False)  # the test server's certificate is self-signed
        async with Pixop(
            "pxk_tls_test_key_123456", base_url=f"{https_root}/api", config=config
        ) as px:
            await px.account.get()
    host_port = https_root.removeprefix("https://")
    assert proxy.requests == [("CONNECT", host_port)]  # TLS end to end, through the tunnel


async def test_refused_tunnel_names_the_proxy_status_not_its_password(
    https_root: str,  # noqa: F811
) -> None:
    # a 407 to CONNECT used to read "...: ClientHttpProxyError" with no status
    async with ForwardProxy(credentials=f"alice:{SECRET}") as proxy:
        wrong = proxy.url.replace("http://", "http://alice:not-the-password-x@")
        config = ClientConfig(proxy=wrong, verify_ssl=False, retry=RetryPolicy(max_attempts=1))
        async with Pixop(
            "pxk_tls_test_key_123456", base_url=f"{https_root}/api", config=config
        ) as px:
            with pytest.raises(APIConnectionError) as err:
                await px.account.get()
    text = str(err.value)
    assert "the proxy answered HTTP 407 to CONNECT" in text
    assert "not-the-password-x" not in text and SECRET not in text


def test_proxy_config_is_validated() -> None:
    with pytest.raises(
        ValueError, match=r"ClientConfig\.proxy must be an http://host\[:port\] URL"
    ):
        ClientConfig(proxy="https://proxy.test:3128")
    with pytest.raises(ValueError, match=r"ClientConfig\.proxy must be"):
        ClientConfig(proxy="proxy.test:3128")
    with pytest.raises(TypeError, match=r"ClientConfig\.proxy must be a str"):
        ClientConfig(proxy=3128)  # type: ignore[arg-type]


def test_env_proxies_reads_the_standard_names() -> None:
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2", "NO_PROXY": "a"}
    assert env_proxies(env) == {"https": "http://lower:2", "no": "a"}
    # httpoxy: in a CGI request HTTP_PROXY may come from a client's Proxy: header
    assert env_proxies({"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}) == {}


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "expected"),
    [
        ("api.pixop.com", 443, "pixop.com", True),
        ("api.pixop.com", 443, ".pixop.com", True),
        ("notpixop.com", 443, "pixop.com", False),
        ("API.Pixop.com", 443, "pixop.com", True),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("11.1.2.3", 80, "10.0.0.0/8", False),
        ("127.0.0.1", 8080, "127.0.0.1:9090", False),
        ("127.0.0.1", 9090, "127.0.0.1:9090", True),
        ("::1", 80, "[::1]", True),
        ("anything", 1, "*", True),
        ("anything", 1, " , ", False),
        ("api.pixop.com", 443, "*.pixop.com", True),  # Go's spelling of a subdomain match
        ("pixop.com", 443, "*.pixop.com", True),
        ("notpixop.com", 443, "*.pixop.com", False),
    ],
)
def test_no_proxy_matching(host: str, port: int, no_proxy: str, expected: bool) -> None:
    assert bypassed(host, port, no_proxy) is expected


async def test_environment_proxy_without_a_scheme_is_an_http_proxy(
    pixop_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HTTP_PROXY=proxy.internal:3128 is common; curl, requests and Go read it as http://.
    # It used to be dropped, so every call silently went direct.
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.removeprefix("http://"))
        async with _client(pixop_emulator) as px:
            await px.account.get()
        assert proxy.requests == [("GET", f"{pixop_emulator.base_url}/v1/account")]


def test_unusable_environment_proxy_is_named_in_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="pixop_async")
    env = {"HTTPS_PROXY": f"socks5://bob:{SECRET}@proxy.test:1080", "http_proxy": "proxy.test:8"}
    assert env_proxies(env) == {"http": "http://proxy.test:8"}
    assert "ignoring HTTPS_PROXY=socks5://bob:***@proxy.test:1080" in caplog.text
    assert SECRET not in caplog.text


def test_route_choice() -> None:
    env = {"https": "http://u:p@proxy.test:3128", "no": "internal.test"}
    route = choose_route(URL("https://api.pixop.com/x"), None, env)
    assert str(route.url) == "http://proxy.test:3128"  # credentials split off the URL
    assert route.auth is not None and route.auth.password == "p"
    assert "auth" not in repr(route) and "u:p" not in repr(route)
    assert choose_route(URL("https://internal.test/x"), None, env) == DIRECT
    assert choose_route(URL("http://api.pixop.com/x"), None, env) == DIRECT  # no http proxy
    explicit = split_proxy("http://explicit.test:8080")
    assert choose_route(URL("https://internal.test/x"), explicit, env) is explicit
    assert choose_route(URL("https://a.test/"), None, {"https": "socks5://x:1"}) == DIRECT

"""JwtAuth: claims decoding, proactive single-flight refresh, replay after an expired 401."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from pixop_async.legacy.jwt import (
    DEFAULT_TOKEN_LIFETIME,
    JwtAuth,
    decode_claims,
    refresh_margin,
    token_lifetime,
)

EXPIRED_BODY = json.dumps(
    {"exception": "ExpiredJWTTokenException", "errorMessage": "expired"}
).encode()


def make_token(**claims: object) -> str:
    def seg(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'HS256'})}.{seg(claims)}.c2ln"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Issuer:
    """A token fetcher that counts calls and can be slowed down."""

    def __init__(self, lifetime: float = 100.0, delay: float = 0.0) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.delay = delay

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return make_token(sub="u", iat=5000, exp=5000 + self.lifetime, n=self.calls)


def test_decode_claims_reads_payload_and_tolerates_garbage() -> None:
    assert decode_claims(make_token(exp=12, sub="x")) == {"exp": 12, "sub": "x"}
    assert decode_claims("not-a-jwt") == {}
    assert decode_claims("a.!!!.c") == {}
    assert decode_claims("a.W10.c") == {}  # a JSON list, not claims


def test_token_lifetime_prefers_exp_minus_iat() -> None:
    assert token_lifetime({"exp": 160, "iat": 100}, server_now=0) == 60
    assert token_lifetime({"exp": 160}, server_now=150) == 10
    assert token_lifetime({}, server_now=0) == DEFAULT_TOKEN_LIFETIME
    assert token_lifetime({"exp": "soon"}, server_now=0) == DEFAULT_TOKEN_LIFETIME
    assert token_lifetime({"exp": 10, "iat": 20}, server_now=0) == 0


def test_refresh_margin_is_capped_to_a_quarter_of_short_lifetimes() -> None:
    assert refresh_margin(900, 60) == 60
    assert refresh_margin(2, 60) == 0.5


async def test_hundred_concurrent_requests_cause_one_fetch() -> None:
    issuer = Issuer(delay=0.02)
    auth = JwtAuth(issuer)
    results = await asyncio.gather(*(auth.headers() for _ in range(100)))
    assert issuer.calls == 1
    assert auth.refresh_count == 1
    assert len({r["Authorization"] for r in results}) == 1
    assert results[0]["Authorization"].startswith("Bearer ")


async def test_refreshes_shortly_before_expiry_and_only_once() -> None:
    clock = FakeClock()
    issuer = Issuer(lifetime=100.0)
    auth = JwtAuth(issuer, margin=10.0, clock=clock)
    first = await auth.headers()
    clock.now += 89.0  # 11 s left: still fresh
    assert await auth.headers() == first
    assert issuer.calls == 1
    clock.now += 2.0  # 9 s left: inside the margin
    second = await asyncio.gather(*(auth.headers() for _ in range(50)))
    assert issuer.calls == 2
    assert {h["Authorization"] for h in second} != {first["Authorization"]}
    assert len({h["Authorization"] for h in second}) == 1


async def test_expired_401_replays_once_with_a_single_refresh_for_a_burst() -> None:
    issuer = Issuer()
    auth = JwtAuth(issuer)

    all_sent = asyncio.Event()
    sent = 0

    async def request_that_hits_expiry() -> str:
        nonlocal sent
        first = (await auth.headers())["Authorization"]
        sent += 1
        if sent == 20:
            all_sent.set()
        await all_sent.wait()  # every request went out with the old token, then all get 401
        assert await auth.on_unauthorized(EXPIRED_BODY) is True
        replay = (await auth.headers())["Authorization"]
        assert replay != first
        return replay

    await auth.headers()
    tokens = await asyncio.gather(*(request_that_hits_expiry() for _ in range(20)))
    assert issuer.calls == 2
    assert len(set(tokens)) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>",
        json.dumps({"exception": "UserBannedException", "errorMessage": "no"}).encode(),
        json.dumps({"exception": "InvalidJWTTokenFoundException"}).encode(),
    ],
)
async def test_other_401s_are_final(body: bytes) -> None:
    issuer = Issuer()
    auth = JwtAuth(issuer)
    await auth.headers()
    assert await auth.on_unauthorized(body) is False
    await auth.headers()
    assert issuer.calls == 1


async def test_fetch_failure_propagates_and_next_call_retries() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("down")
        return make_token(exp=10**10)

    auth = JwtAuth(flaky)
    with pytest.raises(RuntimeError):
        await auth.headers()
    assert (await auth.headers())["Authorization"].startswith("Bearer ")
    assert calls == 2


def test_repr_never_shows_the_token() -> None:
    auth = JwtAuth(Issuer())
    token = make_token(exp=10**10, secret="s3cr3t-value")
    auth.set_token(token)
    assert token not in repr(auth)
    assert "s3cr3t" not in repr(auth)

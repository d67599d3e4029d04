"""Legacy accounts service and JWT handling against the emulator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from pixop_async import ClientConfig, PixopLegacy, RetryPolicy, errors
from pixop_async.auth import NoAuth
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.legacy import issue_token, legacy_store
from pixop_async.legacy import errors as lerr
from tests.integration.legacy_helpers import legacy_client

LIFETIME = 30.0


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(jwt_lifetime_seconds=LIFETIME)


@pytest_asyncio.fixture
async def legacy(pixop_emulator: EmulatorServer) -> AsyncIterator[PixopLegacy]:
    async with legacy_client(pixop_emulator) as client:
        yield client


def team_ids(emu: EmulatorServer) -> list[str]:
    return emu.state.team_members[emu.state.seed_user_id]


async def test_create_token_with_and_without_team(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer
) -> None:
    main, second = team_ids(pixop_emulator)
    default = await legacy.accounts.create_token()
    assert str(default.team_id) == main
    assert str(default.user_id) == pixop_emulator.state.seed_user_id
    assert default.jwt_token not in repr(default)
    chosen = await legacy.accounts.create_token(team_id=second)
    assert str(chosen.team_id) == second
    identity = await legacy.accounts.validate_token(chosen.jwt_token)
    assert str(identity.team.id) == second if identity.team else False
    assert [str(t.id) for t in identity.other_teams] == [main]
    with pytest.raises(errors.PermissionDeniedError) as info:
        await legacy.accounts.create_token(team_id=uuid.uuid4())
    assert info.value.error_code == "InvalidTeamException"
    with pytest.raises(errors.InvalidRequestError) as bad:
        await legacy.accounts.create_token(team_id="team-1")
    assert bad.value.field == "team_id"


async def test_client_team_selection_scopes_every_call(pixop_emulator: EmulatorServer) -> None:
    _, second = team_ids(pixop_emulator)
    async with legacy_client(pixop_emulator, team_id=second) as client:
        account = await client.accounts.get()
        assert account.team is not None and str(account.team.id) == second
        project = await client.videos.create_project("second team work")
        assert str(project.team_id) == second


async def test_account_and_validation(legacy: PixopLegacy, pixop_emulator: EmulatorServer) -> None:
    account = await legacy.accounts.get()
    assert account.user.email == pixop_emulator.email
    assert account.user.banned is False
    assert account.user.date_created is not None
    identity = await legacy.accounts.validate_token()
    assert identity.user.id == account.user.id
    assert len(identity.other_teams) == 1


async def test_generate_secrets(legacy: PixopLegacy, pixop_emulator: EmulatorServer) -> None:
    before = await legacy.accounts.get()
    user = await legacy.accounts.generate_signature_secret()
    assert user.api_request_signature_secret
    assert user.api_request_signature_secret not in repr(user)
    again = await legacy.accounts.generate_signature_secret(use_basic=True)
    assert again.api_request_signature_secret != user.api_request_signature_secret
    rotated = await legacy.accounts.generate_auth_secret()
    assert rotated.auth_signature_public_key_id != before.user.auth_signature_public_key_id
    # Tokens signed with the old key are dead; the client fetched a new one by itself.
    after = await legacy.accounts.get()
    assert after.user.auth_signature_public_key_id == rotated.auth_signature_public_key_id
    assert legacy.jwt_auth.refresh_count == 2


async def test_update_password_keeps_the_client_working(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer
) -> None:
    with pytest.raises(errors.InvalidRequestError):
        await legacy.accounts.update_password("")
    await legacy.accounts.update_password("a-brand-new-password")
    uid = pixop_emulator.state.seed_user_id
    assert pixop_emulator.state.passwords[uid] == "a-brand-new-password"
    legacy.jwt_auth.invalidate()
    assert (await legacy.accounts.get()).user.email == pixop_emulator.email
    async with PixopLegacy(
        email=pixop_emulator.email, password="emulator-password", base_url=pixop_emulator.root_url
    ) as stale:
        with pytest.raises(errors.AuthenticationError) as info:
            await stale.accounts.get()
        assert info.value.error_code == "InvalidCredentialsException"
        assert "emulator-password" not in str(info.value)


async def test_hundred_concurrent_calls_fetch_one_token(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer
) -> None:
    store = legacy_store(pixop_emulator.app)
    results = await asyncio.gather(*(legacy.accounts.get() for _ in range(100)))
    assert len(results) == 100
    assert store.issued_tokens == 1
    assert legacy.jwt_auth.refresh_count == 1


async def test_expired_token_is_refreshed_once_and_replayed(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer
) -> None:
    store = legacy_store(pixop_emulator.app)
    await legacy.accounts.get()
    pixop_emulator.state.clock.advance(LIFETIME + 1)  # server-side expiry the client cannot see
    results = await asyncio.gather(*(legacy.accounts.get() for _ in range(20)))
    assert len(results) == 20
    assert store.issued_tokens == 2
    assert store.rejections["ExpiredJWTTokenException"] == 20


def _forge(emu: EmulatorServer, **kwargs: object) -> str:
    state = emu.state
    team = team_ids(emu)[0]
    return issue_token(state, legacy_store(emu.app), state.seed_user_id, team, **kwargs)  # type: ignore[arg-type]


async def test_every_jwt_exception_is_mapped(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer
) -> None:
    emu = pixop_emulator
    await legacy.accounts.get()  # creates the signing key
    cases = {
        "garbage.token.value": lerr.InvalidJWTTokenError,
        _forge(emu, eternal=True): lerr.EternalJWTTokenError,
        _forge(emu, not_before=emu.state.clock.time() + 600): lerr.PrematureJWTTokenError,
        _forge(emu, extra={"team": str(uuid.uuid4())}): lerr.InconsistentJWTClaimsError,
        _forge(emu, lifetime=-1): lerr.ExpiredJWTTokenError,
    }
    for token, cls in cases.items():
        with pytest.raises(cls) as info:
            await legacy.accounts.validate_token(token)
        assert info.value.status == 401
        assert token not in str(info.value)
    with pytest.raises(lerr.NoJWTTokenError):
        await legacy.request("GET", legacy.service_url("accounts", "/v1/account"), auth=NoAuth())
    with pytest.raises(lerr.NoJWTTokenError):
        # Basic credentials are not accepted where a JWT is required.
        await legacy.request(
            "GET", legacy.service_url("videos", "/v1/projects"), auth=legacy.basic_auth
        )


async def test_auth_outage_maps_and_is_retried_when_safe(pixop_emulator: EmulatorServer) -> None:
    store = legacy_store(pixop_emulator.app)
    no_retry = ClientConfig(retry=RetryPolicy.disabled())
    async with legacy_client(pixop_emulator, config=no_retry) as client:
        await client.accounts.get()
        store.auth_outages = 1
        with pytest.raises(lerr.LegacyAuthServiceError) as info:
            await client.accounts.get()
        assert info.value.status == 500
    fast = ClientConfig(retry=RetryPolicy(base_delay=0.01, max_delay=0.02))
    async with legacy_client(pixop_emulator, config=fast) as client:
        await client.accounts.get()
        store.auth_outages = 2
        assert (await client.accounts.get()).user.email == pixop_emulator.email
        assert store.auth_outages == 0


async def test_banned_user_gets_a_clear_error_without_retries(
    legacy: PixopLegacy, pixop_emulator: EmulatorServer
) -> None:
    store = legacy_store(pixop_emulator.app)
    await legacy.accounts.get()
    store.ban(pixop_emulator.state, pixop_emulator.state.seed_user_id, "chargeback")
    with pytest.raises(lerr.UserBannedError) as info:
        await legacy.accounts.get()
    assert "banned" in str(info.value)
    assert store.rejections["UserBannedException"] == 1
    # A fresh login is refused the same way, once.
    legacy.jwt_auth.invalidate()
    with pytest.raises(lerr.UserBannedError):
        await legacy.videos.create_project("x")
    assert store.issued_tokens == 1


async def test_client_validates_before_sending(legacy: PixopLegacy) -> None:
    with pytest.raises(errors.InvalidRequestError) as info:
        await legacy.accounts.validate_token("")
    assert info.value.field == "token"
    assert legacy.jwt_auth.refresh_count == 0
    with pytest.raises(errors.InvalidRequestError):
        PixopLegacy(email="", password="x")
    text = repr(PixopLegacy(email="a@b.c", password="hunter2-secret"))
    assert "hunter2" not in text

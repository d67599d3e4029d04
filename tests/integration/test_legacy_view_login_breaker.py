"""Breaking the legacy views' own login (b17c): many views refreshing at once, a view
giving up or cancelled mid-login, a view whose login fails, a view whose extras would
change the shared token's team, an expiry in a view's transfer, and credentials in logs."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from pathlib import Path

import pytest

from pixop_async import RetryPolicy
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.faults import Fault
from pixop_async.emulator.legacy import legacy_store
from pixop_async.errors import APITimeoutError, InvalidRequestError, PixopError
from pixop_async.transfer import TransferConfig

from .legacy_helpers import legacy_client
from .test_legacy_view_login import Relay, relay  # noqa: F401  (the fixture)

TOKEN = "/accounts/v1/token"
LIFETIME = 3.0


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(jwt_lifetime_seconds=LIFETIME)


async def test_twenty_views_refreshing_at_once_make_one_login(
    pixop_emulator: EmulatorServer,
) -> None:
    store = legacy_store(pixop_emulator.app)
    # the first login stalls: the short-timeout view holding it gives up, the next one in
    # line logs in (once), every other waiter uses that token
    pixop_emulator.faults.add(Fault(delay=2.0, path=TOKEN, method="GET"))
    async with legacy_client(pixop_emulator) as legacy:
        short = legacy.with_options(timeout=0.4, extra_headers={"X-View": "short"})
        views = [short] + [
            legacy.with_options(
                timeout=30 + n,
                extra_headers={"X-View": str(n)},
                extra_query={"trace": str(n)},
                retry=RetryPolicy(max_attempts=1 + n % 3, base_delay=0, max_delay=0),
            )
            for n in range(19)
        ]
        results = await asyncio.gather(
            *(view.accounts.get() for view in views), return_exceptions=True
        )
        assert isinstance(results[0], APITimeoutError), results[0]
        assert all(not isinstance(r, BaseException) for r in results[1:]), results
        assert legacy.jwt_auth.refresh_count == 1  # the abandoned login was never adopted
        assert store.issued_tokens <= 2  # the abandoned one may have been answered late
        issued = store.issued_tokens
        # the client and every view go on with that one token
        await legacy.accounts.get()
        await asyncio.gather(*(view.accounts.get() for view in views))
        assert legacy.jwt_auth.refresh_count == 1 and store.issued_tokens == issued


async def test_a_view_cancelled_mid_login_leaves_no_trace(
    pixop_emulator: EmulatorServer,
) -> None:
    pixop_emulator.faults.add(Fault(delay=30, path=TOKEN, method="GET"))
    async with legacy_client(pixop_emulator) as legacy:
        view = legacy.with_options(extra_headers={"X-View": "cancelled"})
        task = asyncio.create_task(view.accounts.get())
        for _ in range(2000):  # until the login is on the server
            if pixop_emulator.faults.hits:
                break
            await asyncio.sleep(0.01)
        assert pixop_emulator.faults.hits == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert legacy.jwt_auth.expires_in is None  # nothing adopted
        other = legacy.with_options(timeout=10)
        account = await asyncio.wait_for(other.accounts.get(), 20)
        assert account.user.email == pixop_emulator.email
        assert legacy.jwt_auth.refresh_count == 1


async def test_a_view_whose_login_fails_does_not_break_the_clients(
    pixop_emulator: EmulatorServer,
) -> None:
    pixop_emulator.faults.add(Fault(status=400, path=TOKEN, method="GET"))
    async with legacy_client(pixop_emulator) as legacy:
        bad = legacy.with_options(extra_headers={"X-Bad": "yes"}, retry=RetryPolicy.disabled())
        with pytest.raises(PixopError) as caught:
            await bad.accounts.get()
        assert getattr(caught.value, "status", None) == 400
        assert pixop_emulator.password not in str(caught.value)
        assert legacy.jwt_auth.refresh_count == 0
        account = await legacy.accounts.get()  # the client's own login is unaffected
        assert account.user.email == pixop_emulator.email
        assert legacy.jwt_auth.refresh_count == 1


async def test_a_view_cannot_switch_the_shared_tokens_team(
    pixop_emulator: EmulatorServer,
) -> None:
    state = pixop_emulator.state
    user = next(u for u in state.users.values() if u["email"] == pixop_emulator.email)
    teams = [t["id"] for t in state.user_teams(user["id"])]
    main_team, second_team = teams[0], teams[1]
    async with legacy_client(pixop_emulator) as legacy:
        view = legacy.with_options(extra_query={"team-id": second_team})
        # the login's token is every view's and the client's: a view's extra query may
        # not bind it to another team (refused before any request)
        with pytest.raises(InvalidRequestError, match="team-id") as caught:
            await view.accounts.get()
        assert caught.value.field == "extra_query"
        assert legacy.jwt_auth.refresh_count == 0
        assert str((await legacy.accounts.get()).team.id) == main_team
        # a token asked for explicitly is the caller's own: that stays possible
        token = await view.accounts.create_token()
        assert str(token.team_id) == second_team
        assert str((await legacy.accounts.get()).team.id) == main_team


async def test_an_expiry_during_a_views_transfer_relogs_once(
    pixop_emulator: EmulatorServer, tmp_path: Path
) -> None:
    store = legacy_store(pixop_emulator.app)
    source = tmp_path / "clip.mov"
    source.write_bytes(os.urandom(300_000))
    async with legacy_client(
        pixop_emulator, transfer=TransferConfig(part_size=64 * 1024, fsync=False)
    ) as legacy:
        view = legacy.with_options(timeout=20, extra_headers={"X-View": "t"})
        created = await view.videos.create(name="clip")
        pixop_emulator.state.clock.advance(LIFETIME + 5)  # dead server-side, fresh locally
        await view.media.upload(created.video_id, source)
        assert store.rejections["ExpiredJWTTokenException"] == 1
        pixop_emulator.state.clock.advance(LIFETIME + 5)
        results = await asyncio.gather(
            *(
                view.media.download_original(created.video_id, tmp_path / f"c{i}.mov")
                for i in range(3)
            )
        )
        assert all(r.path.read_bytes() == source.read_bytes() for r in results)
        assert store.issued_tokens == legacy.jwt_auth.refresh_count == 3


async def test_no_credential_in_debug_logs_or_reprs(
    pixop_emulator: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pixop_emulator.faults.add(Fault(status=503, times=1, path=TOKEN, method="GET"))
    async with legacy_client(pixop_emulator) as legacy:
        view = legacy.with_options(
            timeout=10, retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)
        )
        await view.accounts.get()
        token = await legacy.jwt_auth.token()
        basic = base64.b64encode(
            f"{pixop_emulator.email}:{pixop_emulator.password}".encode()
        ).decode()
        shown = [caplog.text, repr(legacy), repr(view), repr(view._session_auth)]
        shown += [repr(legacy.basic_auth), repr(legacy.jwt_auth), str(view.options)]
        for text in shown:
            for secret in (pixop_emulator.password, token, basic, token.split(".")[2]):
                assert secret not in text, text[:300]

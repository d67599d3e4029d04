"""The admin Pixop-Mimir integration: client against the emulator, plus request shape."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from aioresponses import aioresponses

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer, lifecycle
from pixop_async.emulator.routes import mimir
from pixop_async.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    MissingCredentialsError,
    NotFoundError,
)
from pixop_async.models.admin import MimirSetup
from pixop_async.resources.admin import MimirAdminAuth

MIMIR_KEY = "mimir-secret-key-0123456789"
DAY = 86_400


def call_args(**overrides: Any) -> dict[str, Any]:
    return {
        "mimir_tenant": "tenant-a",
        "mimir_api_key": MIMIR_KEY,
        "mimir_notification_user_id": "mimir-user-1",
        **overrides,
    }


async def settle() -> None:
    """Let the emulator's sweeper (every 0.2 s) run once."""
    await asyncio.sleep(mimir.SWEEP_SECONDS * 2)


def teams(emu: EmulatorServer) -> list[str]:
    return [t["id"] for t in emu.state.user_teams(emu.state.seed_user_id)]


def make_master(emu: EmulatorServer, tmp_path: Path, team_id: str) -> dict[str, Any]:
    source = tmp_path / f"{uuid.uuid4()}.mp4"
    source.write_bytes(b"\x00" * 2048)
    project = next(
        (p for p in emu.state.projects.values() if p["teamId"] == team_id), None
    ) or emu.state.add_project(team_id, "Default Project")
    return lifecycle.create_ingested_video(
        emu.state,
        team_id=team_id,
        project_id=project["id"],
        user_id=emu.state.seed_user_id,
        name="master.mp4",
        media_path=source,
    )


async def test_create_update_and_delete(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    emu, api = pixop_emulator, pixop_client.admin.mimir_integration
    before = emu.state.clock.time()
    created = await api.create_or_update(
        **call_args(
            days_to_live=30,
            tenant_idle_lease_window_hours=72,
            max_processing_jobs_per_source_video=3,
            comment_on_ingestion_finished=False,
        )
    )
    default_team = emu.state.default_team(emu.state.seed_user_id)
    assert default_team is not None
    assert created.mimir_tenant == "tenant-a"
    assert str(created.team_id) == default_team["id"]
    assert created.mimir_notification_user_id == "mimir-user-1"
    assert (created.days_to_live, created.tenant_idle_lease_window_hours) == (30, 72)
    assert created.max_processing_jobs_per_source_video == 3
    assert created.comment_on_ingestion_finished is False
    assert created.comment_on_processing_finished is True
    assert created.manual_steps == [] and created.mimir_setup_applied is False
    assert created.expires_at is not None
    ttl = created.expires_at.timestamp() - before
    assert 30 * DAY - 5 < ttl < 30 * DAY + 5
    webhook = mimir.webhook_of(emu.state, "tenant-a")
    assert webhook is not None and str(created.webhook_id) == webhook["id"]
    assert webhook["teamId"] == default_team["id"] and webhook["active"] is True
    assert "video_processing.done" in webhook["eventTypes"]

    # Renewing with defaults keeps the mapping and its webhook, and resets the TTL to 90 days.
    emu.state.clock.advance(10 * DAY)
    renewed = await api.create_or_update(**call_args(mimir_notification_user_id="mimir-user-2"))
    assert renewed.webhook_id == created.webhook_id
    assert renewed.days_to_live == 90 and renewed.tenant_idle_lease_window_hours == 48
    assert renewed.comment_on_ingestion_finished is True
    assert renewed.mimir_notification_user_id == "mimir-user-2"
    assert renewed.expires_at is not None
    assert renewed.expires_at.timestamp() - emu.state.clock.time() > 89 * DAY

    await api.delete(mimir_tenant="tenant-a", mimir_api_key=MIMIR_KEY)
    assert "tenant-a" not in mimir.world(emu.state).integrations
    assert mimir.webhook_of(emu.state, "tenant-a") is None
    assert not any(
        w["id"] == str(created.webhook_id) for w in mimir.webhook_store(emu.state).values()
    )
    with pytest.raises(NotFoundError):
        await api.delete(mimir_tenant="tenant-a", mimir_api_key=MIMIR_KEY)


async def test_tenant_mapped_to_another_team_is_a_conflict(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    api = pixop_client.admin.mimir_integration
    first, second = teams(pixop_emulator)
    created = await api.create_or_update(**call_args(team_id=first))
    with pytest.raises(ConflictError) as info:
        await api.create_or_update(**call_args(team_id=second, days_to_live=5))
    assert info.value.status == 409
    record = mimir.world(pixop_emulator.state).integrations["tenant-a"]
    assert record["teamId"] == first and record["daysToLive"] == 90
    assert record["webhookId"] == str(created.webhook_id)
    # another tenant may use the second team
    other = await api.create_or_update(**call_args(mimir_tenant="tenant-b", team_id=second))
    assert str(other.team_id) == second and other.webhook_id != created.webhook_id


async def test_unknown_processing_configurations_are_named_and_nothing_changes(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    api = pixop_client.admin.mimir_integration
    missing = [uuid.uuid4(), uuid.uuid4()]
    with pytest.raises(BadRequestError) as info:
        await api.create_or_update(
            **call_args(mimir_setup=MimirSetup(processing_configuration_ids=missing))
        )
    for config_id in missing:
        assert str(config_id) in str(info.value)
    assert info.value.error_code == "PROCESSING_CONFIGURATION_NOT_FOUND"
    assert mimir.world(pixop_emulator.state).integrations == {}
    assert mimir.webhook_store(pixop_emulator.state) == {} or all(
        "Mimir" not in w["name"] for w in mimir.webhook_store(pixop_emulator.state).values()
    )


async def test_failed_mimir_setup_changes_nothing(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    api = pixop_client.admin.mimir_integration
    world = mimir.world(pixop_emulator.state)
    await api.create_or_update(**call_args(days_to_live=20))
    before = {k: dict(v) for k, v in world.integrations.items()}
    webhooks_before = {k: dict(v) for k, v in mimir.webhook_store(pixop_emulator.state).items()}
    world.rejected_api_keys.add("revoked-mimir-key")
    with pytest.raises(BadRequestError) as info:
        await api.create_or_update(
            **call_args(
                mimir_api_key="revoked-mimir-key", days_to_live=60, mimir_setup=MimirSetup()
            )
        )
    assert info.value.error_code == "MIMIR_SETUP_FAILED"
    assert "revoked-mimir-key" not in str(info.value)
    assert world.integrations == before
    assert mimir.webhook_store(pixop_emulator.state) == webhooks_before


async def test_setup_returns_manual_steps_from_its_input(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    api = pixop_client.admin.mimir_integration
    plain = await api.create_or_update(**call_args(mimir_setup=MimirSetup()))
    assert plain.mimir_setup_applied is True
    assert any("Ingest in Pixop" in step for step in plain.manual_steps)
    assert any("labels" in step for step in plain.manual_steps)
    approval = await api.create_or_update(
        **call_args(
            mimir_setup=MimirSetup(require_processing_approval=True, labels={"ingest": "Send"})
        )
    )
    assert any("approvers" in step for step in approval.manual_steps)
    assert not any("labels" in step for step in approval.manual_steps)
    mapping_only = await api.create_or_update(**call_args())
    assert mapping_only.manual_steps == [] and mapping_only.mimir_setup_applied is False


async def test_ttl_expiry_deletes_the_integration_and_its_webhook(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    api = pixop_client.admin.mimir_integration
    await api.create_or_update(**call_args(days_to_live=2))
    pixop_emulator.state.clock.advance(DAY)
    await settle()
    assert "tenant-a" in mimir.world(pixop_emulator.state).integrations
    pixop_emulator.state.clock.advance(DAY + 60)
    await settle()
    assert mimir.world(pixop_emulator.state).integrations == {}
    assert mimir.webhook_store(pixop_emulator.state) == {} or all(
        "tenant-a" not in w["url"] for w in mimir.webhook_store(pixop_emulator.state).values()
    )
    with pytest.raises(NotFoundError):
        await api.delete(mimir_tenant="tenant-a", mimir_api_key=MIMIR_KEY)


async def test_new_jobs_reset_the_ttl(
    pixop_emulator: EmulatorServer, pixop_client: Pixop, tmp_path: Path
) -> None:
    emu = pixop_emulator
    created = await pixop_client.admin.mimir_integration.create_or_update(
        **call_args(days_to_live=3)
    )
    assert created.expires_at is not None
    master = make_master(emu, tmp_path, str(created.team_id))
    emu.state.clock.advance(2 * DAY)
    emu.state.emit("video_processing.started", master["id"])  # a new Pixop job
    record = mimir.world(emu.state).integrations["tenant-a"]
    renewed = dt.datetime.fromisoformat(record["expiresAt"].replace("Z", "+00:00"))
    assert (renewed - created.expires_at).total_seconds() > 2 * DAY - 5
    emu.state.clock.advance(2 * DAY)  # past the original expiry, inside the renewed one
    await settle()
    assert "tenant-a" in mimir.world(emu.state).integrations


async def test_idle_lease_window_deletes_unused_masters(
    pixop_emulator: EmulatorServer, pixop_client: Pixop, tmp_path: Path
) -> None:
    emu, api = pixop_emulator, pixop_client.admin.mimir_integration
    created = await api.create_or_update(**call_args(tenant_idle_lease_window_hours=24))
    team_id = str(created.team_id)
    idle = make_master(emu, tmp_path, team_id)
    used = make_master(emu, tmp_path, team_id)
    busy = make_master(emu, tmp_path, team_id)
    other_team = next(t for t in teams(emu) if t != team_id)
    elsewhere = make_master(emu, tmp_path, other_team)
    await settle()
    emu.state.clock.advance(20 * 3600)
    emu.state.emit("video_processing.started", used["id"])  # use renews the lease
    busy["flags"]["isProcessing"] = True  # work in progress keeps a master alive
    emu.state.clock.advance(5 * 3600)
    await settle()
    assert idle["id"] not in emu.state.videos
    assert {used["id"], busy["id"], elsewhere["id"]} <= set(emu.state.videos)
    # lowering the window recomputes leases at once: remaining = 2 h - 5 h <= 0
    busy["flags"]["isProcessing"] = False
    await api.create_or_update(**call_args(tenant_idle_lease_window_hours=2))
    assert used["id"] not in emu.state.videos
    assert busy["id"] in emu.state.videos  # its lease was re-added just now: 2 h remain
    emu.state.clock.advance(3 * 3600)
    await settle()
    assert busy["id"] not in emu.state.videos
    assert elsewhere["id"] in emu.state.videos


async def test_pixop_api_key_is_required_and_checked(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    api = pixop_client.admin.mimir_integration
    with pytest.raises(AuthenticationError):
        await api.create_or_update(**call_args(pixop_api_key="pxk_not-a-real-key"))
    assert mimir.world(pixop_emulator.state).integrations == {}
    async with Pixop(base_url=pixop_emulator.base_url, require_api_key=False) as keyless:
        with pytest.raises(MissingCredentialsError):
            await keyless.admin.mimir_integration.create_or_update(**call_args())
        created = await keyless.admin.mimir_integration.create_or_update(
            **call_args(pixop_api_key=pixop_emulator.api_key)
        )
    assert created.mimir_tenant == "tenant-a"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"days_to_live": 0}, "days_to_live"),
        ({"days_to_live": 91}, "days_to_live"),
        ({"tenant_idle_lease_window_hours": 169}, "tenant_idle_lease_window_hours"),
        ({"tenant_idle_lease_window_hours": 0}, "tenant_idle_lease_window_hours"),
        ({"max_processing_jobs_per_source_video": 6}, "max_processing_jobs_per_source_video"),
        ({"comment_on_processing_finished": "yes"}, "comment_on_processing_finished"),
        ({"team_id": "team-1"}, "team_id"),
        ({"mimir_notification_user_id": ""}, "mimir_notification_user_id"),
        ({"mimir_tenant": "a\r\nX-Evil: 1"}, "mimir_tenant"),
        ({"mimir_api_key": ""}, "mimir_api_key"),
        ({"extra_params": {"daysToLive": 5}}, "extra_params['daysToLive']"),
        ({"extra_params": {"x": [1]}}, "extra_params['x']"),
        (
            {"mimir_setup": MimirSetup(processing_configuration_ids=["nope"])},  # type: ignore[list-item]
            "mimir_setup.processing_configuration_ids[0]",
        ),
        ({"mimir_setup": ["not", "a", "mapping"]}, "mimir_setup"),
    ],
)
async def test_invalid_input_is_refused_before_sending(
    overrides: dict[str, Any], field: str
) -> None:
    async with Pixop("pxk_key", base_url="http://127.0.0.1:9/api") as px:
        with aioresponses() as mocked:  # any request would fail the test
            with pytest.raises(InvalidRequestError) as info:
                await px.admin.mimir_integration.create_or_update(**call_args(**overrides))
            assert not mocked.requests
    assert info.value.field == field
    assert MIMIR_KEY not in str(info.value)


async def test_request_shape_headers_query_and_body() -> None:
    answer = {
        "mimirTenant": "tenant-a",
        "teamId": str(uuid.uuid4()),
        "mimirNotificationUserId": "u1",
        "daysToLive": 7,
        "tenantIdleLeaseWindowHours": 12,
        "maxProcessingJobsPerSourceVideo": 2,
        "commentOnIngestionFinished": True,
        "commentOnProcessingFinished": False,
        "manualSteps": ["do this"],
        "someFutureField": 1,
    }
    config_id = uuid.uuid4()
    team_id = uuid.uuid4()
    async with Pixop("pxk_client_key", base_url="http://pixop.test/api") as px:
        with aioresponses() as mocked:
            mocked.put(re.compile(r"^http://pixop\.test/api/v1/admin/.*"), payload=answer)
            mocked.delete(re.compile(r"^http://pixop\.test/api/v1/admin/.*"), status=204)
            result = await px.admin.mimir_integration.create_or_update(
                **call_args(
                    days_to_live=7,
                    tenant_idle_lease_window_hours=12,
                    team_id=team_id,
                    max_processing_jobs_per_source_video=2,
                    comment_on_processing_finished=False,
                    mimir_setup=MimirSetup(
                        processing_configuration_ids=[config_id], extract_thumbnails=True
                    ),
                    extra_params={"dryRun": True, "ignored": None},
                )
            )
            await px.admin.mimir_integration.delete(
                mimir_tenant="tenant-a", mimir_api_key=MIMIR_KEY, extra_params={"force": 1}
            )
            (put_key, put_calls), (delete_key, delete_calls) = mocked.requests.items()
    assert result.manual_steps == ["do this"] and result.days_to_live == 7
    assert put_key[0] == "PUT"
    query = dict(put_key[1].query)
    assert query == {
        "daysToLive": "7",
        "tenantIdleLeaseWindowHours": "12",
        "teamId": str(team_id),
        "maxProcessingJobsPerSourceVideo": "2",
        "commentOnIngestionFinished": "true",
        "commentOnProcessingFinished": "false",
        "dryRun": "true",
    }
    sent = put_calls[0].kwargs
    assert sent["headers"]["x-pixop-api-key"] == "pxk_client_key"
    assert sent["headers"]["x-mimir-api-key"] == MIMIR_KEY
    assert sent["headers"]["x-mimir-tenant"] == "tenant-a"
    assert "X-API-Key" not in sent["headers"]
    body = json.loads(sent["data"])
    assert body == {
        "mimirNotificationUserId": "mimir-user-1",
        "mimirSetup": {"processingConfigurationIds": [str(config_id)], "extractThumbnails": True},
    }
    assert delete_key[0] == "DELETE" and dict(delete_key[1].query) == {"force": "1"}
    assert delete_calls[0].kwargs["headers"]["x-mimir-tenant"] == "tenant-a"


def test_auth_repr_hides_both_keys() -> None:
    auth = MimirAdminAuth("pxk_secret_pixop_key", MIMIR_KEY, "tenant-a")
    text = repr(auth)
    assert MIMIR_KEY not in text and "pxk_secret_pixop_key" not in text
    assert "tenant-a" in text


async def test_integration_webhook_is_delivered_signed_and_comments_in_mimir(
    pixop_emulator: EmulatorServer, pixop_client: Pixop, tmp_path: Path
) -> None:
    emu = pixop_emulator
    created = await pixop_client.admin.mimir_integration.create_or_update(
        **call_args(comment_on_processing_finished=False)
    )
    assert created.webhook_id is not None
    listed = await pixop_client.webhooks.get(created.webhook_id)  # visible through the API
    assert listed.active and str(listed.team_id) == str(created.team_id)
    assert listed.url.startswith(emu.root_url + "/mimir-integration/")
    master = make_master(emu, tmp_path, str(created.team_id))
    emu.state.emit("video_in_ingestion.done", master["id"])
    emu.state.emit("video_processing.done", master["id"])  # comment turned off
    world = mimir.world(emu.state)
    for _ in range(100):
        if len(world.handled_events) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(world.handled_events) == 2  # both deliveries verified and handled
    assert world.comments == [
        {
            "tenant": "tenant-a",
            "videoId": master["id"],
            "userId": "mimir-user-1",
            "eventType": "video_in_ingestion.done",
            "text": "Pixop ingestion finished.",
        }
    ]


async def test_integration_service_refuses_unsigned_deliveries(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    import aiohttp

    created = await pixop_client.admin.mimir_integration.create_or_update(**call_args())
    listed = await pixop_client.webhooks.get(created.webhook_id)
    async with aiohttp.ClientSession() as http, http.post(listed.url, data=b"{}") as response:
        assert response.status == 401
    assert mimir.world(pixop_emulator.state).comments == []


async def test_setup_with_known_configurations(
    pixop_emulator: EmulatorServer, pixop_client: Pixop
) -> None:
    api = pixop_client.admin.mimir_integration
    builtin = [c async for c in pixop_client.processing_configurations.list(built_in_mode="ONLY")]
    assert builtin
    first, second = teams(pixop_emulator)
    raw = await pixop_client._request("GET", f"/v1/processing-configurations/{builtin[0].id}")
    options = raw.json()["options"]
    own = await pixop_client._request(
        "POST", "/v1/processing-configurations", json={"name": "Team cfg", "options": options}
    )
    foreign = await pixop_client._request(
        "POST",
        "/v1/processing-configurations",
        params={"selectTeamId": second},
        json={"name": "Other team cfg", "options": options},
    )
    own_id, foreign_id = own.json()["id"], foreign.json()["id"]
    result = await api.create_or_update(
        **call_args(
            team_id=first,
            mimir_setup=MimirSetup(processing_configuration_ids=[builtin[0].id, own_id]),
        )
    )
    assert any(builtin[0].name in step for step in result.manual_steps)
    assert any("Team cfg" in step for step in result.manual_steps)
    # another team's configuration is unknown to this team; the error names only it
    with pytest.raises(BadRequestError) as info:
        await api.create_or_update(
            **call_args(
                team_id=first,
                mimir_setup={"processingConfigurationIds": [own_id, foreign_id]},
            )
        )
    assert foreign_id in str(info.value) and own_id not in str(info.value)

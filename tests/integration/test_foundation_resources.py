"""Account, teams, projects and API keys end to end against the emulator."""

from __future__ import annotations

import uuid

import pytest

from pixop_async import Pixop, errors
from pixop_async.emulator import EmulatorServer


async def test_account_and_default_team(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    account = await pixop_client.account.get()
    assert account.user.email == pixop_emulator.email
    assert account.default_team.name == "Emulator Team"
    assert pixop_client.rate_limit is not None
    assert pixop_client.rate_limit.limit == pixop_emulator.config.rate_limit_per_minute


async def test_teams_list_and_get(pixop_client: Pixop) -> None:
    page = await pixop_client.teams.list()
    assert page.total_elements == 2
    names = [team.name async for team in pixop_client.teams.list(sort_direction="DESC")]
    assert names == ["Second Team", "Emulator Team"]
    team = await pixop_client.teams.get(page.items[0].id)
    assert team == page.items[0]
    with pytest.raises(errors.NotFoundError) as info:
        await pixop_client.teams.get(uuid.uuid4())
    assert info.value.request_id and info.value.error_code == "RESOURCE_NOT_FOUND"


async def test_projects_crud_and_paging(pixop_client: Pixop) -> None:
    created = [await pixop_client.projects.create(f"p{i:02d}") for i in range(7)]
    first = await pixop_client.projects.list(page_size=3)
    assert (first.page_number, first.page_size, first.total_elements, first.total_pages) == (
        0,
        3,
        8,
        3,
    )
    pages = [page async for page in pixop_client.projects.list(page_size=3).pages()]
    assert [len(p.items) for p in pages] == [3, 3, 2]
    every = [p.name async for p in pixop_client.projects.list(page_size=3)]
    assert every == ["Default Project"] + [p.name for p in created]
    newest_first = await pixop_client.projects.list(page_size=100, sort_direction="DESC").to_list()
    assert [p.name for p in newest_first] == list(reversed(every))
    later = await pixop_client.projects.list(page_size=3, page_number=2)
    assert later.page_number == 2 and [p.name for p in later.items] == every[6:]

    renamed = await pixop_client.projects.update(created[0].id, name="renamed")
    assert renamed.name == "renamed"
    assert (await pixop_client.projects.get(created[0].id)).name == "renamed"
    await pixop_client.projects.delete(created[0].id)
    with pytest.raises(errors.NotFoundError):
        await pixop_client.projects.get(created[0].id)


async def test_project_team_selection(pixop_client: Pixop) -> None:
    teams = await pixop_client.teams.list()
    second = next(t for t in teams.items if t.name == "Second Team")
    project = await pixop_client.projects.create("in second", select_team_id=second.id)
    assert project.team_id == second.id
    only_second = await pixop_client.projects.list(team_id=second.id)
    assert [p.name for p in only_second.items] == ["in second"]
    with pytest.raises(errors.NotFoundError):
        await pixop_client.projects.get_default(select_team_id=second.id)
    with pytest.raises(errors.NotFoundError) as info:
        await pixop_client.projects.create("x", select_team_id=uuid.uuid4())
    assert info.value.error_code == "TEAM_NOT_FOUND"
    default = await pixop_client.projects.get_default()
    assert default.name == "Default Project"


async def test_project_with_videos_cannot_be_deleted(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    project = await pixop_client.projects.create("has videos")
    pixop_emulator.state.videos["v1"] = {"id": "v1", "projectId": str(project.id)}
    with pytest.raises(errors.ConflictError) as info:
        await pixop_client.projects.delete(project.id)
    assert info.value.error_code == "PROJECT_WITH_VIDEOS_CANNOT_BE_DELETED"
    assert info.value.status == 409


async def test_server_side_validation_error(pixop_emulator: EmulatorServer) -> None:
    async with Pixop(pixop_emulator.api_key, base_url=pixop_emulator.base_url) as px:
        with pytest.raises(errors.BadRequestError) as info:
            await px._request("POST", "/v1/projects", json={"name": ""})
    assert info.value.error_code == "VALIDATION_ERROR"
    assert info.value.validation_errors[0]["field"] == "name"


async def test_api_keys_lifecycle(pixop_client: Pixop) -> None:
    created = await pixop_client.api_keys.create("second", description="d")
    assert (
        created.active and created.api_key and created.api_key.endswith(created.api_key_hidden[-3:])
    )
    assert created.api_key not in repr(created)
    with pytest.raises(errors.ConflictError) as info:
        await pixop_client.api_keys.create("third")
    assert info.value.error_code == "MAXIMUM_AMOUNT_OF_ACTIVE_API_KEYS_REACHED"
    inactive = await pixop_client.api_keys.create("third", active=False)
    with pytest.raises(errors.ConflictError):
        await pixop_client.api_keys.activate(inactive.id)
    with pytest.raises(errors.ConflictError) as info:
        await pixop_client.api_keys.delete(created.id)
    assert info.value.error_code == "ACTIVE_API_KEY_CANNOT_BE_DELETED"

    updated = await pixop_client.api_keys.update(created.id, name="renamed", description="new")
    assert (updated.name, updated.description) == ("renamed", "new")
    assert updated.api_key is None
    fetched = await pixop_client.api_keys.get(created.id)
    assert fetched.name == "renamed"
    page = await pixop_client.api_keys.list(page_size=2)
    assert page.total_elements == 3 and page.total_pages == 2

    await pixop_client.api_keys.deactivate(created.id)
    activated = await pixop_client.api_keys.activate(inactive.id)
    assert activated.active
    await pixop_client.api_keys.delete(created.id)
    with pytest.raises(errors.NotFoundError):
        await pixop_client.api_keys.get(created.id)


async def test_new_api_key_authenticates(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    created = await pixop_client.api_keys.create("works")
    assert created.api_key is not None
    async with Pixop(created.api_key, base_url=pixop_emulator.base_url) as other:
        assert (await other.account.get()).user.email == pixop_emulator.email
        await pixop_client.api_keys.deactivate(created.id)
        with pytest.raises(errors.AuthenticationError) as info:
            await other.account.get()
    assert info.value.error_code == "INVALID_API_KEY"


async def test_api_keys_need_basic_credentials(pixop_emulator: EmulatorServer) -> None:
    async with Pixop(pixop_emulator.api_key, base_url=pixop_emulator.base_url) as px:
        with pytest.raises(errors.MissingCredentialsError):
            await px.api_keys.list()
    async with Pixop(
        pixop_emulator.api_key,
        base_url=pixop_emulator.base_url,
        email=pixop_emulator.email,
        password="wrong",
    ) as px:
        with pytest.raises(errors.AuthenticationError) as info:
            await px.api_keys.list()
    assert info.value.error_code == "INVALID_CREDENTIALS"
    assert "wrong" not in str(info.value)


async def test_missing_and_unknown_api_key(pixop_emulator: EmulatorServer) -> None:
    async with Pixop("not-a-real-key", base_url=pixop_emulator.base_url) as px:
        with pytest.raises(errors.AuthenticationError) as info:
            await px.account.get()
    assert info.value.error_code == "INVALID_API_KEY"
    assert "not-a-real-key" not in str(info.value)
    async with Pixop(base_url=pixop_emulator.base_url, require_api_key=False) as px:
        with pytest.raises(errors.MissingCredentialsError):
            await px.account.get()
        with pytest.raises(errors.AuthenticationError) as missing:
            await px.http.request("GET", px.url("/v1/account"))
    assert missing.value.error_code == "MISSING_API_KEY"


async def test_invalid_input_sends_nothing(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    await pixop_client.account.get()
    limiter_before = pixop_client.rate_limit
    assert limiter_before is not None
    cases = [
        pixop_client.projects.create(""),
        pixop_client.projects.create("x" * 48),
        pixop_client.projects.get("not-a-uuid"),
        pixop_client.projects.update(uuid.uuid4(), name=""),
        pixop_client.api_keys.create("k", description="d" * 512),
        pixop_client.teams.get(12),
    ]
    for coro in cases:
        with pytest.raises(errors.InvalidRequestError):
            await coro
    with pytest.raises(errors.InvalidRequestError, match="page_size"):
        pixop_client.projects.list(page_size=101)
    await pixop_client.account.get()
    assert pixop_client.rate_limit is not None
    # exactly one more request reached the emulator: the account call above
    assert pixop_client.rate_limit.remaining == limiter_before.remaining - 1


@pytest.fixture
def pixop_emulator_config():  # type: ignore[no-untyped-def]
    from pixop_async.emulator import EmulatorConfig

    return EmulatorConfig(rate_limit_per_minute=1000)

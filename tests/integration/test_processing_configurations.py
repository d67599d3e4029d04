"""Processing configurations against the emulator."""

from __future__ import annotations

import uuid

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import (
    BadRequestError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from pixop_async.models.processing_options import (
    Denoiser,
    EncodingProfile,
    Filters,
    MediaContainer,
    VideoProcessingConfigurationOptions,
)

OPTIONS = VideoProcessingConfigurationOptions(
    container=MediaContainer.MOV,
    encoding_profile=EncodingProfile.DNXHR_HQ,
    filters=Filters(denoiser=Denoiser.HQDN3D),
)


async def test_create_get_list_delete(pixop_client: Pixop) -> None:
    created = await pixop_client.processing_configurations.create(
        "archive denoise", OPTIONS, description="for the archive"
    )
    assert created.name == "archive denoise" and not created.builtin
    assert created.options == OPTIONS
    assert created.description == "for the archive"
    fetched = await pixop_client.processing_configurations.get(created.id)
    assert fetched == created

    mine = [c async for c in pixop_client.processing_configurations.list(built_in_mode="EXCLUDE")]
    assert [c.id for c in mine] == [created.id]
    builtins = [c async for c in pixop_client.processing_configurations.list(built_in_mode="ONLY")]
    assert builtins and all(c.builtin for c in builtins)
    for conf in builtins:  # the built-in options satisfy every client-side rule
        conf.options.validate()
    everything = [c async for c in pixop_client.processing_configurations.list(page_size=1)]
    assert len(everything) == len(builtins) + 1

    await pixop_client.processing_configurations.delete(created.id)
    with pytest.raises(NotFoundError):
        await pixop_client.processing_configurations.get(created.id)


async def test_built_in_configurations_cannot_be_deleted(pixop_client: Pixop) -> None:
    first = (await pixop_client.processing_configurations.list(built_in_mode="ONLY")).items[0]
    with pytest.raises(PermissionDeniedError):
        await pixop_client.processing_configurations.delete(first.id)


async def test_team_filter_and_other_teams(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    state = pixop_emulator.state
    main, second = state.team_members[state.seed_user_id][:2]
    in_second = await pixop_client.processing_configurations.create(
        "second", OPTIONS, select_team_id=second
    )
    assert str(in_second.team_id) == second
    listed = pixop_client.processing_configurations.list(team_id=main, built_in_mode="EXCLUDE")
    assert [c async for c in listed] == []
    stranger = state.add_user("someone@else.test", "pw-123456", "Someone")
    other_team = state.add_team(stranger["id"], "Elsewhere")
    state.add_project(other_team["id"], "Default Project")
    _, secret = state.add_api_key(stranger["id"], "theirs")
    async with Pixop(secret, base_url=pixop_emulator.base_url) as other:
        with pytest.raises(NotFoundError):
            await other.processing_configurations.get(in_second.id)


async def test_server_validates_the_body(pixop_client: Pixop) -> None:
    with pytest.raises(BadRequestError) as info:
        await pixop_client._request("POST", "/v1/processing-configurations", json={"name": "x"})
    assert info.value.error_code == "VALIDATION_ERROR"
    with pytest.raises(BadRequestError) as info:
        await pixop_client._request(
            "POST",
            "/v1/processing-configurations",
            json={"name": "x", "options": {"container": "MP4", "encodingProfile": "DNXHR_HQ"}},
        )
    assert info.value.error_code == "CONTAINER_IS_NOT_SUPPORTED_FOR_SELECTED_CODEC"
    with pytest.raises(BadRequestError):
        await pixop_client._request(
            "POST", "/v1/processing-configurations", json={"name": "x" * 48, "options": {}}
        )


async def test_client_validation(pixop_client: Pixop) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing_configurations.create("x" * 48, OPTIONS)
    assert info.value.field == "name"
    with pytest.raises(InvalidRequestError) as info:
        await pixop_client.processing_configurations.create(
            "ok", {"container": "MP4", "encodingProfile": "DNXHR_HQ"}
        )
    assert info.value.field == "options.container"
    with pytest.raises(InvalidRequestError) as info:
        pixop_client.processing_configurations.list(built_in_mode="SOMETIMES")
    assert info.value.field == "built_in_mode"
    with pytest.raises(InvalidRequestError):
        await pixop_client.processing_configurations.get(str(uuid.uuid4())[:-1])

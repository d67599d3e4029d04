"""Videos against the emulator: filters, updates, deletion rules, derived, compare-with."""

from __future__ import annotations

import os
import uuid

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorConfig, EmulatorServer
from pixop_async.emulator.lifecycle import start_free_clip
from pixop_async.errors import ConflictError, NotFoundError
from pixop_async.models.videos import ClipMode

from .video_helpers import Events, fast_config, ingested_video

DATA = os.urandom(1_000_000)  # "lasts" 20 s in the emulator


@pytest.fixture
def pixop_emulator_config() -> EmulatorConfig:
    return fast_config()


def _family(emu: EmulatorServer) -> tuple[dict, dict, dict]:
    """A master, its free clip and a processed video of it, all finished."""
    master = ingested_video(emu, DATA, name="master.mp4")
    processed = ingested_video(emu, DATA, name="processed.mp4", master_video_id=master["id"])
    clip = start_free_clip(emu.state, master["id"])
    emu.state.clock.advance(600)  # let the clip finish processing and ingestion
    return master, clip, processed


async def _settle(px: Pixop, video_id: str) -> None:
    for _ in range(3):  # each read ticks the emulator's state machines
        await px.videos.get(video_id)


async def test_list_filters_and_paging(pixop_client: Pixop, pixop_emulator: EmulatorServer) -> None:
    master, clip, processed = _family(pixop_emulator)
    await _settle(pixop_client, clip["id"])
    other_project = await pixop_client.projects.create("Other")
    lonely = ingested_video(pixop_emulator, DATA[:5000], project_id=str(other_project.id))

    def ids(page) -> set[str]:
        return {str(v.id) for v in page.items}

    everything = await pixop_client.videos.list(page_size=100)
    assert ids(everything) == {master["id"], clip["id"], processed["id"], lonely["id"]}
    by_project = await pixop_client.videos.list(project_id=other_project.id)
    assert ids(by_project) == {lonely["id"]}
    by_master = await pixop_client.videos.list(master_video_id=master["id"])
    assert ids(by_master) == {clip["id"], processed["id"]}
    assert ids(await pixop_client.videos.list(clip_mode=ClipMode.ONLY)) == {clip["id"]}
    assert clip["id"] not in ids(await pixop_client.videos.list(clip_mode="EXCLUDE"))
    assert ids(await pixop_client.videos.list(clip_id=clip["id"])) == {clip["id"]}
    team = pixop_emulator.state.default_team(pixop_emulator.state.seed_user_id)
    assert (await pixop_client.videos.list(team_id=team["id"])).total_elements == 4
    first = await pixop_client.videos.list(page_size=3, sort_direction="DESC")
    assert first.total_pages == 2 and len(first.items) == 3
    assert str(first.items[0].id) == lonely["id"]  # newest first
    collected = await pixop_client.videos.list(page_size=1).to_list()
    assert len(collected) == 4


async def test_get_update_and_not_found(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    video = ingested_video(pixop_emulator, DATA[:10_000])
    fetched = await pixop_client.videos.get(video["id"])
    assert fetched.flags.is_master and fetched.flags.is_ingested
    assert fetched.upload is not None and fetched.upload.file is not None
    updated = await pixop_client.videos.update(video["id"], name="Renamed", description="notes")
    assert (updated.name, updated.description) == ("Renamed", "notes")
    assert updated.updated_at > fetched.updated_at
    again = await pixop_client.videos.update(video["id"], description="")
    assert (again.name, again.description) == ("Renamed", "")
    with pytest.raises(NotFoundError):
        await pixop_client.videos.get("00000000-0000-4000-8000-000000000000")


async def test_delete_checks_expected_derived_ids(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    events = Events(pixop_emulator)
    master, clip, processed = _family(pixop_emulator)
    derived = await pixop_client.videos.derived(master["id"])
    assert {str(v.id) for v in derived.items} == {clip["id"], processed["id"]}
    for expected in ([], [processed["id"]]):
        with pytest.raises(ConflictError) as refused:
            await pixop_client.videos.delete(master["id"], expected_derived_ids=expected)
        assert refused.value.error_code == "CONFLICTING_DERIVED_VIDEO_IDS"
    assert (await pixop_client.videos.list()).total_elements == 3  # nothing deleted
    deleted = await pixop_client.videos.delete(
        master["id"], expected_derived_ids=[clip["id"], processed["id"]]
    )
    assert {str(i) for i in deleted} == {master["id"], clip["id"], processed["id"]}
    assert (await pixop_client.videos.list()).total_elements == 0
    assert sorted(k for k, _ in events.seen if k == "video.deleted") == ["video.deleted"] * 3
    project = await pixop_client.projects.get(master["projectId"])
    await pixop_client.projects.delete(project.id)  # no videos left in it


async def test_delete_without_expectations_and_clip_derivatives(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    master = ingested_video(pixop_emulator, DATA)
    processed = ingested_video(pixop_emulator, DATA, master_video_id=master["id"])
    assert await pixop_client.videos.delete(processed["id"], expected_derived_ids=[]) == [
        uuid.UUID(processed["id"])
    ]
    deleted = await pixop_client.videos.delete(master["id"])
    assert [str(i) for i in deleted] == [master["id"]]


async def test_compare_with_preconditions(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    master, clip, processed = _family(pixop_emulator)
    await _settle(pixop_client, clip["id"])
    link = await pixop_client.videos.compare_with(master["id"], processed["id"])
    assert str(link.left_video_id) == master["id"]
    assert str(link.right_video_id) == processed["id"]
    assert master["id"] in link.link
    with pytest.raises(ConflictError) as durations:
        await pixop_client.videos.compare_with(master["id"], clip["id"])  # 20 s vs 10 s
    assert durations.value.error_code == "VIDEO_COMPARISON_CONFLICT"
    stranger = ingested_video(pixop_emulator, DATA, name="other.mp4")
    with pytest.raises(ConflictError) as masters:
        await pixop_client.videos.compare_with(master["id"], stranger["id"])
    assert masters.value.error_code == "VIDEO_COMPARISON_CONFLICT"
    shallow = ingested_video(
        pixop_emulator, DATA, master_video_id=master["id"], full_ingestion=False
    )
    with pytest.raises(ConflictError) as partial:
        await pixop_client.videos.compare_with(master["id"], shallow["id"])
    assert partial.value.error_code == "VIDEO_NOT_FULLY_INGESTED"
    with pytest.raises(NotFoundError):
        await pixop_client.videos.compare_with(master["id"], "00000000-0000-4000-8000-000000000000")

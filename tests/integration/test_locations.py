"""S3 input and output locations against the emulator; secrets stay hidden."""

from __future__ import annotations

import pytest

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import BadRequestError, NotFoundError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET"
ACCESS = "AKIAIOSFODNN7EXAMPLE"


@pytest.mark.parametrize("kind", ["input_locations", "output_locations"])
async def test_location_lifecycle(
    pixop_client: Pixop, pixop_emulator: EmulatorServer, kind: str
) -> None:
    resource = getattr(pixop_client, kind)
    created = await resource.create("archive", "my-archive-bucket", ACCESS, SECRET)
    assert (created.name, created.bucket) == ("archive", "my-archive-bucket")
    assert created.access_key_hidden.endswith("PLE") and ACCESS not in created.access_key_hidden
    assert created.secret_access_key_hidden.endswith("RET")
    assert SECRET not in repr(created) and "RET" not in repr(created)

    fetched = await resource.get(created.id)
    assert fetched == created
    second = await resource.create("second", "other-bucket", "AKIA2", "another-secret")
    team = pixop_emulator.state.default_team(pixop_emulator.state.seed_user_id)
    listed = await resource.list(team_id=team["id"], sort_direction="DESC")
    assert [loc.id for loc in listed.items] == [second.id, created.id]
    others = [
        t
        for t in pixop_emulator.state.user_teams(pixop_emulator.state.seed_user_id)
        if t["id"] != team["id"]
    ]
    assert (await resource.list(team_id=others[0]["id"])).total_elements == 0

    renamed = await resource.update(created.id, name="renamed", secret_access_key="new-secret-xyz")
    assert renamed.name == "renamed" and renamed.bucket == "my-archive-bucket"
    assert renamed.secret_access_key_hidden.endswith("xyz")
    assert renamed.updated_at > created.updated_at
    moved = await resource.update(created.id, bucket="moved-bucket")
    assert moved.bucket == "moved-bucket" and moved.name == "renamed"

    await resource.delete(created.id)
    with pytest.raises(NotFoundError):
        await resource.get(created.id)
    with pytest.raises(NotFoundError):
        await resource.delete(created.id)


async def test_emulator_validates_location_bodies(pixop_client: Pixop) -> None:
    # Bypass the SDK's own checks to see the server-side validation.
    with pytest.raises(BadRequestError) as bad_bucket:
        await pixop_client._request(
            "POST",
            "/v1/input-locations/s3",
            json={"name": "x", "bucket": "Bad_Bucket", "accessKey": "a", "secretAccessKey": "b"},
        )
    assert bad_bucket.value.error_code == "VALIDATION_ERROR"
    with pytest.raises(BadRequestError):
        await pixop_client._request(
            "POST",
            "/v1/output-locations/s3",
            json={"name": "x", "bucket": "good-bucket", "accessKey": "", "secretAccessKey": "b"},
        )


async def test_selected_team_owns_the_location(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    teams = pixop_emulator.state.user_teams(pixop_emulator.state.seed_user_id)
    second = teams[1]
    created = await pixop_client.output_locations.create(
        "team two", "team-two-bucket", ACCESS, SECRET, select_team_id=second["id"]
    )
    listed = await pixop_client.output_locations.list(team_id=second["id"])
    assert [loc.id for loc in listed.items] == [created.id]

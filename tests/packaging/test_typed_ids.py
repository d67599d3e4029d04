"""Typed ids, checked by the type checker users run: ``mypy --strict`` from outside the
repository accepts ``tests/typing/public_types.py`` and refuses an id of the wrong kind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

import pixop_async
from pixop_async import ProjectId, VideoId, ids
from pixop_async.models.account import Project
from pixop_async.models.converter import structure

ROOT = Path(__file__).resolve().parents[2]

WRONG_KINDS = textwrap.dedent(
    """
    import uuid

    import pixop_async


    async def mixes_up_ids(px: pixop_async.Pixop) -> None:
        project = await px.projects.get("0b4bd1b2-1111-4aaa-8aaa-000000000001")
        await px.videos.get(project.id)
        await px.downloads.download(project.team_id, "out.mp4")
        await px.videos.list(project_id=uuid.uuid4())
    """
)


@pytest.mark.slow
def test_mypy_accepts_the_public_types_and_refuses_a_project_id_as_a_video_id(
    tmp_path: Path,
) -> None:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed")
    shutil.copy(ROOT / "tests" / "typing" / "public_types.py", tmp_path)
    (tmp_path / "wrong_ids.py").write_text(WRONG_KINDS)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    done = subprocess.run(
        [mypy, "--strict", "--no-incremental", "public_types.py", "wrong_ids.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    # public_types.py is clean, its `type: ignore[arg-type]` lines included (unused ones
    # would be reported under --strict).
    assert "public_types.py" not in out, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 3, out
    assert 'Argument 1 to "get" of "VideosResource" has incompatible type "ProjectId"' in out
    assert 'expected "VideoId | str"' in out
    assert 'Argument 1 to "download" of "DownloadsResource" has incompatible type "TeamId"' in out
    assert '"project_id" to "list" of "VideosResource" has incompatible type "UUID"' in out


def test_ids_are_public_and_plain_uuids_at_run_time() -> None:
    assert set(ids.__all__) <= set(pixop_async.__all__)
    for name in ids.__all__:
        assert getattr(pixop_async, name) is getattr(ids, name)
    raw = uuid.uuid4()
    assert VideoId(raw) is raw  # no wrapper object: comparisons and str() are unchanged
    project = structure(
        {
            "id": str(raw),
            "name": "p",
            "isSample": False,
            "teamId": str(uuid.uuid4()),
            "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
        },
        Project,
    )
    assert project.id == ProjectId(raw) and type(project.id) is uuid.UUID

"""Progress-bar labels and fields are file names and server text: shown as typed, never
read as rich markup (a ``[/x]`` crashed the display, a ``[red]`` restyled it)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from pixop_async.cli.bars import percent_progress, transfer_progress

HOSTILE = ["clip[/x].mp4", "[red]not red[/red]", "a [link=http://x]b", "[bold"]


@pytest.mark.parametrize("label", HOSTILE)
def test_labels_and_statuses_render_as_plain_text(label: str) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False, color_system=None)
    for progress in (transfer_progress(console), percent_progress(console)):
        task = progress.add_task(label, total=100, status=label)
        console.print(progress.make_tasks_table([progress.tasks[task]]))
    shown = out.getvalue()
    assert shown.count(label) >= 3  # two labels and the status, exactly as typed

"""Breaker b17d: bar labels and fields are inert for the terminal too. A file name or a
server status carrying escape sequences (clear screen, window title, colours) or line
breaks is shown with those characters escaped, on one line, in every bar of the CLI."""

from __future__ import annotations

import argparse
import io
import re
import unicodedata

import pytest
from rich.console import Console
from rich.progress import Progress

from pixop_async.cli.bars import percent_progress, transfer_progress
from pixop_async.cli.bulk_cmd import _bars

SGR = re.compile(r"\x1b\[[0-9;]*m")
HOSTILE = [
    "evil\x1b[2J.mp4",
    "title\x1b]0;pwned\x07.mp4",
    "two\r\nlines.mp4",
    "bidi\u202egnp.mp4",
    "xyz\x00[/x]",
]


def rendered(progress: Progress, console: Console, label: str, **fields: str) -> str:
    task = progress.add_task(label, total=100, **fields)
    console.print(progress.make_tasks_table([progress.tasks[task]]))
    out = console.file
    assert isinstance(out, io.StringIO)
    return out.getvalue()


@pytest.mark.parametrize("label", HOSTILE)
def test_controls_in_labels_and_statuses_never_reach_the_terminal(label: str) -> None:
    console = Console(file=io.StringIO(), width=300, force_terminal=True)
    rendered(transfer_progress(console), console, label)
    rendered(percent_progress(console), console, label, status=label)
    bulk = Progress(*_bars(argparse.Namespace(no_progress=False)).columns, console=console)
    shown = rendered(bulk, console, label, detail=label)  # the three bars' output
    # rich's own colours are the only escape sequences; nothing of the label's controls
    text = SGR.sub("", shown)
    assert [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")] == []
    assert text.count(label[:3]) == 5, text  # 3 labels, a status, a detail, each shown
    assert text.count("\n") == 3  # each bar on one line

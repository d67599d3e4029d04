"""Rich progress bars fed by the SDK's ``progress(done, total)`` callbacks."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


def transfer_progress(console: Console | None = None) -> Progress:
    """A progress display with size, rate and ETA columns for byte transfers."""
    return Progress(
        TextColumn("[bold]{task.description}", justify="left"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def percent_progress(console: Console | None = None) -> Progress:
    """A progress display for operations that report a percentage."""
    return Progress(
        TextColumn("[bold]{task.description}", justify="left"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[status]}"),
        console=console,
    )


def byte_callback(progress: Progress, task: TaskID) -> Callable[[int, int | None], None]:
    """A transfer callback that moves ``task`` to the reported byte count."""

    def update(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    return update

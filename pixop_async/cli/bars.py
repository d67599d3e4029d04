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


def label_column() -> TextColumn:
    """A task's label in bold, shown as plain text: labels are file names and server
    text, never rich markup (a ``[/x]`` in a name would crash the display)."""
    return TextColumn("{task.description}", style="bold", markup=False, justify="left")


def field_column(name: str) -> TextColumn:
    """A task field (a status or detail from the server), shown as plain text."""
    return TextColumn(f"{{task.fields[{name}]}}", markup=False)


def transfer_progress(console: Console | None = None) -> Progress:
    """A progress display with size, rate and ETA columns for byte transfers."""
    return Progress(
        label_column(),
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
        label_column(),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        field_column("status"),
        console=console,
    )


def byte_callback(progress: Progress, task: TaskID) -> Callable[[int, int | None], None]:
    """A transfer callback that moves ``task`` to the reported byte count."""

    def update(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    return update

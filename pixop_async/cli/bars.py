"""Rich progress bars fed by the SDK's ``progress(done, total)`` callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from .failures import printable


class InertTextColumn(TextColumn):
    """A text column for file names and server text: never rich markup (a ``[/x]`` would
    crash the display) and never terminal controls (escape sequences, CR/LF and the like
    are shown escaped, so a name cannot clear the screen or break the bar's line)."""

    def __init__(self, text_format: str, **kwargs: Any) -> None:
        super().__init__(text_format, markup=False, **kwargs)

    def render(self, task: Task) -> Text:
        shown = super().render(task)
        return Text(printable(shown.plain), style=shown.style, justify=self.justify)


def label_column() -> TextColumn:
    """A task's label in bold, shown inert (see :class:`InertTextColumn`)."""
    return InertTextColumn("{task.description}", style="bold", justify="left")


def field_column(name: str) -> TextColumn:
    """A task field (a status or detail from the server), shown inert."""
    return InertTextColumn(f"{{task.fields[{name}]}}")


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

"""Tables whose ids stay whole: UUID columns never wrap, and a terminal too narrow for them
gets one ``column: value`` block per row instead of a table with cut or hidden cells."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .failures import printable


def inert(text: object) -> str:
    """``text`` (a server's name, a path) for a console line: its brackets are not markup
    and its control characters are shown escaped."""
    return escape(printable(str(text)))


#: An id as the API writes it (a UUID); such cells must never be cut.
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
ID_WIDTH = 36
#: Narrowest a non-id column may get before the table turns into blocks.
MIN_OTHER = 7


def id_columns(rows: Sequence[Sequence[str]]) -> set[int]:
    """Indexes of the columns holding at least one UUID."""
    return {i for row in rows for i, cell in enumerate(row) if _UUID.match(cell)}


def table_width_needed(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Width a boxed table needs so that every id is on one line and other columns get a
    few characters: the ids in full, the rest at most ``MIN_OTHER``, 3 per column of
    borders and padding, plus the closing border."""
    ids = id_columns(rows)
    width = 1
    for i, name in enumerate(columns):
        if i in ids:
            width += ID_WIDTH
        else:
            longest = max([len(name), *(len(row[i]) for row in rows if i < len(row))])
            width += min(MIN_OTHER, longest)
        width += 3
    return width


@attrs.define
class IdSafeTable:
    """A rich renderable: a table when it fits, else one ``column: value`` block per row."""

    title: str
    columns: Sequence[str]
    rows: list[list[str]]

    def table(self) -> Table:
        ids = id_columns(self.rows)
        table = Table(title=self.title)
        for i, name in enumerate(self.columns):
            if i in ids:
                table.add_column(name, no_wrap=True, min_width=ID_WIDTH, overflow="fold")
            else:
                table.add_column(name, overflow="fold")
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))  # values, never markup
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if table_width_needed(self.columns, self.rows) <= options.max_width:
            yield self.table()
            return
        yield Text(self.title, style="bold")
        label = max((len(c) for c in self.columns), default=0)
        for row in self.rows:
            yield Text("")
            for name, cell in zip(self.columns, row, strict=False):
                yield Text(f"{name.rjust(label)}: {cell}", overflow="fold")


def model_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> IdSafeTable:
    """A table from rows of plain values (None shows as a dash) whose ids are never cut;
    the values are text (a server's ``[/x]`` is no markup), control characters escaped."""
    cells = [["-" if cell is None else printable(str(cell)) for cell in row] for row in rows]
    return IdSafeTable(title, list(columns), cells)

"""CLI tables never cut an id, at 80 and 100 columns."""

from __future__ import annotations

import io
import uuid

import pytest
from rich.console import Console

from pixop_async.cli.tables import IdSafeTable, model_table, table_width_needed

LONG = "a rather long video name that goes on and on and on"


def render(table: IdSafeTable, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(table)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return out


def ids_whole(out: str, ids: list[str], width: int) -> None:
    for value in ids:
        assert value in out, (value, out)
    for line in out.splitlines():
        assert len(line) <= width
        assert "…" not in line


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("n_ids", [1, 2, 3])
def test_ids_are_never_cut(width: int, n_ids: int) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3 * n_ids)]
    rows = [
        (LONG, *ids[i * n_ids : (i + 1) * n_ids], "DONE", 123456789, "2026-11-29T19:02:47+00:00")
        for i in range(3)
    ]
    columns = ("name", *(f"id{j}" for j in range(n_ids)), "status", "bytes", "created")
    out = render(model_table("Videos", columns, rows), width)
    ids_whole(out, ids, width)
    # Nothing else is cut either (rich marks a cut cell with an ellipsis): cells fold.
    assert "…" not in out


def test_a_table_when_it_fits_blocks_when_it_does_not() -> None:
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    rows = [("Default Project", ids[0], ids[1], "2026-11-29T19:02:47+00:00")]
    table = model_table("Projects", ("name", "id", "team", "created"), rows)
    assert table_width_needed(table.columns, table.rows) <= 100
    wide = render(table, 100)
    assert "┃ id" in wide and f"│ {ids[0]} │ {ids[1]} │" in wide
    narrow = render(table, 80)
    assert "┃" not in narrow
    assert f"  id: {ids[0]}" in narrow and f"team: {ids[1]}" in narrow


def test_none_shows_as_a_dash() -> None:
    out = render(model_table("T", ("a", "b"), [(None, "x")]), 80)
    assert "│ -" in out

"""Client-side validation names the field and the rule."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixop_async import validation as v
from pixop_async.errors import InvalidRequestError, UnknownEnumValueWarning
from pixop_async.models.enums import SortDirection
from pixop_async.resources._base import paging_params


def test_uuid_accepts_text_and_uuid() -> None:
    raw = uuid.uuid4()
    assert v.uuid_str("project_id", raw) == str(raw)
    assert v.uuid_str("project_id", str(raw).upper()) == str(raw)


@pytest.mark.parametrize("bad", ["", "nope", "1234", 42, None, "../etc/passwd"])
def test_uuid_rejects(bad: object) -> None:
    with pytest.raises(InvalidRequestError) as info:
        v.uuid_str("project_id", bad)
    assert info.value.field == "project_id"
    assert "UUID" in info.value.rule


@given(st.text(min_size=1, max_size=47))
def test_text_within_bounds(value: str) -> None:
    assert v.text("name", value, min_len=1, max_len=47) == value


@pytest.mark.parametrize("value", ["", "x" * 48])
def test_text_out_of_bounds(value: str) -> None:
    with pytest.raises(InvalidRequestError, match="name: length must be between 1 and 47"):
        v.text("name", value, min_len=1, max_len=47)


@pytest.mark.parametrize("value", [0, 101, -1, True, 1.5, "10"])
def test_page_size_rule(value: object) -> None:
    with pytest.raises(InvalidRequestError) as info:
        v.page_size(value)
    assert info.value.field == "page_size"


@given(st.integers(1, 100))
def test_page_size_accepts_range(value: int) -> None:
    assert v.page_size(value) == value


def test_number_rejects_nan_and_bounds() -> None:
    with pytest.raises(InvalidRequestError, match="finite"):
        v.number("mbps", float("nan"))
    with pytest.raises(InvalidRequestError, match=r"between 0\.01 and 4000"):
        v.number("mbps", 5000, minimum=0.01, maximum=4000)


def test_one_of_enum() -> None:
    assert v.one_of("sort_direction", "DESC", SortDirection) is SortDirection.DESC
    with pytest.raises(InvalidRequestError, match="one of ASC, DESC"):
        v.one_of("sort_direction", "UP", SortDirection)
    # a pseudo-member built on purpose is the escape hatch: sent, with a warning
    future = SortDirection("UNKNOWN_FROM_SERVER")
    with pytest.warns(UnknownEnumValueWarning, match="sort_direction"):
        assert v.one_of("sort_direction", future, SortDirection) is future
    with pytest.raises(InvalidRequestError):
        v.one_of("sort_direction", "UNKNOWN_FROM_SERVER", SortDirection)


def test_paging_params() -> None:
    assert paging_params(2, 50, "DESC", "updatedAt") == {
        "pageNumber": 2,
        "pageSize": 50,
        "sortDirection": "DESC",
        "sortBy": "updatedAt",
    }
    with pytest.raises(InvalidRequestError, match="sort_by"):
        paging_params(0, 10, None, "name")
    with pytest.raises(InvalidRequestError, match="page_number"):
        paging_params(-1, 10, None, None)

"""The first request of a resume, planned from a journal (pure, hostile journals)."""

from __future__ import annotations

import pytest

from pixop_async.transfer import journal as jr
from pixop_async.transfer._pin import Validator, validator_from_key, validator_of
from pixop_async.transfer._resume import resume_hint
from pixop_async.transfer.segments import first_request_span

DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
ID = jr.identity_hash("https://store/clip")


@pytest.mark.parametrize(
    "headers",
    [{"ETag": '"abc"'}, {"Last-Modified": DATE}, {"Last-Modified": DATE, "ETag": 'W/"w 1"'}],
)
def test_a_journal_key_gives_back_its_validator(headers: dict[str, str]) -> None:
    made = validator_of(headers)
    assert made is not None and validator_from_key(made.key) == made


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "etag:",
        'etag:W/"weak"',  # a weak ETag never pins
        'etag: "padded"',
        'etag:"a"\r\nX-Evil: 1',
        "last-modified:not a date",
        "last-modified:",
        'sha256:"x"',
        '"no kind"',
    ],
)
def test_a_hostile_journal_key_gives_no_validator(key: str | None) -> None:
    assert validator_from_key(key) is None


BOUNDS = [(0, 9), (10, 19), (20, 29), (30, 34)]


def test_the_span_is_the_first_missing_segment_from_its_first_unwritten_byte() -> None:
    assert first_request_span(BOUNDS, {2: 0, 3: 0}, 1) == (20, 34)
    # a partly written part resumes from its first unwritten byte
    assert first_request_span(BOUNDS, {1: 4, 2: 0, 3: 0}, 1) == (14, 34)
    assert first_request_span(BOUNDS, {0: 0, 1: 4, 2: 0, 3: 0}, 1) == (0, 9)
    assert first_request_span(BOUNDS, {0: 0, 1: 0, 2: 0, 3: 0}, 2) == (0, 19)
    assert first_request_span(BOUNDS, {1: 0, 3: 0}, 1) == (10, 19)  # a gap ends it
    assert first_request_span(BOUNDS, {}, 4) == (34, 34)  # all done: the last byte


def _journal(**changes: object) -> jr.Journal:
    settings: dict[str, object] = {
        "identity": ID,
        "size": 35,
        "etag": 'etag:"v1"',
        "part_size": 10,
        "first_len": None,
        "done": {0: 1, 1: 2},
    }
    settings.update(changes)
    return jr.Journal(**settings)  # type: ignore[arg-type]


def test_a_good_journal_proposes_a_pinned_first_request() -> None:
    hint = resume_hint(_journal(), ID, 10, 1)
    assert hint is not None and (hint.start, hint.end) == (20, 34)
    assert hint.validator == Validator("etag", '"v1"')


@pytest.mark.parametrize(
    "changes",
    [
        {"identity": jr.identity_hash("another")},
        {"etag": None},
        {"etag": 'etag:W/"weak"'},
        {"size": 0},
        {"size": 2**70},
        {"part_size": 7},
        {"first_len": 5},
        {"done": {}},
        {"done": {9: 1}},
        {"done": {}, "partial": {0: (11, 0)}},
    ],
)
def test_a_journal_that_could_not_be_reused_proposes_nothing(changes: dict[str, object]) -> None:
    assert resume_hint(_journal(**changes), ID, 10, 1) is None

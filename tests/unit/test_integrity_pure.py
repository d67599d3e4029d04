"""Issue 10: the pure decisions behind the integrity promise."""

from __future__ import annotations

import collections

import pytest
from multidict import CIMultiDict

from pixop_async.errors import TransferError
from pixop_async.transfer import journal as jr
from pixop_async.transfer._deadline import stall_verdict
from pixop_async.transfer._fdlimit import BulkLimits, bulk_limits
from pixop_async.transfer._pin import (
    EncodedBodyError,
    Validator,
    check_encoding,
    plain_request_headers,
    validator_of,
)
from pixop_async.transfer._target import numbered, server_name
from pixop_async.transfer.config import TransferConfig

DATE = "Wed, 21 Oct 2026 07:28:00 GMT"


def test_validator_prefers_a_strong_etag_then_a_valid_date() -> None:
    assert validator_of({"ETag": '"a"', "Last-Modified": DATE}) == Validator("etag", '"a"')
    # the weak ETag is kept beside the date: it reveals a same-second replacement
    assert validator_of({"ETag": 'W/"a"', "Last-Modified": DATE}) == Validator(
        "last-modified", DATE, 'W/"a"'
    )
    assert validator_of({"Last-Modified": "yesterday"}) is None
    assert validator_of({"ETag": 'W/"a"'}) is None
    assert validator_of({"ETag": '"a\x00"'}) is None
    assert validator_of({}) is None


def test_pins_and_version_checks() -> None:
    etag, date = Validator("etag", '"a"'), Validator("last-modified", DATE)
    assert etag.pin_headers() == {"If-Range": '"a"', "If-Match": '"a"'}
    assert date.pin_headers() == {"If-Range": DATE, "If-Unmodified-Since": DATE}
    assert etag.same_version({"ETag": '"a"'})
    assert not etag.same_version({})  # an answer dropping the ETag proves nothing
    assert not etag.same_version({"ETag": '"b"'})
    assert date.same_version({"Last-Modified": DATE})
    assert not date.same_version({}) and not date.same_version({"Last-Modified": "x"})
    weak = Validator("last-modified", DATE, 'W/"a"')
    assert weak.same_version({"Last-Modified": DATE}) and weak.same_version(
        {"Last-Modified": DATE, "ETag": 'W/"a"'}
    )
    assert not weak.same_version({"Last-Modified": DATE, "ETag": 'W/"b"'})
    assert weak.key != date.key  # a journal of another weak version is not resumed


def test_only_identity_bodies_are_accepted() -> None:
    check_encoding({})
    check_encoding({"Content-Encoding": "identity"})
    for value in ("gzip", "identity, gzip", "br", "x-anything"):
        with pytest.raises(EncodedBodyError):
            check_encoding({"Content-Encoding": value})
    twice = CIMultiDict([("Content-Encoding", "identity"), ("Content-Encoding", "gzip")])
    with pytest.raises(EncodedBodyError):
        check_encoding(twice)
    assert plain_request_headers({"accept-encoding": "gzip", "X": "1"}) == {
        "X": "1",
        "Accept-Encoding": "identity",
    }


def test_journal_fields_are_typed_and_ranged() -> None:
    good = jr.Journal("blake2b:x", 100, "etag:a", 10, 5, {0: 1}, {1: (3, 4)}).to_json()
    assert jr.Journal.from_json(good) is not None
    for key, bad in [
        ("size", True),
        ("size", -1),
        ("size", 1.0),
        ("partSize", 0),
        ("firstLen", "5"),
        ("identity", 5),
        ("etag", ["a"]),
        ("done", {"0": True}),
        ("done", {"-1": 3}),
        ("done", {"0": 2**32}),
        ("partial", {"1": [0, 0]}),
        ("partial", {"1": [1]}),
        ("version", 1),
    ]:
        assert jr.Journal.from_json({**good, key: bad}) is None, (key, bad)


def test_journal_problems_against_the_plan() -> None:
    lengths = [5, 10, 10, 10]
    ok = jr.Journal("i", 35, "e", 10, 5, {0: 1}, {1: (3, 4)})
    assert ok.problem(4, lengths) is None
    assert jr.Journal("i", 35, "e", 10, 5, {9: 1}).problem(4, lengths)
    assert jr.Journal("i", 35, "e", 10, 5, {}, {1: (10, 0)}).problem(4, lengths)
    assert jr.Journal("i", 35, "e", 10, 5, {1: 0}, {1: (3, 0)}).problem(4, lengths)


def test_identity_hash_hides_the_url() -> None:
    hashed = jr.identity_hash("https://h/o?X-Amz-Signature=secret")
    assert hashed.startswith("blake2b:") and "secret" not in hashed and "h/o" not in hashed
    assert hashed == jr.identity_hash("https://h/o?X-Amz-Signature=secret")


def test_server_names_never_end_like_our_files_and_collisions_are_numbered() -> None:
    for offered in ("a.mp4.pixop-part", "a.pixop-part.journal", "b.pixop-part.journal.tmp"):
        assert not server_name(offered).endswith((".pixop-part", ".journal", ".tmp"))
    assert server_name("../../x.mp4") == "x.mp4"
    assert numbered("clip.mp4", 1) == "clip (1).mp4"
    assert numbered("README", 2) == "README (2)"


def test_stall_rule_is_curl_like() -> None:
    samples: collections.deque[tuple[float, int]] = collections.deque()
    assert not stall_verdict(samples, 0.0, 0, 1.0, 100)
    assert not stall_verdict(samples, 0.5, 10, 1.0, 100)  # too early to judge
    assert stall_verdict(samples, 1.0, 50, 1.0, 100)  # 50 bytes in 1 s < 100 B/s
    moving: collections.deque[tuple[float, int]] = collections.deque()
    for t in range(10):
        assert not stall_verdict(moving, t * 0.5, t * 100, 1.0, 100)
    still: collections.deque[tuple[float, int]] = collections.deque()
    stall_verdict(still, 0.0, 7, 1.0, 0)
    assert stall_verdict(still, 1.0, 7, 1.0, 0)  # limit 0: no byte at all is a stall


def test_bulk_limits_fit_the_descriptor_budget() -> None:
    cfg = TransferConfig(max_concurrent_files=64)
    assert bulk_limits(cfg, 8, None) == BulkLimits(64, 8)
    assert bulk_limits(cfg, 8, 10_000) == BulkLimits(64, 8)
    small = bulk_limits(cfg, 8, 100)
    assert small.files * (3 + small.connections) <= 100 and small.files >= 1
    assert bulk_limits(cfg, 8, -50) == BulkLimits(1, 1)


def test_new_errors_are_transfer_errors() -> None:
    from pixop_async.errors import TransferStalledError, TransferTimeoutError

    assert issubclass(TransferStalledError, TransferError)
    assert issubclass(TransferTimeoutError, TransferError)
    assert issubclass(EncodedBodyError, TransferError)


def test_deadline_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        TransferConfig(low_speed_time=0)
    with pytest.raises(ValueError):
        TransferConfig(total_timeout=-1)
    with pytest.raises(ValueError):
        TransferConfig(low_speed_limit=-1)

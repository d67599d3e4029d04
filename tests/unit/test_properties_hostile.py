"""Property tests for the pure protocol decisions under hostile input.

Complements test_transfer_pure.py (planning, Range round trips, CRC combine over splits)
and test_retry.py: here the inputs are arbitrary server-supplied strings and arbitrary
failure sequences, and the properties are the safety rules — never crash, never accept a
range that was not asked for, never produce an unsafe file name, never retry past the
limits or a non-idempotent request that reached the server.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pixop_async.emulator.media import parse_range
from pixop_async.retry import (
    Failure,
    FailureKind,
    RetryPolicy,
    parse_rate_limit_reset,
    parse_retry_after,
    server_advised_delay,
)
from pixop_async.transfer import checksum
from pixop_async.transfer.journal import Journal
from pixop_async.transfer.naming import (
    MAX_NAME_BYTES,
    filename_from_disposition,
    filename_from_url,
    sanitize_filename,
)
from pixop_async.transfer.ranges import content_range_matches, parse_content_range, range_header

HOSTILE_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list('./\\:\x00\x01\n\r \t*?"<>|é𝄞')), max_size=50),
    st.builds(lambda a, b: a * 2000 + b, st.sampled_from(["a", "é", "../", "\x00"]), st.text()),
)


# -- names ------------------------------------------------------------------------------


@settings(max_examples=300)
@given(raw=st.one_of(st.none(), HOSTILE_TEXT))
def test_sanitized_names_are_always_safe(raw: str | None) -> None:
    name = sanitize_filename(raw)
    assert name
    assert "/" not in name and "\\" not in name
    assert all(ord(ch) >= 32 and ord(ch) != 127 for ch in name)
    assert not name.startswith(".") and not name.startswith(" ")
    assert not name.endswith((".", " "))
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert name not in (".", "..")
    assert sanitize_filename(name) == name  # idempotent


@given(value=st.one_of(st.none(), HOSTILE_TEXT))
def test_content_disposition_parsing_never_crashes(value: str | None) -> None:
    offered = filename_from_disposition(value)
    assert offered is None or isinstance(offered, str)
    assert sanitize_filename(offered)  # whatever it offers can be made safe


@given(path=HOSTILE_TEXT)
def test_url_names_never_crash(path: str) -> None:
    name = filename_from_url("https://example.com/" + path)
    assert name is None or isinstance(name, str)


# -- ranges -----------------------------------------------------------------------------


@given(
    value=st.one_of(st.none(), HOSTILE_TEXT, st.from_regex(r"\Abytes [0-9*]+-?[0-9]*/[0-9*]+\Z"))
)
def test_content_range_parsing_never_crashes_and_is_consistent(value: str | None) -> None:
    parsed = parse_content_range(value)
    if parsed is None or parsed.unsatisfied:
        return
    assert parsed.start is not None and parsed.end is not None
    assert 0 <= parsed.start <= parsed.end
    assert parsed.total is None or parsed.end < parsed.total


RANGE = st.tuples(st.integers(0, 2**40), st.integers(0, 2**40), st.integers(1, 2**41)).filter(
    lambda t: t[0] <= t[1] < t[2]
)


@given(asked=RANGE, answered=RANGE)
def test_only_the_exact_range_asked_for_is_accepted(
    asked: tuple[int, int, int], answered: tuple[int, int, int]
) -> None:
    header = "bytes {}-{}/{}".format(*answered)
    assert content_range_matches(header, *asked) == (asked == answered)


@given(
    size=st.integers(1, 2**40),
    start=st.integers(0, 2**40),
    length=st.one_of(st.none(), st.integers(1, 2**40)),
)
def test_client_ranges_mean_the_same_to_the_emulator(
    size: int, start: int, length: int | None
) -> None:
    end = None if length is None else start + length - 1
    served = parse_range(range_header(start, end), size)
    if start >= size:
        assert served is None  # 416: nothing to send
    else:
        assert served == (start, size - 1 if end is None else min(end, size - 1))


# -- CRC32C combine ----------------------------------------------------------------------


@given(a=st.binary(max_size=512), b=st.binary(max_size=512), c=st.binary(max_size=512))
def test_combine_is_associative_with_an_identity(a: bytes, b: bytes, c: bytes) -> None:
    crc = checksum.crc32c
    combine = checksum.crc32c_combine
    left = combine(combine(crc(a), crc(b), len(b)), crc(c), len(c))
    right = combine(crc(a), combine(crc(b), crc(c), len(c)), len(b) + len(c))
    assert left == right == crc(a + b + c)
    assert combine(crc(a), crc(b""), 0) == crc(a)
    assert combine(crc(b""), crc(a), len(a)) == crc(a)


@given(lengths=st.lists(st.integers(0, 2**40), max_size=6), crcs=st.data())
def test_combined_crc_is_always_32_bits(lengths: list[int], crcs: st.DataObject) -> None:
    parts = [(crcs.draw(st.integers(0, 0xFFFFFFFF)), n) for n in lengths]
    assert 0 <= checksum.crc32c_combine_all(parts) <= 0xFFFFFFFF


# -- the journal --------------------------------------------------------------------------

JOURNALS = st.builds(
    Journal,
    identity=st.text(max_size=40),
    size=st.integers(0, 2**50),
    etag=st.one_of(st.none(), st.text(max_size=40)),
    part_size=st.integers(1, 2**30),
    first_len=st.one_of(st.none(), st.integers(1, 2**30)),
    done=st.dictionaries(st.integers(0, 10**5), st.integers(0, 0xFFFFFFFF), max_size=5),
    partial=st.dictionaries(
        st.integers(0, 10**5),
        st.tuples(st.integers(1, 2**30), st.integers(0, 0xFFFFFFFF)),
        max_size=3,
    ),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner)),
    max_leaves=20,
)


@given(journal=JOURNALS)
def test_journal_survives_its_own_encoding(journal: Journal) -> None:
    again = Journal.from_json(json.loads(json.dumps(journal.to_json())))
    assert again == journal


@given(data=st.one_of(JSON, JOURNALS.map(lambda j: {**j.to_json(), "size": "x"})))
def test_a_damaged_journal_is_ignored_not_fatal(data: Any) -> None:
    assert Journal.from_json(data) is None or isinstance(Journal.from_json(data), Journal)


# -- retry decisions -----------------------------------------------------------------------

FAILURES = st.one_of(
    st.builds(Failure, st.just(FailureKind.CONNECT)),
    st.builds(Failure, st.just(FailureKind.TRANSPORT)),
    st.builds(
        Failure,
        st.just(FailureKind.STATUS),
        st.integers(100, 599),
        st.dictionaries(
            st.sampled_from(["Retry-After", "X-RateLimit-Reset", "X-RateLimit-Remaining"]),
            st.one_of(st.text(max_size=8), st.integers(-5, 10**6).map(str)),
            max_size=3,
        ),
    ),
)


@given(
    method=st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"]),
    failures=st.lists(FAILURES, min_size=1, max_size=12),
    rand=st.floats(0, 1, exclude_max=True),
)
def test_retry_decisions_respect_every_limit(
    method: str, failures: list[Failure], rand: float
) -> None:
    policy = RetryPolicy()
    waited, attempt = 0.0, 0
    for failure in failures:
        attempt += 1
        decision = policy.decide(method, attempt, failure, waited=waited, rand=rand, now=0.0)
        if not decision.retry:
            break
        assert attempt < policy.max_attempts
        assert 0 <= decision.delay <= max(policy.max_delay, policy.max_server_delay)
        reached_server = failure.kind is not FailureKind.CONNECT
        if method in ("POST", "PATCH"):
            assert not reached_server  # only a request that never left may be repeated
        if failure.kind is FailureKind.STATUS:
            assert failure.status in policy.retry_statuses
        waited += decision.delay
        assert waited <= policy.max_total_delay
    assert attempt <= policy.max_attempts


@given(value=st.one_of(st.none(), HOSTILE_TEXT, st.floats().map(str)))
def test_server_wait_headers_never_crash_and_are_sane(value: str | None) -> None:
    for parsed in (parse_retry_after(value, now=0.0), parse_rate_limit_reset(value)):
        assert parsed is None or (math.isfinite(parsed) and parsed >= 0)
    advised = server_advised_delay({"Retry-After": value or ""}, now=0.0)
    assert advised is None or advised >= 0

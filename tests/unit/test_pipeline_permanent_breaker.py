"""``is_permanent`` and exception chains (b17c): ``raise ... from PermanentError`` is
permanent at any depth; an exception merely raised while handling one is not; a cyclic
cause chain ends."""

from __future__ import annotations

from pixop_async.pipeline import PermanentError, is_permanent


def test_raised_from_a_permanent_error_at_any_depth() -> None:
    inner = PermanentError("bad input")
    middle = ValueError("middle")
    middle.__cause__ = inner
    outer = RuntimeError("outer")
    outer.__cause__ = middle
    assert is_permanent(outer) and is_permanent(middle)


def test_only_explicit_causes_count() -> None:
    try:
        try:
            raise PermanentError("handled")
        except PermanentError:
            raise RuntimeError("a new, unrelated failure") from None
    except RuntimeError as exc:
        assert not is_permanent(exc)
    context_only = RuntimeError("x")
    context_only.__context__ = PermanentError("y")
    assert not is_permanent(context_only)


def test_a_cyclic_cause_chain_ends() -> None:
    a, b = RuntimeError("a"), RuntimeError("b")
    a.__cause__, b.__cause__ = b, a
    assert not is_permanent(a)


def test_trim_settings_refuse_values_that_only_look_right() -> None:
    import math

    import pytest

    from pixop_async.pipeline import WorkerSettings

    bad = [
        ("trim", "no"),
        ("trim", "false"),
        ("trim", 0),
        ("trim_approximate", "no"),
        ("trim_every", True),
        ("trim_every", 2.0),
        ("trim_interval", "5"),
        ("trim_interval", math.inf),
        ("trim_interval", math.nan),
        ("trim_interval", -1),
        ("trim_interval", True),
    ]
    for name, value in bad:
        with pytest.raises(ValueError, match=name):
            WorkerSettings(**{name: value})
    assert WorkerSettings(trim=False, trim_interval=0, trim_every=1).trim is False


def test_stream_keys_may_lead_with_a_hash_tag() -> None:
    import pytest

    from pixop_async.pipeline.policy import check_key

    for good in ("jobs", "{jobs}:in", "{a.b-c}", "{x}y"):
        assert check_key(good, "stream") == good
    for bad in ("{}", "{jobs", "{jo bs}:in", "{jobs}\n", "x{jobs}", "{" + "a" * 65 + "}", 5):
        with pytest.raises(ValueError, match="stream"):
            check_key(bad, "stream")

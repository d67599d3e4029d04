"""Trimming with entry ids whose sequence part is large (explicit ids): the floor stays a
valid stream id, so the trim runs instead of failing inside the script."""

from __future__ import annotations

from typing import Any

import pytest

from pixop_async.pipeline import trim_acknowledged
from pixop_async.pipeline.trim import TRIM_SCRIPT


@pytest.mark.parametrize(
    ("last", "floor"),
    [
        ("5-9999999999998", "5-9999999999999"),
        ("5-9999999999999", "5-10000000000000"),  # 14 digits: still printed in full
        ("5-99999999999999", "5-99999999999999"),  # + 1 would print as 1e+14: kept
        ("5-18446744073709551614", "5-18446744073709551614"),
    ],
)
async def test_the_floor_after_a_large_sequence_is_a_valid_id(
    redis: Any, ns: str, last: str, floor: str
) -> None:
    stream = f"{ns}:s"
    await redis.xadd(stream, {"n": "first"}, id="4-0")
    await redis.xadd(stream, {"n": "last"}, id=last)
    await redis.xgroup_create(stream, "g", id="0")
    got = await redis.xreadgroup("g", "c", {stream: ">"}, count=2)
    assert [i for i, _ in got[0][1]] == ["4-0", last]
    await redis.xack(stream, "g", "4-0", last)
    result = await trim_acknowledged(redis.register_script(TRIM_SCRIPT), stream, approximate=False)
    assert result.floor == floor
    remaining = [i for i, _ in await redis.xrange(stream)]
    assert remaining == ([last] if floor == last else [])

"""Breaker b17d: a 401/403 is the worker's key, not the message. Against a real redis-server
and real 401s from the emulator (a wrong API key): retried to ``max_deliveries`` then
dead-lettered with the reason; a key put right between deliveries lets the message through;
400/404 still die at once."""

from __future__ import annotations

import asyncio
from typing import Any

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.errors import AuthenticationError, PermissionDeniedError
from pixop_async.legacy.errors import LegacyAuthError
from pixop_async.pipeline import StreamMessage, StreamWorker, WorkerSettings

SETTINGS = WorkerSettings(max_deliveries=3, block=0.05, backoff_base=0.001, backoff_cap=0.01)


async def run_until(worker: StreamWorker, done: Any) -> None:
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(2000):
            if done():
                break
            await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)


async def test_a_real_401_is_retried_then_dead_lettered(
    redis: Any, ns: str, pixop_emulator: EmulatorServer
) -> None:
    calls: dict[str, int] = {}
    keys = {"bad": "pk_wrong_" + "x" * 20, "rotated": "pk_wrong_" + "y" * 20}
    seen: dict[str, list[type[BaseException]]] = {}

    async def handle(message: StreamMessage) -> None:
        name = message.fields["name"]
        calls[name] = calls.get(name, 0) + 1
        if name == "rotated" and calls[name] == 2:
            keys["rotated"] = pixop_emulator.api_key  # the operator fixed the key
        if name == "legacy":
            raise LegacyAuthError(401, "ExpiredJWTTokenException")
        if name == "forbidden":
            raise PermissionDeniedError(403, "not your team")
        async with Pixop(keys[name], base_url=pixop_emulator.base_url) as px:
            try:
                await px.account.get()
            except Exception as exc:
                seen.setdefault(name, []).append(type(exc))
                raise

    stream = f"{ns}:s"
    names = ("bad", "rotated", "legacy", "forbidden")
    for name in names:
        await redis.xadd(stream, {"name": name})
    worker = StreamWorker(redis, stream, "g", handle, settings=SETTINGS)
    await run_until(worker, lambda: worker.stats["dead"] == 3 and worker.stats["handled"] == 1)

    assert seen["bad"] and all(issubclass(t, AuthenticationError) for t in seen["bad"])
    assert calls == {"bad": 3, "rotated": 2, "legacy": 3, "forbidden": 3}
    assert worker.stats["permanent"] == 0
    assert worker.stats["handled"] == 1  # the rotated key got its message through
    letters = {f["name"]: f for _id, f in await redis.xrange(f"{stream}:dead")}
    assert sorted(letters) == ["bad", "forbidden", "legacy"]
    for name in ("bad", "forbidden", "legacy"):
        assert letters[name]["dead.deliveries"] == "3"
    assert "AuthenticationError" in letters["bad"]["dead.error"]
    assert "PermissionDeniedError" in letters["forbidden"]["dead.error"]
    assert await redis.xpending(stream, "g") == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }

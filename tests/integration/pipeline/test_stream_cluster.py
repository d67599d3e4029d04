"""Stream workers on Redis Cluster (b17c): a one-node cluster owning every slot enforces
CROSSSLOT like a real one. A stream led by a hash tag dead-letters and trims; one whose
dead-letter stream lands in another slot is refused when the worker is made (it used to
fail every dead letter, and the message left pending held back trimming for good)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pixop_async.pipeline import PermanentError, StreamMessage, StreamWorker, WorkerSettings

from .conftest import free_port, redis_process


@contextlib.contextmanager
def one_node_cluster() -> Iterator[int]:
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not installed")
    # the cluster bus port is given too (by default port + 10000, past 65535 for a high port)
    cluster = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
    with redis_process(
        *cluster, "--cluster-port", str(free_port()), prefix="pixop-cluster-"
    ) as port:
        run = [cli, "-p", str(port)]
        subprocess.run([*run, "cluster", "addslotsrange", "0", "16383"], check=True,
                       capture_output=True)  # fmt: skip
        deadline = time.monotonic() + 10
        while (
            b"cluster_state:ok"
            not in subprocess.run([*run, "cluster", "info"], capture_output=True, check=True).stdout
        ):
            assert time.monotonic() < deadline, "the cluster did not come up"
            time.sleep(0.05)
        yield port


@pytest.fixture(scope="module")
def cluster_port() -> Iterator[int]:
    with one_node_cluster() as port:
        yield port


@pytest.fixture
async def cluster(cluster_port: int) -> AsyncIterator[Any]:
    from redis.asyncio.cluster import RedisCluster

    client = RedisCluster(
        host="127.0.0.1",
        port=cluster_port,
        decode_responses=True,
        encoding_errors="surrogateescape",
    )
    await client.initialize()
    try:
        yield client
    finally:
        await client.aclose()


async def test_a_hash_tagged_stream_dead_letters_and_trims(cluster: Any) -> None:
    stream = "{b17c}:in"
    await cluster.delete(stream, f"{stream}:dead")
    handled: list[str] = []

    async def handle(message: StreamMessage) -> None:
        if message.fields["n"] == "3":
            raise PermanentError("no retry mends this")
        handled.append(message.fields["n"])

    settings = WorkerSettings(
        trim_every=1, trim_interval=0.05, trim_approximate=False, block=0.05,
        backoff_base=0.001, backoff_cap=0.01,
    )  # fmt: skip
    worker = StreamWorker(cluster, stream, "g", handle, settings=settings)
    await worker.ensure_group()
    for n in range(10):
        await cluster.xadd(stream, {"n": str(n)})
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(1000):
            if worker.stats["dead"] == 1 and await cluster.xlen(stream) == 0:
                break
            await asyncio.sleep(0.01)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)
    assert sorted(handled, key=int) == [str(n) for n in range(10) if n != 3]
    assert worker.stats["dead"] == 1 and worker.stats["errors"] == 0
    assert await cluster.xlen(stream) == 0  # the dead letter no longer holds trimming back
    assert [f["n"] for _i, f in await cluster.xrange(f"{stream}:dead")] == ["3"]


async def test_a_dead_letter_stream_in_another_slot_is_refused(cluster: Any) -> None:
    async def handle(message: StreamMessage) -> None:
        return None

    with pytest.raises(ValueError, match="hash tag"):
        StreamWorker(cluster, "b17c-plain", "g", handle)
    with pytest.raises(ValueError, match="dead_letter"):
        StreamWorker(cluster, "{b17c}:in", "g", handle, dead_letter="{other}:dead")
    StreamWorker(cluster, "{b17c}:in", "g", handle, dead_letter="{b17c}:elsewhere")

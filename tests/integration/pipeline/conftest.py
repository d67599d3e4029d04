"""A real redis-server for the pipeline tests: one per session, on a free loopback port.

Without ``redis-server`` on the PATH the tests using it skip, unless ``PIXOP_REQUIRE_REDIS``
is set (as .ci/run does, after installing it): then they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pixop_async.pipeline import connect


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str:
    """The ``redis-server`` on the PATH; skips (fails with ``PIXOP_REQUIRE_REDIS``) without it."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("PIXOP_REQUIRE_REDIS"):
            pytest.fail(f"{reason}, and PIXOP_REQUIRE_REDIS is set")
        pytest.skip(reason)
    return binary


@contextlib.contextmanager
def redis_process(*extra: str, prefix: str = "pixop-redis-") -> Iterator[int]:
    """Start a throw-away ``redis-server`` (no persistence, in a temp dir, loopback only,
    plus ``extra`` arguments) on a free port; yields the port once it answers PING; stops it."""
    binary = redis_binary()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 10
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock,
                ):
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
            if process.poll() is None:
                process.kill()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away ``redis-server`` (see :func:`redis_process`); yields its URL."""
    with redis_process() as port:
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Any]:
    client = connect(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def ns() -> str:
    """A fresh key prefix per test (tests share the server, never keys)."""
    return f"t{uuid.uuid4().hex[:10]}"


def env_with_path() -> dict[str, str]:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env

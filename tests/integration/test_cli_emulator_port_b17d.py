"""Breaker b17d: ``pixop emulator`` on a port already in use (another emulator on 8080,
the README's default) says which port and how to pick another, without a traceback."""

from __future__ import annotations

import socket

from .test_cli_json_breaker import _env, pixop


async def test_a_busy_port_names_the_port_and_the_way_out() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = await pixop("emulator", "--port", str(port), env=_env())
    shown = (out + err).decode("utf-8")
    assert code == 1, shown
    assert "Traceback" not in shown
    assert f"port {port}" in shown and "--port 0" in shown, shown


async def test_a_failed_start_leaves_no_data_directory() -> None:
    """Each failed start left its temporary data directory (and the app runner) behind."""
    import errno

    import pytest

    from pixop_async.emulator import EmulatorServer

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmulatorServer(port=busy.getsockname()[1])
        data_dir = server.state.data_dir
        assert data_dir.is_dir()
        with pytest.raises(OSError) as caught:
            async with server:
                pass
    assert caught.value.errno == errno.EADDRINUSE
    assert not data_dir.exists()
    assert server._runner is None

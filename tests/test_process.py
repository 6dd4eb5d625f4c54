"""`easychat` as a real process: startup output, signals, --version and --help."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from easychat import __version__
from easychat.chat.config import CoreConfig
from tests.ircclient import TIMEOUT, IRCClient, RunningServer
from tests.serverproc import ServerProcess, clean_env
from tests.test_robustness import assert_serves

# The shutdown promise: every client told, process gone, within this long.
EXIT_SECONDS = 1.0


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Runs `python -m easychat ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "easychat", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=clean_env(),
        check=False,
    )


@pytest.fixture
def server_process() -> Iterator[ServerProcess]:
    """A running `easychat serve`; killed after the test if still alive."""
    proc = ServerProcess(":memory:", "--replay-lines", "0")
    yield proc
    proc.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shuts_down_cleanly(server_process: ServerProcess, signum: signal.Signals) -> None:
    """DESIGN: SIGINT/SIGTERM tell every client the server is shutting down, exit 0."""
    assert_serves(server_process.port)
    clients = [IRCClient(server_process.port) for _ in range(2)]
    # Never reads and never closes: the server's grace period must bound the wait.
    stubborn = IRCClient(server_process.port)
    try:
        clients[0].register("first")
        clients[1].register("second")
        clients[0].expect("JOIN", lambda m: m.nick == "second")
        sent = time.monotonic()
        server_process.proc.send_signal(signum)
        for client in clients:
            got = client.expect_closed(EXIT_SECONDS)
            assert [(m.command, m.params) for m in got] == [("ERROR", ("Server shutting down",))]
            client.close()  # as a real client does on EOF; the server waits for it
        code = server_process.proc.wait(max(0.0, sent + EXIT_SECONDS - time.monotonic()))
        assert code == 0, server_process.output
    finally:
        for client in clients:
            client.close()
        stubborn.close()
    server_process.wait_for(re.compile("server stopped"))


def test_version() -> None:
    """`easychat --version` prints the package version and exits 0."""
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"easychat {__version__}"


def test_serve_help_names_environment_variables() -> None:
    """`easychat serve --help` documents each flag's EASYCHAT_* variable."""
    result = run_cli("serve", "--help")
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout
    assert "EASYCHAT_PORT" in result.stdout
    assert "EASYCHAT_SENDQ" in result.stdout


def test_shutdown_delivers_error_behind_a_backlog(
    make_server: Callable[..., RunningServer],
) -> None:
    """A client with a queue of unread replies still gets every line and the ERROR.

    The client sends thousands of PINGs without reading, so hundreds of kB of
    PONGs wait for it; then the server stops and the client starts reading.
    """
    running = make_server(CoreConfig(autojoin=()))
    client = running.client()
    client.register("backlog", autojoined=False)
    record = running.core.find_client("backlog")
    assert record is not None
    conn = running.server.conns[record.id]
    client.send_raw(b"PING :queued\r\n" * 20_000)
    deadline = time.monotonic() + TIMEOUT
    while conn.out_bytes < 200_000:  # the server is holding a real backlog
        assert time.monotonic() < deadline, f"backlog stayed at {conn.out_bytes} bytes"
        time.sleep(0.001)
    running.server.stop()
    got = client.expect_closed()
    assert got[-1].command == "ERROR"
    assert got[-1].params == ("Server shutting down",)
    assert {m.command for m in got[:-1]} == {"PONG"}
    client.close()

"""Provides a real ngircd server on a loopback port, for interop tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# .ci/run installs ngircd and sets this, so that CI fails instead of skipping.
REQUIRE_ENV = "EASYCHAT_REQUIRE_NGIRCD"

CONFIG = """\
[Global]
Name = irc.test.local
Info = EasyChat interop test server
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = "ngircd test server"
ServerUID = nobody

[Limits]
MaxConnectionsIP = 0
PingTimeout = 120
PongTimeout = 20

[Options]
PAM = no
Ident = no
DNS = no
"""


def ngircd_binary() -> str | None:
    """Path of the ngircd executable, if installed."""
    return shutil.which("ngircd") or (
        "/usr/sbin/ngircd" if Path("/usr/sbin/ngircd").exists() else None
    )


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Waits until something accepts connections on `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ngircd exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port that is not open yet
    raise TimeoutError(f"ngircd did not listen on {port} within {timeout} s")


@pytest.fixture
def ngircd(tmp_path: Path) -> Iterator[int]:
    """Starts ngircd with a config written here; yields its port."""
    binary = ngircd_binary()
    if binary is None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail("ngircd is required here but not installed")
        pytest.skip("ngircd is not installed (apt-get install ngircd)")
    port = free_port()
    conf = tmp_path / "ngircd.conf"
    conf.write_text(CONFIG.format(port=port))
    conf.chmod(0o644)
    tmp_path.chmod(0o755)
    proc = subprocess.Popen(
        [binary, "--nodaemon", "--config", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""Provides helpers for tests that start `easychat serve` without reading its output."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    """Waits until the server accepts connections on `port` (or fails if it exits)."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        assert time.monotonic() < deadline, "server never listened"
        time.sleep(0.05)

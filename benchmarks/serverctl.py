"""Provides what the benchmark scripts share to run a server: a free port, a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess


def free_port(host: str) -> int:
    """A port on `host` that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """SIGTERM, then SIGKILL if the server is still there after `seconds`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""Tests that a console nobody reads, reads slowly or cannot store never stops the chat.

Each test runs a real `easychat serve` whose stdout is a pipe the test does
not read (or reads 100 bytes every 50 ms), /dev/full, or a file on a full
tmpfs, and drives it with real clients over loopback.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.ircclient import IRCClient
from tests.nolimits import NO_ABUSE_FLAGS
from tests.serverproc import clean_env
from tests.unreadserver import free_port, wait_listening

# Room messages sent in each flood: the seed blocked after about 240 (its
# log lines filled the 64 KiB pipe); 2,500 lines are ~150 KiB of log.
FLOOD = 2500

# Generous: the suite runs on 2 loaded cores.
WAIT = 60.0

# Every message line shown, so that the console gets far more than it takes.
EVERY_LINE = ("--log-messages-rate", "1000000")

REPORT = b"log lines dropped: the console was not being read"


@contextlib.contextmanager
def serve(tmp_path: Path, stdout: int | IO[bytes], *extra: str) -> Iterator[int]:
    """`easychat serve` with its stdout on `stdout`; yields its port, kills it on exit."""
    port = free_port()
    stderr = (tmp_path / "stderr.txt").open("wb")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "easychat", "serve", "--host", "127.0.0.1"),
            *("--port", str(port), "--db", str(tmp_path / "h.sqlite3"), *NO_ABUSE_FLAGS),
            *(*EVERY_LINE, *extra),
        ],
        stdout=stdout,
        stderr=stderr,
        env=clean_env(),
    )
    try:
        wait_listening(proc, port, WAIT)
        yield port
        assert proc.poll() is None, "server died"
    finally:
        proc.kill()
        proc.wait(WAIT)
        stderr.close()


def flood_room(port: int, count: int = FLOOD) -> None:
    """Alice sends `count` lines to #lobby; Bob must get every one, in order; Carol can join."""
    alice, bob = IRCClient(port), IRCClient(port)
    try:
        alice.register("alice")
        bob.register("bob")
        alice.send_raw(b"".join(b"PRIVMSG #lobby :line %d\r\n" % i for i in range(count)))
        got = []
        while len(got) < count:
            msg = bob.read(WAIT)
            assert msg is not None, "bob was disconnected"
            if msg.command == "PRIVMSG":
                got.append(msg.params[1])
        assert got == [f"line {i}" for i in range(count)]
        carol = IRCClient(port)
        try:
            carol.register("carol")  # a new client still gets its welcome
        finally:
            carol.close()
    finally:
        alice.close()
        bob.close()


def small_pipe() -> tuple[int, int]:
    """A pipe holding one page (4 KiB), so a slow reader is far behind at once."""
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
    return r, w


def test_an_unread_console_does_not_stop_the_chat(tmp_path: Path) -> None:
    """A pipe nobody reads: 2,500 room messages all arrive, and a new client registers."""
    r, w = small_pipe()
    try:
        with serve(tmp_path, w) as port:
            os.close(w)
            w = -1
            flood_room(port)
            flood_room(port, 200)  # and again: the server is not stuck in a write
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_an_unread_terminal_does_not_stop_the_chat(tmp_path: Path) -> None:
    """A terminal nobody reads (as when paused with Ctrl+S): the chat goes on.

    The server sees a terminal: it logs through rich, and writes a
    description of the terminal of its own, leaving the one it inherited
    (shared with the shell in real life) blocking.
    """
    master, slave = os.openpty()
    try:
        with serve(tmp_path, slave) as port:
            flood_room(port)
            flood_room(port, 200)
        assert os.get_blocking(slave)
    finally:
        os.close(master)
        os.close(slave)


class SlowReader:
    """Reads a pipe 100 bytes every 50 ms in a thread, like a console that lags."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            chunk = os.read(self.fd, 100)
            if not chunk:
                return
            self.data += chunk

    def wait_for(self, needle: bytes, timeout: float) -> None:
        """Waits until `needle` was read."""
        deadline = time.monotonic() + timeout
        while needle not in self.data:
            assert self.thread.is_alive(), f"console closed without {needle!r}"
            assert time.monotonic() < deadline, f"no {needle!r} in {bytes(self.data[-500:])!r}"
            time.sleep(0.05)


def test_a_slow_console_drops_lines_and_says_how_many(tmp_path: Path) -> None:
    """A console read 100 bytes at a time: the chat goes at full speed; the loss is reported."""
    r, w = small_pipe()
    reader = SlowReader(r)
    try:
        with serve(tmp_path, w, "--console-buffer", "4096") as port:
            os.close(w)
            w = -1
            flood_room(port)
            reader.wait_for(REPORT, WAIT)
            report = bytes(reader.data).split(REPORT)[0].rsplit(b"\n", 1)[-1]
            assert int(report.split()[-1].replace(b",", b"")) > 0, report
    finally:
        reader.stop.set()
        if w >= 0:
            os.close(w)
        reader.thread.join(WAIT)
        os.close(r)


def test_a_console_on_dev_full_does_not_stop_the_chat(tmp_path: Path) -> None:
    """Every console write fails (ENOSPC): the server keeps serving."""
    with open("/dev/full", "wb") as full, serve(tmp_path, full) as port:
        flood_room(port)


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (needs root); skipped where it cannot be mounted."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_a_log_on_a_full_disk_drops_lines_then_reports(tiny_tmpfs: Path, tmp_path: Path) -> None:
    """The log file's disk fills up: the chat goes on; with space again, the loss is logged."""
    filler = tiny_tmpfs / "filler"
    filler.write_bytes(b"x" * 32 * 1024)
    log = tiny_tmpfs / "serve.log"
    with log.open("wb") as out, serve(tmp_path, out) as port:
        flood_room(port)
        filler.unlink()
        deadline = time.monotonic() + WAIT
        while REPORT not in log.read_bytes():
            assert time.monotonic() < deadline, "no report of the dropped lines"
            time.sleep(0.05)

"""Tests the console buffer on real pipes, terminals and /dev/full: bounded, never blocking."""

from __future__ import annotations

import os

from easychat.net.console import Console, open_console, report_line


def drain(fd: int) -> bytes:
    """Everything a non-blocking read of `fd` gets now."""
    os.set_blocking(fd, False)
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


def test_lines_beyond_the_bound_are_dropped_then_reported() -> None:
    """A full pipe: the buffer fills to its bound, the rest is counted, the count written."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        console = Console(w, limit=1000)
        line = b"x" * 99 + b"\n"
        for _ in range(2000):  # 200 kB: more than the pipe and the buffer hold
            console.write(line)
            console.flush()
        assert console.flush() is True  # would block: the pipe is full
        assert console.dropped > 0
        dropped = console.dropped
        console.write(b"after\n")  # dropped too, until the buffer has drained
        got = drain(r)
        while console.pending:
            console.flush()
            got += drain(r)
        assert got.endswith(report_line(dropped + 1))
        assert got.count(line) == 2000 - dropped
        console.write(b"fine again\n")
        console.flush()
        assert drain(r) == b"fine again\n"
    finally:
        os.close(r)
        os.close(w)


def test_a_write_error_drops_and_counts() -> None:
    """/dev/full fails every write (ENOSPC): the lines are counted, nothing raises."""
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        now = [0.0]
        console = Console(fd, clock=lambda: now[0])
        for _ in range(5):
            console.write(b"line\n")
        assert console.flush() is False
        assert console.dropped == 5
        console.write(b"one more\n")
        now[0] = 10.0  # the retry: the report fails too, and keeps its count
        console.flush()
        assert console.dropped == 6
    finally:
        os.close(fd)


def test_the_inherited_pipe_stays_blocking() -> None:
    """O_NONBLOCK goes on a description of the console's own, not on the shared stdout."""
    r, w = os.pipe()
    try:
        console = open_console(w)
        assert console.fd != w
        assert os.get_blocking(w)
        assert not os.get_blocking(console.fd)
        console.write(b"hello\n")
        console.flush()
        assert os.read(r, 100) == b"hello\n"
        console.close()
        assert os.get_blocking(w)
    finally:
        os.close(r)
        os.close(w)


def test_the_parent_terminal_stays_blocking() -> None:
    """A terminal shared with the shell: the shell's description is left as it was."""
    master, slave = os.openpty()
    try:
        console = open_console(slave)
        assert console.fd != slave
        assert os.get_blocking(slave)
        console.write(b"hello\n")
        console.flush()
        assert b"hello" in os.read(master, 100)
        console.close()
    finally:
        os.close(master)
        os.close(slave)

"""Slowloris: connections trickling a byte at a time hold nothing past the registration timeout."""

from __future__ import annotations

import resource
import selectors
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from tests.ircclient import TIMEOUT, RunningServer
from tests.nolimits import unlimited
from tests.test_robustness import assert_serves

# The number; fewer if the open-file limit is lower (each connection
# costs two descriptors here, the server being in this process).
SLOW_CLIENTS = 1000
REGISTRATION_TIMEOUT = 3.0
# Seconds between two trickled bytes on each slow connection.
TRICKLE_EVERY = 0.5
# The server runs its timers at least every REGISTRATION_TIMEOUT / 10; a
# closed connection is seen here within one more loop turn.
SLACK = REGISTRATION_TIMEOUT / 10 + 1.0


def slow_count() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return min(SLOW_CLIENTS, (soft - 256) // 2)


@pytest.fixture
def slow_sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def test_trickling_connections_are_cut_at_the_registration_timeout_and_others_chat(
    make_server: Callable[..., RunningServer], slow_sockets: list[socket.socket]
) -> None:
    """1,000 connections sending one byte at a time (never a whole line) do not
    stop a normal client from registering and chatting, and each is closed
    with `ERROR` once its registration timeout has passed, however busy it is.
    Per-IP limits are off: every connection comes from 127.0.0.1."""
    count = slow_count()
    if count < 100:
        pytest.skip(f"open-file limit too low for {count} connections")
    server = make_server(
        unlimited(registration_timeout=REGISTRATION_TIMEOUT, max_clients=count + 16)
    )
    # The server's timer starts when it accepts, which is after `started`
    # (taken before connecting) and usually just after `opened_at`. This
    # thread can be held up between the two (the server thread shares the
    # GIL and two cores), so the lower bound is checked from `started`.
    started: dict[socket.socket, float] = {}
    opened_at: dict[socket.socket, float] = {}
    for _ in range(count):
        before = time.monotonic()
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        opened_at[sock] = time.monotonic()
        started[sock] = before
        sock.setblocking(False)
        slow_sockets.append(sock)
    payload = b"NICK slowloris_never_ends_its_line"
    sent = dict.fromkeys(slow_sockets, 0)
    closed_at: dict[socket.socket, float] = {}
    received: dict[socket.socket, bytes] = dict.fromkeys(slow_sockets, b"")

    def trickle() -> None:
        for sock in slow_sockets:
            if sock in closed_at:
                continue
            try:
                sock.send(payload[sent[sock] % len(payload) : sent[sock] % len(payload) + 1])
                sent[sock] += 1
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass

    trickle()
    # While all of them hang on, a normal client registers and chats.
    assert_serves(server.port)
    still_open = len(server.server.conns)
    assert still_open >= count, f"only {still_open} of {count} slow connections were held"

    with selectors.DefaultSelector() as sel:
        for sock in slow_sockets:
            sel.register(sock, selectors.EVENT_READ)
        deadline = max(opened_at.values()) + REGISTRATION_TIMEOUT + SLACK
        next_trickle = time.monotonic() + TRICKLE_EVERY
        while len(closed_at) < count and time.monotonic() < deadline:
            timeout = max(0.0, min(next_trickle, deadline) - time.monotonic())
            for key, _ in sel.select(timeout):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    chunk = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    chunk = b""
                received[sock] += chunk
                if not chunk:
                    closed_at[sock] = time.monotonic()
                    sel.unregister(sock)
            if time.monotonic() >= next_trickle:
                trickle()
                next_trickle = time.monotonic() + TRICKLE_EVERY

    assert len(closed_at) == count, f"{count - len(closed_at)} slow connections still open"
    held = [closed_at[s] - opened_at[s] for s in slow_sockets]
    assert max(held) <= REGISTRATION_TIMEOUT + SLACK, f"held up to {max(held):.2f} s"
    shortest = min(closed_at[s] - started[s] for s in slow_sockets)
    assert shortest >= REGISTRATION_TIMEOUT, f"closed {shortest:.2f} s after connecting"
    assert min(sent.values()) >= 2, "every slow connection kept trickling"
    timed_out = [r for r in received.values() if b"Registration timed out" in r]
    assert len(timed_out) == count
    assert_serves(server.port)
    assert server.core.clients == {}

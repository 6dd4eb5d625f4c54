"""Garbage through real sockets: the server answers or ignores it and keeps serving."""

from __future__ import annotations

import itertools
import random
import socket
import struct
from collections.abc import Callable

from easychat.proto.message import Message
from tests.ircclient import TIMEOUT, IRCClient, RunningServer
from tests.nolimits import unlimited

_nicks = itertools.count(1)


def fresh_nick(prefix: str = "fresh") -> str:
    """A nickname no other client in this test run has used."""
    return f"{prefix}{next(_nicks)}"


def assert_serves(port: int) -> None:
    """Two fresh clients register and one's message in #lobby reaches the other.

    Both leave with QUIT and wait for the close, so the server has forgotten
    them when this returns (tests with a client limit rely on that).
    """
    alice, bob = IRCClient(port), IRCClient(port)
    try:
        a_nick, b_nick = fresh_nick("alice"), fresh_nick("bob")
        burst = alice.register(a_nick)
        assert burst[0].command == "001"
        bob.register(b_nick)
        alice.expect("JOIN", lambda m: m.nick == b_nick)
        text = f"still serving {a_nick}"
        alice.send(f"PRIVMSG #lobby :{text}")
        got = bob.expect("PRIVMSG")
        assert got.nick == a_nick
        assert got.params == ("#lobby", text)
        for client in (alice, bob):
            client.send("QUIT :done")
            client.expect_closed()
    finally:
        alice.close()
        bob.close()


def next_message(client: IRCClient) -> Message:
    """The next message the client receives; fails at EOF."""
    msg = client.read()
    assert msg is not None, "server closed the connection"
    return msg


def ping_barrier(client: IRCClient, token: str = "barrier") -> list[Message]:
    """Sends PING and returns every message received before its PONG."""
    start = len(client.received)
    client.send(f"PING :{token}")
    client.expect("PONG", lambda m: m.params[-1] == token)
    return client.received[start:-1]


def pair(connect: Callable[[], IRCClient]) -> tuple[IRCClient, IRCClient]:
    """Two registered clients in #lobby; the first has seen the second join."""
    sender, watcher = connect(), connect()
    sender.register(fresh_nick("sender"))
    watcher.register(fresh_nick("watcher"))
    sender.expect("JOIN", lambda m: m.nick == watcher.nick)
    return sender, watcher


def assert_next_privmsg(watcher: IRCClient, text: str) -> None:
    """The watcher's next message is the given #lobby text, nothing before it."""
    got = next_message(watcher)
    assert (got.command, got.params[-1]) == ("PRIVMSG", text)


def test_invalid_utf8_is_rejected_with_fail(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """IRCv3 standard-replies: a non-UTF-8 line gets FAIL ... INVALID_UTF8, not relayed."""
    sender, watcher = pair(connect)
    sender.send_raw(b"PRIVMSG #lobby :caf\xe9 \xff\xfe\r\n")
    fail = sender.expect("FAIL")
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    sender.send("PRIVMSG #lobby :clean")
    assert_next_privmsg(watcher, "clean")
    assert_serves(server.port)


def test_nul_inside_a_line_is_error_400(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """Modern IRC: NUL may not appear in a message; the line is refused with 400."""
    sender, watcher = pair(connect)
    sender.send_raw(b"PRIVMSG #lobby :a\x00b\r\n")
    err = sender.expect(("400", "PRIVMSG"))
    assert err.command == "400"
    sender.send("PRIVMSG #lobby :after nul")
    assert_next_privmsg(watcher, "after nul")
    assert_serves(server.port)


def test_lone_cr_and_lone_lf_end_lines(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """Each of CR, LF and CRLF terminates a line, also when registering."""
    cr_client, lf_client = connect(), connect()
    cr_client.send_raw(b"NICK cronly\rUSER cr 0 * :CR only\r")
    assert cr_client.until("366")[0].command == "001"
    lf_client.send_raw(b"NICK lfonly\nUSER lf 0 * :LF only\n")
    assert lf_client.until("366")[0].command == "001"
    cr_client.expect("JOIN", lambda m: m.nick == "lfonly")
    lf_client.send_raw(b"PRIVMSG #lobby :one\nPRIVMSG #lobby :two\rPRIVMSG #lobby :three\r\n")
    for text in ("one", "two", "three"):
        assert_next_privmsg(cr_client, text)
    assert_serves(server.port)


def test_empty_lines_are_ignored(server: RunningServer, connect: Callable[[], IRCClient]) -> None:
    """Empty lines in any mix of terminators produce no reply at all."""
    client = connect()
    client.register(fresh_nick())
    client.send_raw(b"\r\n\r\n\n\r\n\r\r")
    assert ping_barrier(client) == []
    # A CRLF split across two reads: the CR ends the line, the LF is empty.
    client.send_raw(b"PING :split\r")
    client.expect("PONG", lambda m: m.params[-1] == "split")
    client.send_raw(b"\n\r\n\n\r")
    assert ping_barrier(client, "again") == []
    assert_serves(server.port)


def test_ten_thousand_parameters_is_too_long(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """A 10,000-parameter line is far over 512 bytes: one 417, connection stays."""
    sender, watcher = pair(connect)
    sender.send("PRIVMSG #lobby " + " ".join(["a"] * 10_000))
    replies = ping_barrier(sender)
    assert [m.command for m in replies] == ["417"]
    sender.send("PRIVMSG #lobby :after params")
    assert_next_privmsg(watcher, "after params")
    assert_serves(server.port)


def test_twenty_parameters_is_an_error(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """Modern IRC allows at most 15 parameters; a short 20-parameter line is refused."""
    sender, watcher = pair(connect)
    sender.send("PRIVMSG #lobby " + " ".join(f"p{i}" for i in range(19)))
    replies = ping_barrier(sender)
    assert [m.command for m in replies] == ["400"]
    sender.send("PRIVMSG #lobby :after twenty")
    assert_next_privmsg(watcher, "after twenty")
    assert_serves(server.port)


def test_megabyte_line_without_newline(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """1 MB without a terminator: exactly one 417, then the connection works."""
    sender, watcher = pair(connect)
    sender.send_raw(b"PRIVMSG #lobby :" + b"x" * (1 << 20))
    sender.send_raw(b"\r\n")
    replies = ping_barrier(sender)
    assert [m.command for m in replies] == ["417"]
    sender.send("PRIVMSG #lobby :after megabyte")
    assert_next_privmsg(watcher, "after megabyte")
    assert_serves(server.port)


def test_connection_closed_mid_line(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """A half line before EOF is never run; the neighbour sees only the QUIT."""
    sender, watcher = pair(connect)
    sender.send_raw(b"PRIVMSG #lobby :half a li")
    sender.close()
    got = next_message(watcher)
    assert got.command == "QUIT"
    assert got.nick == sender.nick
    assert_serves(server.port)


def test_connect_and_close_immediately(make_server: Callable[..., RunningServer]) -> None:
    """Connections closed at once, with FIN or with RST, leave no trace."""
    server = make_server(unlimited())  # 21 connections from 127.0.0.1 in a moment
    for i in range(20):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        if i % 2:  # linger 0: close sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert_serves(server.port)
    assert server.server.conns == {}
    assert server.core.clients == {}


def test_random_binary_bytes(server: RunningServer, connect: Callable[[], IRCClient]) -> None:
    """200 kB of random bytes, before and after registration, break nothing."""
    rng = random.Random(6667)
    unregistered = connect()
    unregistered.send_raw(rng.randbytes(200_000))
    registered = connect()
    registered.register(fresh_nick())
    registered.send_raw(rng.randbytes(200_000))
    registered.send_raw(b"\r\n")
    ping_barrier(registered, "survived")
    unregistered.send_raw(b"\r\nPING :unregistered\r\n")
    unregistered.expect("PONG", lambda m: m.params[-1] == "unregistered", timeout=TIMEOUT)
    unregistered.close()
    assert_serves(server.port)

"""Server limits through real sockets: line length, timeouts, client count, send queue."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from easychat.chat.config import CoreConfig
from easychat.proto.limits import MAX_CLIENT_TAG_DATA, MAX_LINE_BYTES, MAX_TAGS_BYTES
from tests.ircclient import TIMEOUT, IRCClient, RunningServer
from tests.nolimits import unlimited
from tests.test_robustness import (
    assert_next_privmsg,
    assert_serves,
    fresh_nick,
    next_message,
    pair,
    ping_barrier,
)

MakeServer = Callable[..., RunningServer]


# -- line length ---------------------------------------------------------------


def test_line_of_510_bytes_is_accepted(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """Modern IRC: 512 bytes including CRLF is the limit, so 510 + CRLF is parsed."""
    client = connect()
    client.register(fresh_nick())
    head = "PING :"
    token = "x" * (MAX_LINE_BYTES - 2 - len(head))
    client.send(head + token)
    pong = client.expect(("PONG", "417"))
    assert pong.command == "PONG"
    # The reply carries the server's name too, so the server may cut the
    # token to fit 512 bytes; what comes back is a prefix of what was sent.
    assert token.startswith(pong.params[-1])
    assert len(pong.params[-1]) > 400


def test_line_of_511_bytes_gets_417_and_connection_stays(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """Modern IRC: an over-long line gets ERR_INPUTTOOLONG (417), not a disconnect."""
    sender, watcher = pair(connect)
    head = "PRIVMSG #lobby :"
    for size in (MAX_LINE_BYTES - 1, MAX_LINE_BYTES, 4000, MAX_TAGS_BYTES + MAX_LINE_BYTES + 1):
        sender.send(head + "y" * (size - len(head)))
        replies = ping_barrier(sender, f"after{size}")
        assert [m.command for m in replies] == ["417"], size
    sender.send("PRIVMSG #lobby :short again")
    assert_next_privmsg(watcher, "short again")
    assert_serves(server.port)


def test_long_tags_do_not_count_against_512(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """IRCv3 message-tags: up to 8191 bytes of tags come on top of the 512."""
    sender, _ = pair(connect)
    sender.send("@+example=" + "t" * 4000 + " PING :tagged")
    sender.expect("PONG", lambda m: m.params[-1] == "tagged")
    assert_serves(server.port)


def test_client_tag_data_over_4094_bytes_is_417_and_not_relayed(
    server: RunningServer, connect: Callable[[], IRCClient]
) -> None:
    """IRCv3 message-tags: "Clients MUST NOT send messages with tag data exceeding
    4094 bytes" and "Servers MUST reply with the ERR_INPUTTOOLONG (417) error
    numeric if a client sends a message with more tag data than the allowed
    limit", TAGMSG included; the limit just met is relayed whole."""
    sender, watcher = connect(), connect()
    for client in (sender, watcher):
        client.send("CAP REQ :message-tags")
        client.send("CAP END")
    sender.register(fresh_nick("sender"))
    watcher.register(fresh_nick("watcher"))
    sender.expect("JOIN", lambda m: m.nick == watcher.nick)
    for command in (f"TAGMSG {watcher.nick}", "PRIVMSG #lobby :tagged"):
        too_long = "+x=" + "t" * (MAX_CLIENT_TAG_DATA - 2)
        sender.send(f"@{too_long} {command}")
        assert [m.command for m in ping_barrier(sender, "over")] == ["417"]
        fits = too_long[:-1]
        sender.send(f"@{fits} {command}")
        got = next_message(watcher)
        assert got.command == command.split()[0]
        assert got.tags["+x"] == fits[len("+x=") :]
    assert_serves(server.port)


# -- registration timeout --------------------------------------------------------


def test_registration_timeout_closes_with_error(make_server: MakeServer) -> None:
    """A connection that does not register in time gets ERROR and is closed."""
    server = make_server(CoreConfig(registration_timeout=0.3))
    silent, half = server.client(), server.client()
    half.send("NICK halfway")  # NICK alone does not complete registration
    started = time.monotonic()
    for client in (silent, half):
        got = client.expect_closed()
        assert [m.command for m in got] == ["ERROR"]
        assert "Registration timed out" in got[0].params[-1]
    assert time.monotonic() - started >= 0.2
    assert_serves(server.port)


def test_registered_client_outlives_registration_timeout(make_server: MakeServer) -> None:
    """The timeout applies to registration only."""
    server = make_server(CoreConfig(registration_timeout=0.3))
    client = server.client()
    client.register("patient")
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:  # keep reading; nothing may close us
        try:
            assert client.read(deadline - time.monotonic()) is not None
        except TimeoutError:
            break
    assert ping_barrier(client, "alive") == []
    client.close()


# -- ping timeout ----------------------------------------------------------------


def test_ping_timeout(make_server: MakeServer) -> None:
    """Silent clients get PING; no answer means QUIT :Ping timeout, an answer keeps you."""
    server = make_server(CoreConfig(ping_interval=0.3, ping_timeout=0.3))
    silent, answering = server.client(), server.client()
    silent.register("silent")
    answering.register("answering")
    # The answering client must keep reading (read() answers its PINGs) while
    # the silent one times out; the silent one's lines wait in its socket.
    quit_msg = answering.expect("QUIT", lambda m: m.nick == "silent")
    assert quit_msg.params[-1].startswith("Ping timeout")
    # Read raw lines only: IRCClient.read() would answer the PING for us.
    lines: list[bytes] = []
    while (line := silent.read_line()) is not None:
        lines.append(line)
    assert any(line.startswith(b"PING ") for line in lines), lines
    assert lines[-1].startswith(b"ERROR :"), lines[-1]
    assert b"Ping timeout" in lines[-1]
    # The answering client lives through two more PINGs (read() answers them).
    answering.expect("PING")
    answering.expect("PING")
    assert ping_barrier(answering, "still here") == []
    answering.close()
    assert_serves(server.port)


# -- client count ----------------------------------------------------------------


def test_max_clients(make_server: MakeServer) -> None:
    """Past max_clients a connection gets ERROR :Server is full and is closed."""
    server = make_server(CoreConfig(max_clients=2))
    first, second = server.client(), server.client()
    first.register("first")
    second.register("second")
    third = server.client()
    got = third.expect_closed()
    assert [m.command for m in got] == ["ERROR"]
    assert got[0].params[-1].startswith("Server is full")

    first.send("QUIT :making room")
    first.expect_closed()
    fourth = server.client()
    assert fourth.register("fourth")[0].command == "001"
    for client in (second, fourth):
        client.send("QUIT")
        client.expect_closed()
    assert_serves(server.port)


# -- send queue ------------------------------------------------------------------


class SmallWindowClient(IRCClient):
    """An IRCClient whose socket has a tiny receive buffer, set before connecting.

    The receive window is fixed at the handshake, so the buffer must be set
    before `connect`; this is why IRCClient.__init__ is not reused.
    """

    def __init__(self, port: int, rcvbuf: int = 4096) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(TIMEOUT)
        sock.connect(("127.0.0.1", port))
        self.sock = sock
        self.buf = b""
        self.received = []
        self.nick = None


# 2 x 80 x 50 messages of ~150 bytes: ~1.2 MB for the stuck client, far
# past its 64 KiB send queue plus the kernel buffers on both ends.
BATCHES = 80
BATCH = 50
PADDING = "p" * 100


def test_slow_reader_is_cut_off_and_nobody_waits(make_server: MakeServer) -> None:
    """A client that never reads is dropped with SendQ exceeded; the others lose nothing.

    The two fast clients exchange BATCHES x BATCH messages in lock step; every
    one must arrive, in order, while the server holds output for the stuck
    one, and both must see the stuck client's QUIT :SendQ exceeded.
    """
    server = make_server(unlimited(), sendq=64 * 1024)  # a load test: no flood control
    slow = SmallWindowClient(server.port)
    slow.register("slow")
    fast = {"ann": server.client(), "bob": server.client()}
    fast["ann"].register("ann")
    fast["bob"].register("bob")
    fast["ann"].expect("JOIN", lambda m: m.nick == "bob")
    slow_client = server.core.find_client("slow")
    assert slow_client is not None
    slow_conn = server.server.conns[slow_client.id]

    got: dict[str, list[str]] = {"ann": [], "bob": []}
    quits: dict[str, str] = {}
    backlogged_batches = 0
    for batch in range(BATCHES):
        for nick, client in fast.items():
            lines = (
                f"PRIVMSG #lobby :{nick} {batch * BATCH + i} {PADDING}\r\n".encode()
                for i in range(BATCH)
            )
            client.send_raw(b"".join(lines))
        for nick, client in fast.items():
            other = "bob" if nick == "ann" else "ann"
            want = (batch + 1) * BATCH
            while len(got[nick]) < want:
                msg = client.read()
                assert msg is not None, f"{nick} was disconnected"
                if msg.command == "PRIVMSG":
                    assert msg.nick == other
                    got[nick].append(msg.params[-1])
                elif msg.command == "QUIT" and msg.nick == "slow":
                    quits[nick] = msg.params[-1]
        # Everything the fast clients sent so far has arrived, yet the server
        # still holds output for the stuck client: nobody waited on it.
        if "ann" not in quits and slow_conn.out_bytes:
            backlogged_batches += 1

    total = BATCHES * BATCH
    assert got["ann"] == [f"bob {i} {PADDING}" for i in range(total)]
    assert got["bob"] == [f"ann {i} {PADDING}" for i in range(total)]
    for nick, client in fast.items():
        if nick not in quits:
            quits[nick] = client.expect("QUIT", lambda m: m.nick == "slow").params[-1]
    assert quits == {"ann": "SendQ exceeded", "bob": "SendQ exceeded"}
    assert backlogged_batches >= 3
    assert slow_client.id not in server.server.conns
    # The stuck client finds its connection closed once it reads.
    slow.sock.settimeout(TIMEOUT)
    while slow.read_line() is not None:
        pass
    for client in fast.values():
        client.close()
    slow.close()
    assert_serves(server.port)

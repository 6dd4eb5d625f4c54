"""Output queues: chunks shared between connections, partial sends, SendQ on queued bytes."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.chat.actions import Send
from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.net.connection import MERGE_BYTES, Connection
from easychat.net.listeners import SOCKET_SNDBUF
from easychat.net.output import IOV_MAX, Output
from easychat.net.server import Server
from easychat.proto.message import Message, parse
from tests.ircclient import TIMEOUT, IRCClient
from tests.nolimits import unlimited
from tests.test_limits import MakeServer, SmallWindowClient
from tests.test_robustness import assert_serves, ping_barrier
from tests.tlshelpers import TLSClient, TLSServer, make_cert

BIG = b"B" * (MERGE_BYTES + 1)


@pytest.fixture
def conns() -> Iterator[list[Connection]]:
    """Three Connections on real (unused) sockets."""
    pairs = [socket.socketpair() for _ in range(3)]
    yield [Connection(i, ours) for i, (ours, _) in enumerate(pairs, start=1)]
    for ours, theirs in pairs:
        ours.close()
        theirs.close()


def pending(conn: Connection) -> bytes:
    """Everything `conn` still has to send, in order."""
    return b"".join(conn.out)


# -- queuing -----------------------------------------------------------------


def test_large_chunk_is_shared_not_copied(conns: list[Connection]) -> None:
    """A chunk queued for several connections is the same object in each queue."""
    for conn in conns:
        conn.queue(BIG)
    assert all(conn.out[0] is BIG for conn in conns)
    assert all(conn.out_bytes == len(BIG) for conn in conns)


def test_small_chunks_merge_after_the_first(conns: list[Connection]) -> None:
    """A lone small chunk is referenced; the next small ones are merged into one."""
    conn = conns[0]
    first = b"PONG :1\r\n"
    conn.queue(first)
    assert conn.out[0] is first
    conn.queue(b"PONG :2\r\n")
    conn.queue(b"PONG :3\r\n")
    assert len(conn.out) == 1
    conn.queue(BIG)
    conn.queue(b"PONG :4\r\n")
    assert [len(chunk) for chunk in conn.out] == [27, len(BIG), 9]
    assert pending(conn) == b"PONG :1\r\nPONG :2\r\nPONG :3\r\n" + BIG + b"PONG :4\r\n"
    assert conn.out_bytes == len(pending(conn))


def fill(conn: Connection) -> bytes:
    """Queues a large, a merged and another large chunk; returns their bytes."""
    chunks = [b"a" * 600, b"b" * 10, b"c" * 20, b"d" * 700]
    for chunk in chunks:
        conn.queue(chunk)
    assert len(conn.out) == 3
    return b"".join(chunks)


def test_sent_keeps_the_unsent_tail_at_every_split(conns: list[Connection]) -> None:
    """Whatever a send takes, two sends in a row leave exactly the rest, in order."""
    conn = conns[0]
    total = len(fill(conn))
    conn.clear_output()
    for first in range(0, total + 1, 7):
        for second in range(0, total - first + 1, 13):
            conn.clear_output()
            data = fill(conn)
            conn.sent(first)
            conn.sent(second)
            assert pending(conn) == data[first + second :]
            assert conn.out_bytes == total - first - second


def test_queue_after_a_partial_send(conns: list[Connection]) -> None:
    """What is queued after a partial send follows the unsent tail."""
    conn = conns[0]
    data = fill(conn)
    conn.sent(605)  # mid-way into the merged bytearray
    conn.queue(b"e" * 5)
    conn.sent(1)
    conn.queue(b"f" * 3)
    assert pending(conn) == data[606:] + b"e" * 5 + b"f" * 3
    conn.clear_output()
    assert (conn.out, conn.out_bytes) == ([], 0)


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair of loopback TCP sockets; the first is non-blocking, with
    the server's send buffer."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        ours = socket.create_connection(listener.getsockname())
        theirs, _ = listener.accept()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SNDBUF)
    ours.setblocking(False)
    theirs.settimeout(TIMEOUT)
    return ours, theirs


def test_long_queue_goes_out_in_sends_of_at_most_iov_max_chunks() -> None:
    """More chunks than one sendmsg takes (IOV_MAX) go out over several sends,
    each ending wherever the kernel stopped taking bytes; the peer gets them all
    in order."""
    server = Server(ChatCore(CoreConfig()), "127.0.0.1", 0)
    ours, theirs = tcp_pair()
    try:
        conn = Connection(1, ours)
        chunks = [b"%05d" % i + b"x" * MERGE_BYTES + b"\n" for i in range(IOV_MAX + 100)]
        for chunk in chunks:
            conn.queue(chunk)
        assert len(conn.out) == len(chunks)
        got = bytearray()
        while conn.out:
            queued = len(conn.out)
            with contextlib.suppress(BlockingIOError):
                server._send(conn)
            assert queued - len(conn.out) <= IOV_MAX
            got += theirs.recv(1 << 20)
        while len(got) < sum(map(len, chunks)):
            got += theirs.recv(1 << 20)
        assert got == b"".join(chunks)
    finally:
        ours.close()
        theirs.close()
        server.selector.close()
        server._wake_r.close()
        server._wake_w.close()


# -- SendQ ---------------------------------------------------------------------


class Outbox(Output):
    """Output over Connections on socketpairs, remembering whom it dropped."""

    def __init__(self, conns: list[Connection], sendq: int) -> None:
        self.conns = {conn.id: conn for conn in conns}
        self.sendq = sendq
        self._dirty = set()
        self._drops = []
        self._run_targets = None
        self._run = []
        self.dropped: list[tuple[int, str]] = []

    def _drop(self, conn: Connection, reason: str) -> None:
        del self.conns[conn.id]
        self.dropped.append((conn.id, reason))


def test_sendq_is_exceeded_one_byte_past_the_limit(conns: list[Connection]) -> None:
    """A client is cut off when its queued bytes exceed the SendQ, not when they reach it.

    Three members get one shared chunk per turn; the first reads everything
    between turns, the second and third read nothing. The third also gets
    one byte-sized reply more, which takes it past the limit a turn early.
    """
    room = (1, 2, 3)
    text = "t" * 200
    turn = [Send(room, Message("PRIVMSG", ("#r", f"{i} {text}"), "a!a@h")) for i in range(3)]
    chunk = b"".join(send.message.to_bytes() for send in turn)
    assert len(chunk) > MERGE_BYTES  # too large to merge: shared by reference
    outbox = Outbox(conns, sendq=3 * len(chunk))
    reader, idle, chatty = conns
    outbox._apply([Send((3,), Message("PONG", ("x",)))])
    outbox._end_run()  # a send is held as a run until the turn ends (see Output._apply)
    chatty.sent(chatty.out_bytes)
    for _ in range(3):
        outbox._apply(turn)
        outbox._end_run()
        reader.sent(reader.out_bytes)
    assert outbox.dropped == []
    assert idle.out_bytes == chatty.out_bytes == outbox.sendq
    assert idle.out[0] is chatty.out[0], "one chunk, shared"
    outbox._apply([Send((3,), Message("PONG", ("y",)))])
    outbox._end_run()
    assert outbox.dropped == [(3, "SendQ exceeded")]
    assert chatty.out_bytes == 0, "a dropped client's queue is discarded"
    outbox._apply(turn)
    outbox._end_run()
    assert outbox.dropped == [(3, "SendQ exceeded"), (2, "SendQ exceeded")]
    assert reader.out_bytes == len(chunk)


# -- through real sockets --------------------------------------------------------------

MEMBERS = 50
# 16 batches of 40 lines of ~370 bytes: ~240 KB for the stuck member, well
# past its 32 KiB send queue plus the kernel buffers on both ends (~140 KB).
BATCHES = 16
BATCH = 40
PADDING = "p" * 320


def lobby_lines(client: IRCClient, count: int, texts: list[str], quits: list[str]) -> None:
    """Reads until `texts` holds `count` PRIVMSG texts; notes the stuck member's QUIT.

    PRIVMSG lines, most of what comes, are split rather than parsed: 49
    readers read them all.
    """
    while len(texts) < count:
        line = client.read_line()
        assert line is not None, f"{client.nick} was disconnected"
        words = line.split(b" ", 3)
        if words[1] == b"PRIVMSG":
            texts.append(words[3][1:].decode())
            continue
        msg = parse(line.decode(), strict=False)
        if msg.command == "QUIT" and msg.nick == "stuck":
            quits.append(msg.params[-1])


def test_fifty_members_one_stuck_every_other_gets_everything_in_order(
    make_server: MakeServer,
) -> None:
    """In a 50-member room, a member that stops reading is cut off with SendQ
    exceeded; the other 49 get every line, in order, and see it go."""
    server = make_server(unlimited(), sendq=32 * 1024)
    stuck = SmallWindowClient(server.port)
    members = [IRCClient(server.port) for _ in range(MEMBERS - 1)]
    try:
        stuck.register("stuck")
        for i, member in enumerate(members):
            member.register(f"m{i}")
        sender, readers = members[0], members[1:]
        texts: dict[str, list[str]] = {r.nick or "": [] for r in readers}
        quits: dict[str, list[str]] = {r.nick or "": [] for r in readers}
        for batch in range(BATCHES):
            lines = (f"PRIVMSG #lobby :{batch * BATCH + i} {PADDING}\r\n" for i in range(BATCH))
            sender.send_raw("".join(lines).encode())
            for reader in readers:
                nick = reader.nick or ""
                lobby_lines(reader, (batch + 1) * BATCH, texts[nick], quits[nick])
        want = [f"{i} {PADDING}" for i in range(BATCHES * BATCH)]
        for reader in readers:
            nick = reader.nick or ""
            assert texts[nick] == want, nick
            if not quits[nick]:
                quits[nick].append(reader.expect("QUIT", lambda m: m.nick == "stuck").params[-1])
            assert quits[nick] == ["SendQ exceeded"], nick
        assert server.core.find_client("stuck") is None
    finally:
        for client in (stuck, *members):
            client.close()
    assert_serves(server.port)


# 60 bursts of 50 lines of ~250 bytes: ~750 KB, far more than the kernel
# holds for a reader with a 4 KiB window, and less than the 1 MiB SendQ.
BURSTS = 60
BURST = 50


def send_bursts(sender: IRCClient) -> list[str]:
    """Sends BURSTS bursts to #lobby, each in one write; returns the texts in order."""
    texts = [f"{i:05d} " + "q" * 200 for i in range(BURSTS * BURST)]
    for burst in range(BURSTS):
        lines = texts[burst * BURST : (burst + 1) * BURST]
        sender.send_raw("".join(f"PRIVMSG #lobby :{text}\r\n" for text in lines).encode())
    ping_barrier(sender, "all sent")  # the server has queued everything for the reader
    return texts


def read_texts(reader: IRCClient, count: int) -> list[str]:
    """The next `count` PRIVMSG texts `reader` gets."""
    return [reader.expect("PRIVMSG").params[-1] for _ in range(count)]


def test_backlog_of_many_chunks_drains_whole_and_in_order(make_server: MakeServer) -> None:
    """A reader that was away gets a backlog of many chunks, sent in parts, intact.

    While it does not read, the server holds the turns' room chunks for it;
    when it reads again, each send takes what the kernel has room for, often
    ending inside a chunk.
    """
    server = make_server(unlimited())
    reader = SmallWindowClient(server.port)
    sender = server.client()
    try:
        reader.register("away")
        sender.register("sender")
        ping_barrier(reader, "ready")
        texts = send_bursts(sender)
        record = server.core.find_client("away")
        assert record is not None
        conn = server.server.conns[record.id]
        assert conn.out_bytes > 0
        assert len(conn.out) > 1, "a backlog of several chunks"
        assert read_texts(reader, len(texts)) == texts
        assert ping_barrier(reader, "drained") == []
    finally:
        reader.close()
        sender.close()
    assert_serves(server.port)


def test_backlog_over_tls_drains_whole_and_in_order(tmp_path: Path) -> None:
    """The same backlog over TLS: chunks are joined for each write, and a write
    that would block is retried with the same bytes, so nothing is lost."""
    cert = make_cert(tmp_path)
    server = TLSServer(cert, unlimited())
    assert server.port is not None
    reader = TLSClient(server.tls_port, cert.trusting_context(), rcvbuf=4096)
    sender = IRCClient(server.port)
    try:
        reader.register("away")
        sender.register("sender")
        ping_barrier(reader, "ready")
        texts = send_bursts(sender)
        assert read_texts(reader, len(texts)) == texts
        assert ping_barrier(reader, "drained") == []
    finally:
        reader.close()
        sender.close()
        server.stop()

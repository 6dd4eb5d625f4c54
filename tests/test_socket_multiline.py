"""IRCv3 draft/multiline over real sockets, against `easychat serve`.

Spec: https://ircv3.net/specs/extensions/multiline. To show that something
did *not* arrive, a test reads up to the PONG of a PING (`sync`): the server
answers in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.chat.multiline import MULTILINE_MAX_LINES
from easychat.proto.message import Message
from tests.ircclient import IRCClient
from tests.serverproc import HISTORY_CAPS, ServerProcess, history_client, server_process
from tests.test_socket_channels import sync

ML = (*HISTORY_CAPS, "draft/multiline", "labeled-response")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """`easychat serve` with its history in a file, abuse limits off."""
    with server_process(tmp_path / "history.db") as proc:
        yield proc


@pytest.fixture
def opened() -> Iterator[list[IRCClient]]:
    """Clients to close after the test."""
    clients: list[IRCClient] = []
    yield clients
    for client in clients:
        client.close()


def connect(
    server: ServerProcess, opened: list[IRCClient], nick: str, caps: tuple[str, ...] = ML
) -> IRCClient:
    """A registered client in #lobby with `caps`, past its burst."""
    if caps:
        client = history_client(server.port, nick, caps)
    else:
        client = IRCClient(server.port)
        client.register(nick)
    opened.append(client)
    sync(client)
    return client


def batch_bytes(ref: str, target: str, lines: list[str], label: str = "") -> bytes:
    """A whole multiline batch as one write: `lines` are `[tags ]text`."""
    head = f"@label={label} " if label else ""
    out = [f"{head}BATCH +{ref} draft/multiline {target}"]
    for line in lines:
        tags, _, text = line.rpartition("\t")
        extra = f";{tags}" if tags else ""
        out.append(f"@batch={ref}{extra} PRIVMSG {target} :{text}")
    out.append(f"BATCH -{ref}")
    return "".join(f"{line}\r\n" for line in out).encode()


def read_multiline(client: IRCClient) -> tuple[Message, list[Message]]:
    """Reads one draft/multiline batch: its BATCH + line and the lines inside."""
    start = client.expect("BATCH", lambda m: m.params[1:2] == ("draft/multiline",))
    ref = start.params[0][1:]
    body = client.until("BATCH")
    assert body[-1].params == (f"-{ref}",), body
    assert all(m.tags.get("batch") == ref for m in body[:-1]), body
    return start, body[:-1]


def test_batch_reaches_capable_whole_and_others_as_lines(
    server: ServerProcess, opened: list[IRCClient]
) -> None:
    """ "When delivering multiline batches to clients that have not negotiated the
    multiline capability, servers MUST deliver the component messages without using a
    multiline BATCH."""
    alice = connect(server, opened, "alice")
    bob = connect(server, opened, "bob")
    plain = connect(server, opened, "plain", ())
    sync(alice)
    lines = ["hello", "", "how is ", "draft/multiline-concat\teveryone?"]
    alice.send_raw(batch_bytes("x1", "#lobby", lines, label="L1"))
    start, body = read_multiline(bob)
    assert start.source is not None
    assert start.source.startswith("alice!")
    assert [m.params[1] for m in body] == ["hello", "", "how is ", "everyone?"]
    assert "draft/multiline-concat" in body[3].tags
    got = [m for m in sync(plain) if m.command == "PRIVMSG"]
    assert [m.params[1] for m in got] == ["hello", "how is ", "everyone?"]
    # The echo, labelled on its opening BATCH only.
    echo, echoed = read_multiline(alice)
    assert echo.tags["label"] == "L1"
    assert echo.tags["msgid"] == start.tags["msgid"]
    assert all("label" not in m.tags for m in echoed)


def test_history_replays_the_batch_nested(server: ServerProcess, opened: list[IRCClient]) -> None:
    """ "Servers SHOULD maintain the line composition sent by the client": CHATHISTORY
    gives the message back as its multiline batch, inside the chathistory batch."""
    alice = connect(server, opened, "alice")
    alice.send_raw(batch_bytes("h1", "#lobby", ["one", "draft/multiline-concat\ttwo", "three"]))
    read_multiline(alice)
    later = connect(server, opened, "later")
    later.send("CHATHISTORY LATEST #lobby * 10")
    outer = later.expect("BATCH", lambda m: m.params[1:2] == ("chathistory",))
    start, body = read_multiline(later)
    assert start.tags["batch"] == outer.params[0][1:]
    assert [(m.params[1], "draft/multiline-concat" in m.tags) for m in body] == [
        ("one", False),
        ("two", True),
        ("three", False),
    ]
    old = connect(server, opened, "old", HISTORY_CAPS)
    old.send("CHATHISTORY LATEST #lobby * 10")
    got = old.until("BATCH")
    got = old.until("BATCH")
    texts = [m.params[1] for m in got if m.command == "PRIVMSG"]
    assert texts == ["one", "two", "three"]


def test_unterminated_batch_is_dropped_on_disconnect(
    server: ServerProcess, opened: list[IRCClient]
) -> None:
    """ "wait until the full batch has been received before processing the message": a
    batch whose sender leaves before closing it is never relayed."""
    alice = connect(server, opened, "alice")
    bob = connect(server, opened, "bob")
    alice.send("BATCH +u draft/multiline #lobby")
    alice.send("@batch=u PRIVMSG #lobby :never")
    sync(alice)
    alice.close()
    quit_ = bob.expect("QUIT")
    assert quit_.source is not None
    assert quit_.source.startswith("alice!")
    assert not [m for m in bob.received if m.command in ("PRIVMSG", "BATCH")]


def test_too_many_lines_fail_over_a_socket(server: ServerProcess, opened: list[IRCClient]) -> None:
    """ "MULTILINE_MAX_LINES <limit>: max-lines limit exceeded", and nothing is relayed."""
    alice = connect(server, opened, "alice")
    bob = connect(server, opened, "bob")
    lines = [f"line {i}" for i in range(MULTILINE_MAX_LINES + 1)]
    alice.send_raw(batch_bytes("big", "#lobby", lines))
    fail = alice.expect("FAIL")
    assert fail.params[:3] == ("BATCH", "MULTILINE_MAX_LINES", str(MULTILINE_MAX_LINES))
    assert not [m for m in sync(bob) if m.command in ("PRIVMSG", "BATCH")]


def test_flood_control_holds_the_second_full_batch(tmp_path: Path) -> None:
    """ "clients might send an entire batched multiline message all at once": one full
    message goes at once, the next right after it waits for the tokens of its lines."""
    flags = ("--flood-rate", "2", "--flood-burst", "5", "--flood-paste", "20")
    with server_process(tmp_path / "h.db", *flags) as proc:
        opened: list[IRCClient] = []
        try:
            alice = connect(proc, opened, "alice")
            bob = connect(proc, opened, "bob")
            lines = [f"line {i}" for i in range(MULTILINE_MAX_LINES)]
            alice.send_raw(batch_bytes("f1", "#lobby", lines) + batch_bytes("f2", "#lobby", lines))
            fail = alice.expect("FAIL")
            assert fail.params[:2] == ("BATCH", "RATE_LIMITED")
            read_multiline(bob)
            assert not [m for m in sync(bob) if m.command == "BATCH"]
            # 20 tokens at 2 a second: the second message comes within 10 s.
            start = bob.expect("BATCH", timeout=15.0)
            assert start.params[1] == "draft/multiline"
        finally:
            for client in opened:
                client.close()

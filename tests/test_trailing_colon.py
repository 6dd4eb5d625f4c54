"""Chat text always goes on the wire with a ':' before it, from the server and the client.

`PRIVMSG bob psst` is legal IRC, but Pidgin and older ZNC mis-parse a bare
trailing parameter (which is why ergo forces the ':' by default), so the
text of PRIVMSG, NOTICE, TOPIC, PART, KICK, QUIT and AWAY is always written
as a trailing parameter: relayed by the fast path, by the general path,
replayed from history, and sent by our client.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from easychat.client.session.session import Session
from easychat.net.client import ClientConnection
from easychat.proto.message import Message, encode
from easychat.store.history import SQLiteHistory
from tests.ircclient import IRCClient, RunningServer

# Seconds a loopback test may wait before failing.
WAIT = 10.0


def line_with(client: IRCClient, needle: bytes) -> bytes:
    """The first raw line from the server that contains `needle`."""
    while True:
        line = client.read_line()
        assert line is not None, "connection closed"
        if needle in line:
            return line


def join(client: IRCClient, room: str) -> None:
    """JOINs `room` and waits for the end of its NAMES."""
    client.send(f"JOIN {room}")
    client.expect("366", lambda m: m.params[1] == room)


def pair(server: RunningServer) -> tuple[IRCClient, IRCClient]:
    """alice and bob, registered and in #lobby."""
    alice, bob = server.client(), server.client()
    alice.register("alice")
    bob.register("bob")
    return alice, bob


@pytest.mark.parametrize(
    "sent",
    [
        b"PRIVMSG bob :psst",  # the fast path's shape
        b"PRIVMSG bob psst",  # bare from the sender: the general path
        b"PRIVMSG bob,nobody :psst",  # a list: the general path
    ],
)
def test_private_one_word_is_relayed_with_a_colon(server: RunningServer, sent: bytes) -> None:
    alice, bob = pair(server)
    try:
        alice.send_raw(sent + b"\r\n")
        assert line_with(bob, b"PRIVMSG") == b":alice!alice@127.0.0.1 PRIVMSG bob :psst"
    finally:
        alice.close()
        bob.close()


@pytest.mark.parametrize("command", [b"PRIVMSG", b"NOTICE"])
def test_room_one_word_is_relayed_with_a_colon(server: RunningServer, command: bytes) -> None:
    alice, bob = pair(server)
    try:
        alice.send_raw(command + b" #lobby :hi\r\n")
        expected = b":alice!alice@127.0.0.1 " + command + b" #lobby :hi"
        assert line_with(bob, command) == expected
    finally:
        alice.close()
        bob.close()


def test_topic_part_kick_quit_text_has_a_colon(server: RunningServer) -> None:
    alice, bob = server.client(), server.client()
    try:
        alice.register("alice")
        bob.register("bob")
        join(alice, "#den")
        join(bob, "#den")
        alice.send("TOPIC #den word")
        assert line_with(bob, b" TOPIC ") == b":alice!alice@127.0.0.1 TOPIC #den :word"
        bob.send("PART #den bye")
        assert line_with(alice, b" PART ") == b":bob!bob@127.0.0.1 PART #den :bye"
        bob.send("JOIN #den")
        line_with(alice, b" JOIN ")
        alice.send("KICK #den bob out")
        assert line_with(bob, b" KICK ") == b":alice!alice@127.0.0.1 KICK #den bob :out"
        bob.send("JOIN #den")
        line_with(alice, b" JOIN ")
        bob.send("QUIT gone")
        assert line_with(alice, b" QUIT ") == b":bob!bob@127.0.0.1 QUIT :Quit: gone"
    finally:
        alice.close()
        bob.close()


def test_history_replay_has_the_colon(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """A stored one-word line comes back from CHATHISTORY with its ':'."""
    server = make_server(history=SQLiteHistory(str(tmp_path / "history.db")))
    alice, bob = pair(server)
    try:
        alice.send_raw(b"PRIVMSG #lobby :stored\r\n")
        line_with(bob, b"stored")
        bob.send("CAP REQ :batch draft/chathistory")
        bob.expect("CAP")
        bob.send("CHATHISTORY LATEST #lobby * 10")
        replayed = line_with(bob, b"stored")
        assert replayed.endswith(b" PRIVMSG #lobby :stored"), replayed
    finally:
        alice.close()
        bob.close()


def test_message_formatter_colons_the_text_of_chat_commands() -> None:
    """Only text takes the forced ':'; a PART or TOPIC query without text does not."""
    assert encode(Message("PRIVMSG", ("bob", "psst"))) == b"PRIVMSG bob :psst\r\n"
    assert encode(Message("NOTICE", ("#r", "x"), "a!b@c")) == b":a!b@c NOTICE #r :x\r\n"
    assert encode(Message("AWAY", ("lunch",))) == b"AWAY :lunch\r\n"
    assert encode(Message("PART", ("#r",))) == b"PART #r\r\n"
    assert encode(Message("TOPIC", ("#r",))) == b"TOPIC #r\r\n"
    assert encode(Message("JOIN", ("#r",))) == b"JOIN #r\r\n"
    assert encode(Message("NICK", ("bob",))) == b"NICK bob\r\n"


async def test_client_sends_the_colon() -> None:
    """What our client's connection writes for a one-word message, topic,
    part reason, away message and quit reason, read from a real socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.settimeout(WAIT)
    try:
        connection = await ClientConnection.open("127.0.0.1", port)
        peer, _ = await asyncio.to_thread(listener.accept)
        session = Session("john")
        said, _ = session.say("bob", "psst")
        connection.send(
            [
                *said,
                Message("TOPIC", ("#r", "word")),
                Message("PART", ("#r", "bye")),
                Message("AWAY", ("lunch",)),
                Message("QUIT", ("Leaving",)),
            ]
        )
        await connection.close()
        peer.settimeout(WAIT)
        data = b""
        while chunk := await asyncio.to_thread(peer.recv, 65536):
            data += chunk
        peer.close()
    finally:
        listener.close()
    assert data.split(b"\r\n")[:-1] == [
        b"PRIVMSG bob :psst",
        b"TOPIC #r :word",
        b"PART #r :bye",
        b"AWAY :lunch",
        b"QUIT :Leaving",
    ]

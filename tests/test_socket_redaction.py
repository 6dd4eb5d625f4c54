"""IRCv3 draft/message-redaction (REDACT) through real sockets, on a real `easychat serve`.

Spec: https://ircv3.net/specs/extensions/message-redaction. To show that
something did *not* arrive, a test sends PING and reads up to its PONG: the
server answers in order, so anything it would have sent comes before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.chat.identity.passwords import hash_password
from easychat.proto.message import Message
from tests.ircclient import IRCClient
from tests.serverproc import HISTORY_CAPS, ServerProcess, history_client, read_batch, server_process

CAPS = (*HISTORY_CAPS, "draft/message-redaction")
OPER_PASSWORD = "an operator's long password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module's tests; each test uses rooms and nicks of its own."""
    db = tmp_path_factory.mktemp("redact") / "h.db"
    oper = ("--oper", f"admin:{hash_password(OPER_PASSWORD)}")
    with server_process(db, *oper) as proc:
        yield proc


@pytest.fixture
def clients() -> Iterator[list[IRCClient]]:
    """Clients to close after the test."""
    opened: list[IRCClient] = []
    yield opened
    for client in opened:
        client.close()


def connect(
    server: ServerProcess, clients: list[IRCClient], nick: str, caps: tuple[str, ...] = CAPS
) -> IRCClient:
    client = history_client(server.port, nick, caps)
    clients.append(client)
    return client


def join(room: str, *members: IRCClient) -> None:
    """Each member joins `room` in turn (the first becomes its operator)."""
    for member in members:
        member.send(f"JOIN {room}")
        member.expect("366", lambda m: m.params[1] == room)
    for member in members:  # everyone has seen everyone's join
        ping(member)


def ping(client: IRCClient) -> list[Message]:
    """What the server sends before the answer to a PING of ours."""
    client.send("PING :sync")
    return client.until("PONG")


def say(client: IRCClient, target: str, text: str) -> str:
    """Sends a PRIVMSG; returns its msgid (from the echo)."""
    client.send(f"PRIVMSG {target} :{text}")
    echo = client.expect("PRIVMSG", lambda m: m.params[1] == text)
    return echo.tags["msgid"]


def fail(client: IRCClient) -> Message:
    return client.expect("FAIL", lambda m: m.params[0] == "REDACT")


def texts(client: IRCClient, target: str) -> list[str]:
    _, body = read_batch(client, f"CHATHISTORY LATEST {target} * 100")
    return [m.params[1] for m in body if m.command == "PRIVMSG"]


def test_cap_is_offered(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "This specification adds the draft/message-redaction capability.\""""
    client = IRCClient(server.port)
    clients.append(client)
    client.send("CAP LS 302")
    offered = client.expect("CAP").params[-1].split()
    assert "draft/message-redaction" in offered


def test_own_message_is_redacted_for_everyone(
    server: ServerProcess, clients: list[IRCClient]
) -> None:
    """ "If the client is authorised to delete the message, the server SHOULD
    forward this REDACT, with an appropriate prefix, to the target recipients
    that have negotiated the draft/message-redaction capability, in the same
    way as PRIVMSG messages": the sender's echo included (echo-message)."""
    alice, bob = connect(server, clients, "OwnA"), connect(server, clients, "OwnB")
    join("#own", alice, bob)
    msgid = say(alice, "#own", "oops, wrong room")
    bob.expect("PRIVMSG", lambda m: m.tags.get("msgid") == msgid)
    alice.send(f"REDACT #own {msgid} :typo")
    for client in (alice, bob):
        got = client.expect("REDACT")
        assert got.params == ("#own", msgid, "typo")
        assert got.source is not None
        assert got.source.startswith("OwnA!")
        assert got.tags["msgid"] != msgid  # the REDACT is a message of its own
    assert texts(bob, "#own") == []


def test_operator_redacts_someone_elses(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "Allowing channel moderators or server admins to delete unwelcome
    messages from others": a room operator may redact any message of the room."""
    op, spammer = connect(server, clients, "ModOp"), connect(server, clients, "ModSpam")
    join("#mod", op, spammer)
    msgid = say(spammer, "#mod", "join my network for cold hard chats")
    op.expect("PRIVMSG", lambda m: m.tags.get("msgid") == msgid)
    op.send(f"REDACT #mod {msgid} spam")
    for client in (op, spammer):
        assert client.expect("REDACT").params == ("#mod", msgid, "spam")
    assert texts(op, "#mod") == []


def test_non_operator_is_refused(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "FAIL REDACT REDACT_FORBIDDEN <target> <target-msgid> :You are not
    authorised to delete this message": another member's message, not an operator."""
    op, other = connect(server, clients, "NoOp"), connect(server, clients, "NoOther")
    join("#noop", op, other)
    msgid = say(op, "#noop", "mine, not yours")
    other.expect("PRIVMSG", lambda m: m.tags.get("msgid") == msgid)
    other.send(f"REDACT #noop {msgid}")
    assert fail(other).params[:4] == ("REDACT", "REDACT_FORBIDDEN", "#noop", msgid)
    assert "REDACT" not in [m.command for m in ping(op)]
    assert texts(other, "#noop") == ["mine, not yours"]


def test_server_operator_redacts_anywhere(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "Allowing channel moderators or server admins to delete unwelcome
    messages from others": a server operator, not a room operator, may too."""
    op, admin = connect(server, clients, "SrvOp"), connect(server, clients, "SrvAdmin")
    join("#srv", op, admin)
    msgid = say(op, "#srv", "the room operator's words")
    admin.send(f"OPER admin :{OPER_PASSWORD}")
    admin.expect("381")  # RPL_YOUREOPER
    admin.send(f"REDACT #srv {msgid}")
    assert op.expect("REDACT").params == ("#srv", msgid)
    assert texts(op, "#srv") == []


def test_unknown_msgid(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "FAIL REDACT UNKNOWN_MSGID <target> <target-msgid> :This message does not
    exist or is too old": a msgid never sent, one of another room, one redacted."""
    alice = connect(server, clients, "UnkA")
    join("#unk", alice)
    join("#unk2", alice)
    alice.send("REDACT #unk 0123456789abffff")
    assert fail(alice).params[:4] == ("REDACT", "UNKNOWN_MSGID", "#unk", "0123456789abffff")
    elsewhere = say(alice, "#unk2", "said in the other room")
    alice.send(f"REDACT #unk {elsewhere}")
    assert fail(alice).params[:4] == ("REDACT", "UNKNOWN_MSGID", "#unk", elsewhere)
    alice.send(f"REDACT #unk2 {elsewhere}")
    alice.expect("REDACT")
    alice.send(f"REDACT #unk2 {elsewhere}")
    assert fail(alice).params[:4] == ("REDACT", "UNKNOWN_MSGID", "#unk2", elsewhere)


def test_room_one_is_not_in(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "FAIL REDACT INVALID_TARGET <target> :You cannot delete messages from
    <target>": a room the client is not in, or that does not exist."""
    alice, eve = connect(server, clients, "InvA"), connect(server, clients, "InvEve")
    join("#inv", alice)
    msgid = say(alice, "#inv", "members only")
    for room in ("#inv", "#nosuchroom"):
        eve.send(f"REDACT {room} {msgid}")
        assert fail(eve).params[:3] == ("REDACT", "INVALID_TARGET", room)


def test_non_capable_client_is_not_sent_redact(
    server: ServerProcess, clients: list[IRCClient]
) -> None:
    """ "[The server] MUST not forward this REDACT to target recipients that have
    not negotiated this capability\""""
    alice = connect(server, clients, "CapA")
    plain = connect(server, clients, "CapPlain", HISTORY_CAPS)
    join("#cap", alice, plain)
    msgid = say(alice, "#cap", "soon gone")
    plain.expect("PRIVMSG", lambda m: m.tags.get("msgid") == msgid)
    alice.send(f"REDACT #cap {msgid}")
    alice.expect("REDACT")
    assert "REDACT" not in [m.command for m in ping(plain)]
    assert texts(plain, "#cap") == []  # but it is gone from the history for it too


def test_private_message_redaction(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "send a REDACT command to a target nickname or channel": both ends of a
    private conversation are told, and its history no longer has the message;
    the other end may not redact what it did not send."""
    alice, bob = connect(server, clients, "PrivA"), connect(server, clients, "PrivB")
    msgid = say(alice, "PrivB", "for your eyes only")
    bob.expect("PRIVMSG", lambda m: m.tags.get("msgid") == msgid)
    bob.send(f"REDACT PrivA {msgid}")
    assert fail(bob).params[:4] == ("REDACT", "REDACT_FORBIDDEN", "PrivA", msgid)
    alice.send(f"REDACT PrivB {msgid}")
    for client in (alice, bob):
        got = client.expect("REDACT")
        assert got.params == ("PrivB", msgid)
    assert texts(alice, "PrivB") == []
    assert texts(bob, "PrivA") == []


def test_redaction_survives_a_restart(tmp_path: Path) -> None:
    """ "After a message is redacted, chathistory responses SHOULD [...] exclude
    it entirely": also after the server restarts on the same --db."""
    db = tmp_path / "h.db"
    opened: list[IRCClient] = []
    try:
        with server_process(db) as first:
            alice = history_client(first.port, "Alice", CAPS)
            opened.append(alice)
            join("#kept", alice)
            alice.send("MODE #kept +s")  # a room kept across restarts, history and all
            kept = say(alice, "#kept", "this one stays")
            gone = say(alice, "#kept", "this one goes")
            alice.send(f"REDACT #kept {gone}")
            alice.expect("REDACT")
            assert texts(alice, "#kept") == ["this one stays"]
            alice.close()
        with server_process(db) as second:
            again = history_client(second.port, "Alice", CAPS)
            opened.append(again)
            join("#kept", again)
            _, body = read_batch(again, "CHATHISTORY LATEST #kept * 100")
            said = [m for m in body if m.command == "PRIVMSG"]
            assert [(m.tags["msgid"], m.params[1]) for m in said] == [(kept, "this one stays")]
            again.send(f"REDACT #kept {gone}")
            assert fail(again).params[:2] == ("REDACT", "UNKNOWN_MSGID")
    finally:
        for client in opened:
            client.close()

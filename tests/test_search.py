"""SEARCH (soju.im/search) through real sockets, against `easychat serve` and its history file.

Spec: https://codeberg.org/emersion/soju/src/branch/master/doc/ext/search.md.
No sleeps: what did *not* arrive is shown by an empty batch (the server
answers in order), and the idle indexing by waiting on the file with a
deadline.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.proto.message import Message
from tests.ircclient import TIMEOUT, IRCClient
from tests.serverproc import HISTORY_CAPS, ServerProcess, history_client, server_process

SEARCH_CAPS = (*HISTORY_CAPS, "soju.im/search")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with server_process(tmp_path / "h.db") as proc:
        yield proc


@pytest.fixture
def clients() -> Iterator[list[IRCClient]]:
    opened: list[IRCClient] = []
    yield opened
    for client in opened:
        client.close()


def connect(server: ServerProcess, clients: list[IRCClient], nick: str) -> IRCClient:
    client = history_client(server.port, nick, SEARCH_CAPS)
    clients.append(client)
    return client


def say(client: IRCClient, target: str, text: str) -> Message:
    """Sends a PRIVMSG and waits for its echo (by then it is committed)."""
    client.send(f"PRIVMSG {target} :{text}")
    return client.expect("PRIVMSG", lambda m: m.nick == client.nick and m.params == (target, text))


def search(client: IRCClient, attributes: str) -> list[Message]:
    """Sends SEARCH; returns the messages of its soju.im/search batch."""
    client.send(f"SEARCH {attributes}")
    start = client.expect(
        ("BATCH", "FAIL"), lambda m: m.command == "FAIL" or m.params[0].startswith("+")
    )
    assert start.command == "BATCH", f"SEARCH {attributes} refused: {start.params}"
    assert start.params[1] == "soju.im/search", start.params
    ref = start.params[0][1:]
    body: list[Message] = []
    while True:
        msg = client.read()
        assert msg is not None, "connection closed inside the batch"
        if msg.command == "BATCH" and msg.params[0] == f"-{ref}":
            return body
        assert msg.tags.get("batch") == ref, msg
        body.append(msg)


def texts(messages: list[Message]) -> list[str]:
    return [m.params[1] for m in messages]


def cap_ls(client: IRCClient) -> set[str]:
    client.send("CAP LS 302")
    names: set[str] = set()
    while True:
        reply = client.expect("CAP")
        names.update(name.split("=")[0] for name in reply.params[-1].split())
        if reply.params[2] != "*":
            return names


def test_cap_offered_with_history(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "The `search` extension uses the `soju.im/search` capability" and "The
    `soju.im/search` capability MUST be negotiated.\""""
    client = IRCClient(server.port)
    clients.append(client)
    assert "soju.im/search" in cap_ls(client)


def test_finds_text_in_a_room_with_tags(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "The server then replies with a batch of batch type search containing
    messages matching all the specified attributes. These messages MUST be
    PRIVMSG or NOTICE messages." and "the msgid tag ... MUST be the msgid
    tag as originally sent by the IRC server.\""""
    alice = connect(server, clients, "alice")
    echo = say(alice, "#lobby", "the quick brown fox")
    say(alice, "#lobby", "a lazy dog")
    alice.send("NOTICE #lobby :Quick notice")
    found = search(alice, "text=quick")
    assert texts(found) == ["the quick brown fox", "Quick notice"]
    assert [m.command for m in found] == ["PRIVMSG", "NOTICE"]
    assert found[0].tags["msgid"] == echo.tags["msgid"]
    assert found[0].tags["time"] == echo.tags["time"]
    assert found[0].nick == "alice"


def test_every_word_and_other_attributes(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "`in`: the message was sent to this target", "`from`: the message was
    sent with this nick" and "`text`: the message text matches the
    specified text.\""""
    alice = connect(server, clients, "alice")
    bob = connect(server, clients, "bob")
    say(alice, "#lobby", "deploy the server today")
    say(bob, "#lobby", "deploy tomorrow then")
    bob.send("JOIN #ops")
    bob.expect("366")
    say(bob, "#ops", "deploy the ops server")
    assert texts(search(bob, r"text=deploy\sserver")) == [
        "deploy the server today",
        "deploy the ops server",
    ]
    assert texts(search(bob, "text=deploy;from=ALICE")) == ["deploy the server today"]
    assert texts(search(bob, r"text=deploy;in=#ops")) == ["deploy the ops server"]


def test_limit_keeps_the_newest(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "`limit`: a number representing an upper bound on the count of messages
    to return." and "messages SHOULD be searched from the `before` time,
    which defaults to the current server time.\""""
    alice = connect(server, clients, "alice")
    for number in range(5):
        say(alice, "#lobby", f"note {number}")
    assert texts(search(alice, "text=note;limit=2")) == ["note 3", "note 4"]


def test_after_and_before(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "`after`: the message was sent at or after this time" and "`before`:
    the message was sent at or before this time"; "If `after` is specified,
    messages SHOULD be searched from that time.\""""
    alice = connect(server, clients, "alice")
    times = [say(alice, "#lobby", f"tick {n}").tags["time"] for n in range(4)]
    found = search(alice, f"text=tick;after={times[1]};limit=2")
    assert texts(found) == ["tick 1", "tick 2"]
    assert texts(search(alice, f"text=tick;before={times[1]}")) == ["tick 0", "tick 1"]


def test_room_the_asker_is_not_in(server: ServerProcess, clients: list[IRCClient]) -> None:
    """A room's history is for its members (as CHATHISTORY: "If the client
    does not have access to the target, the server MUST respond with" no
    content): matches there are not returned, asked for or not."""
    alice = connect(server, clients, "alice")
    mallory = connect(server, clients, "mallory")
    alice.send("JOIN #secret")
    alice.expect("366")
    say(alice, "#secret", "the password is swordfish")
    assert search(mallory, "text=swordfish") == []
    assert search(mallory, "text=swordfish;in=#secret") == []
    mallory.send("JOIN #secret")
    mallory.expect("366")
    assert texts(search(mallory, "text=swordfish")) == ["the password is swordfish"]
    mallory.send("PART #secret")
    mallory.expect("PART")
    assert search(mallory, "text=swordfish") == []


def test_private_messages_only_for_their_two_people(
    server: ServerProcess, clients: list[IRCClient]
) -> None:
    """Private history "MUST verify the current user's identity matches that
    of the desired content": only the two people of a conversation find it."""
    alice = connect(server, clients, "alice")
    bob = connect(server, clients, "bob")
    mallory = connect(server, clients, "mallory")
    say(alice, "bob", "meet at the bridge")
    bob.expect("PRIVMSG", lambda m: m.params[1] == "meet at the bridge")
    assert texts(search(alice, "text=bridge")) == ["meet at the bridge"]
    assert texts(search(bob, "text=bridge;in=alice")) == ["meet at the bridge"]
    assert search(mallory, "text=bridge") == []
    assert search(mallory, "text=bridge;in=alice") == []
    assert search(mallory, "text=bridge;in=bob") == []


def test_invalid_attributes_fail(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "If the selectors were invalid, the `INVALID_PARAMS` error code SHOULD
    be returned. FAIL SEARCH INVALID_PARAMS [invalid_parameters] :Invalid
    parameters\""""
    alice = connect(server, clients, "alice")
    for attributes, bad in (
        ("text=x;colour=red", "colour=red"),
        ("text=x;limit=many", "limit=many"),
        ("limit=0", "limit=0"),
        ("after=yesterday", "after=yesterday"),
        ("text", "text"),
    ):
        alice.send(f"SEARCH {attributes}")
        reply = alice.expect(("FAIL", "BATCH"))
        assert reply.command == "FAIL", (attributes, reply)
        assert reply.params[:3] == ("SEARCH", "INVALID_PARAMS", bad)


def test_said_just_now_is_found(server: ServerProcess, clients: list[IRCClient]) -> None:
    """A message is searchable as soon as it is stored: "the server MUST reply
    to a successful SEARCH command using a batch" holding every match."""
    alice = connect(server, clients, "alice")
    bob = connect(server, clients, "bob")
    for number in range(20):
        say(alice, "#lobby", f"fresh {number}")
        assert texts(search(bob, "text=fresh;limit=1")) == [f"fresh {number}"]


def test_indexed_in_idle_turns(
    server: ServerProcess, clients: list[IRCClient], tmp_path: Path
) -> None:
    """The index follows the history between turns, without a SEARCH: what
    is stored is indexed soon after (the file is read by another process,
    with a deadline, until its index holds every message)."""
    alice = connect(server, clients, "alice")
    for number in range(10):
        say(alice, "#lobby", f"idle {number}")
    db = sqlite3.connect(f"{(tmp_path / 'h.db').resolve().as_uri()}?mode=ro", uri=True)
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            (rows,) = db.execute(
                "SELECT COUNT(*) FROM search_text WHERE search_text MATCH 'idle'"
            ).fetchone()
            if rows == 10:
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.01)
    finally:
        db.close()


def test_without_batch_plain_lines(server: ServerProcess, clients: list[IRCClient]) -> None:
    """ "limited functionality is available to clients without support for
    these CAPs. Servers SHOULD NOT enforce that clients support all related
    capabilities before using the search extension.\""""
    alice = connect(server, clients, "alice")
    say(alice, "#lobby", "plain result")
    plain = history_client(server.port, "carol", ("soju.im/search",))
    clients.append(plain)
    plain.send("SEARCH text=plain")
    plain.send("PING :done")
    got = plain.until("PONG")
    found = [m for m in got if m.command == "PRIVMSG"]
    assert texts(found) == ["plain result"]
    assert not any(m.command == "BATCH" for m in got)

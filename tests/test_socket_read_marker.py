"""MARKREAD (IRCv3 draft/read-marker) over real sockets: a real `easychat serve` and its --db."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.proto.message import Message
from tests.ircclient import IRCClient
from tests.serverproc import HISTORY_CAPS, ServerProcess, server_process

CAP = "draft/read-marker"
PASSWORD = "a long enough password"


@pytest.fixture
def clients() -> Iterator[list[IRCClient]]:
    made: list[IRCClient] = []
    yield made
    for client in made:
        client.close()


def connect(
    port: int, nick: str, *, account: str | None = None, register: bool = False
) -> tuple[IRCClient, list[Message]]:
    """A client with read-marker and the history caps, logged in to `account` (SASL).

    With `register`, the account `nick` is created first (REGISTER). Returns
    the client and what came from the end of CAP to the autojoin's 366.
    """
    wanted = [*HISTORY_CAPS, CAP, *(["sasl"] if account is not None else [])]
    client = IRCClient(port)
    client.send("CAP LS 302")
    client.send(f"CAP REQ :{' '.join(wanted)}")
    client.expect("CAP", lambda m: len(m.params) > 1 and m.params[1] == "ACK")
    if account is not None:
        client.sasl_plain(account, PASSWORD)
    client.send("CAP END")
    burst = client.register(nick)
    if register:
        client.send(f"REGISTER * * :{PASSWORD}")
        client.expect("REGISTER", lambda m: m.params[0] == "SUCCESS")
    return client, burst


def said(sender: IRCClient, room: str, text: str) -> str:
    """Sends `text` to `room`; returns its `time` tag, from the echo."""
    sender.send(f"PRIVMSG {room} :{text}")
    echo = sender.expect("PRIVMSG", lambda m: m.params[-1] == text)
    return echo.tags["time"]


def marker(client: IRCClient, target: str) -> tuple[str, ...]:
    """The next MARKREAD for `target` that `client` receives."""
    return client.expect("MARKREAD", lambda m: m.params[0] == target).params


def join_marker(burst: list[Message], room: str) -> tuple[str, ...]:
    """The MARKREAD for `room` in a join burst, checked to come before its 366."""
    names = [m.command for m in burst]
    end = next(i for i, m in enumerate(burst) if m.command == "366" and m.params[1] == room)
    found = [i for i, m in enumerate(burst[:end]) if m.command == "MARKREAD"]
    assert found, names
    assert names.index("JOIN") < found[0]
    return burst[found[0]].params


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with server_process(tmp_path / "server.sqlite3") as proc:
        yield proc


def test_marking_on_one_connection_reaches_the_other(
    server: ServerProcess, clients: list[IRCClient]
) -> None:
    """read-marker: "after the last read timestamp of a target changes, the
    server SHOULD send a MARKREAD command for that target to all the clients
    of the user." """
    laptop, _ = connect(server.port, "alice", register=True)
    phone, burst = connect(server.port, "alice_phone", account="alice")
    clients += [laptop, phone]
    assert join_marker(burst, "#lobby") == ("#lobby", "*")
    stamp = said(laptop, "#lobby", "hello")
    laptop.send(f"MARKREAD #lobby timestamp={stamp}")
    assert marker(laptop, "#lobby") == ("#lobby", f"timestamp={stamp}")
    assert marker(phone, "#lobby") == ("#lobby", f"timestamp={stamp}")


def test_on_reconnect_the_marker_comes_with_the_join_and_never_goes_back(
    server: ServerProcess, clients: list[IRCClient]
) -> None:
    """read-marker: "after the server sends a server JOIN command to the client
    for a corresponding channel, the server MUST send a MARKREAD command for
    that channel. The command MUST be sent before the RPL_ENDOFNAMES reply";
    and a timestamp "below or equal to the current known timestamp" is ignored,
    the reply carrying "the newer, previous value that was stored"."""
    first, _ = connect(server.port, "alice", register=True)
    clients.append(first)
    old = said(first, "#lobby", "one")
    new = said(first, "#lobby", "two")
    first.send(f"MARKREAD #lobby timestamp={new}")
    marker(first, "#lobby")
    first.send("QUIT")
    first.expect_closed()
    again, burst = connect(server.port, "alice", account="alice")
    clients.append(again)
    assert join_marker(burst, "#lobby") == ("#lobby", f"timestamp={new}")
    again.send(f"MARKREAD #lobby timestamp={old}")
    assert marker(again, "#lobby") == ("#lobby", f"timestamp={new}")


def test_an_invalid_timestamp_fails(server: ServerProcess, clients: list[IRCClient]) -> None:
    """read-marker: "If the selectors were invalid, the INVALID_PARAMS error
    code SHOULD be returned." """
    alice, _ = connect(server.port, "alice", register=True)
    clients.append(alice)
    alice.send("MARKREAD #lobby timestamp=2019-01-04")
    fail = alice.expect("FAIL")
    assert fail.params[:2] == ("MARKREAD", "INVALID_PARAMS")


def test_without_an_account_the_marker_lasts_the_connection(
    server: ServerProcess, clients: list[IRCClient]
) -> None:
    """read-marker is for "several clients of the same user"; a client that is
    not logged in is a user of its own: its marker is answered on that
    connection and forgotten with it."""
    guest, _ = connect(server.port, "guest")
    clients.append(guest)
    stamp = said(guest, "#lobby", "hi")
    guest.send(f"MARKREAD #lobby timestamp={stamp}")
    assert marker(guest, "#lobby") == ("#lobby", f"timestamp={stamp}")
    guest.send("MARKREAD #lobby")
    assert marker(guest, "#lobby") == ("#lobby", f"timestamp={stamp}")
    guest.send("QUIT")
    guest.expect_closed()
    back, burst = connect(server.port, "guest")
    clients.append(back)
    assert join_marker(burst, "#lobby") == ("#lobby", "*")


def test_markers_outlive_a_restart(tmp_path: Path, clients: list[IRCClient]) -> None:
    """read-marker: the server "can typically store a per-target timestamp";
    ours keeps an account's markers in the --db file, so a restart keeps them."""
    db = tmp_path / "server.sqlite3"
    with server_process(db) as first:
        alice, _ = connect(first.port, "alice", register=True)
        stamp = said(alice, "#lobby", "before the restart")
        alice.send(f"MARKREAD #lobby timestamp={stamp}")
        marker(alice, "#lobby")
        alice.send(f"MARKREAD bob timestamp={stamp}")
        marker(alice, "bob")
        assert first.kill9() != 0  # no clean shutdown: stored when set
        alice.close()
    with server_process(db) as second:
        again, burst = connect(second.port, "alice", account="alice")
        clients.append(again)
        assert join_marker(burst, "#lobby") == ("#lobby", f"timestamp={stamp}")
        again.send("MARKREAD bob")
        assert marker(again, "bob") == ("bob", f"timestamp={stamp}")

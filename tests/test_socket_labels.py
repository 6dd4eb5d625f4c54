"""IRCv3 labeled-response over real loopback sockets.

Spec: https://ircv3.net/specs/extensions/labeled-response. To show that
something did *not* arrive, a test sends PING and reads up to its PONG;
the server answers in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from easychat.chat.config import CoreConfig
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.ircclient import IRCClient, RunningServer
from tests.test_socket_channels import join, sync

CAPS = "batch labeled-response echo-message"


@pytest.fixture
def opened() -> Iterator[list[IRCClient]]:
    """Clients to close after the test."""
    clients: list[IRCClient] = []
    yield clients
    for client in clients:
        client.close()


def labelled_client(server: RunningServer, opened: list[IRCClient], nick: str) -> IRCClient:
    """A client that enabled CAPS and registered, past its burst."""
    client = server.client()
    opened.append(client)
    client.send(f"CAP REQ :{CAPS}")
    assert client.expect("CAP").params == ("*", "ACK", CAPS)
    client.nick = nick
    client.send(f"NICK {nick}")
    client.send(f"USER {nick.lower()} 0 * :{nick}")
    client.send("CAP END")
    client.expect((n.RPL_ENDOFMOTD, n.ERR_NOMOTD))
    sync(client)
    return client


def reply_batch(client: IRCClient, label: str) -> list[Message]:
    """Reads one `labeled-response` batch labelled `label`; returns the lines inside."""
    start = client.expect("BATCH")
    assert start.tags == {"label": label}, start
    assert start.params[0].startswith("+"), start
    assert start.params[1] == "labeled-response", start
    ref = start.params[0][1:]
    end = client.until("BATCH")
    assert end[-1].params == (f"-{ref}",), end
    assert all(m.tags.get("batch") == ref for m in end[:-1]), end
    return end[:-1]


def test_labelled_replies_over_a_socket(
    make_server: Callable[..., RunningServer], opened: list[IRCClient]
) -> None:
    """ "If a response consists of more than one message, a batch MUST be used
    to group them into a single logical response. The start of the batch MUST
    be tagged with the `label` tag." A one-line reply carries the label
    itself, a command with none gets "a labeled `ACK`", and the echo of a
    message is the labelled reply: the others' copy has no label."""
    server = make_server(CoreConfig(autojoin=()))
    alice = labelled_client(server, opened, "Alice")
    bob = server.client()
    opened.append(bob)
    bob.register("Bob", autojoined=False)
    join(alice, "JOIN #room")
    join(bob, "JOIN #room")
    sync(alice)

    alice.send("@label=mGhe5V7RTV WHOIS Bob")
    inside = reply_batch(alice, "mGhe5V7RTV")
    assert inside[0].command == n.RPL_WHOISUSER
    assert inside[-1].command == n.RPL_ENDOFWHOIS

    alice.send("@label=e1 FROBNICATE")
    error = alice.expect(n.ERR_UNKNOWNCOMMAND)
    assert error.tags == {"label": "e1"}

    alice.send("@label=abc PONG :foobar")
    ack = alice.expect("ACK")
    assert ack.tags == {"label": "abc"}
    assert ack.params == ()

    alice.send("@label=pQraCjj82e PRIVMSG #room :Hello!")
    echo = alice.expect("PRIVMSG")
    assert echo.tags == {"label": "pQraCjj82e"}
    assert echo.params == ("#room", "Hello!")
    seen = [m for m in sync(bob) if m.command == "PRIVMSG"]
    assert [(m.params, m.tags) for m in seen] == [(("#room", "Hello!"), {})]
    # Nothing else came with a label: each command's reply had it once.
    rest = sync(alice)
    assert all("label" not in m.tags for m in rest), rest

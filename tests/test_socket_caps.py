"""multi-prefix and userhost-in-names over real loopback sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from easychat.chat.config import CoreConfig
from easychat.proto import numerics as n
from tests.ircclient import IRCClient, RunningServer
from tests.test_socket_channels import join, sync


@pytest.fixture
def server(make_server: Callable[..., RunningServer]) -> RunningServer:
    """A fresh server with no autojoin room."""
    return make_server(CoreConfig(autojoin=()))


@pytest.fixture
def opened() -> Iterator[list[IRCClient]]:
    """Clients to close after the test."""
    clients: list[IRCClient] = []
    yield clients
    for client in clients:
        client.close()


def test_req_before_registration_is_acked_and_names_show_it(
    server: RunningServer, opened: list[IRCClient]
) -> None:
    """ "When requested, the multi-prefix client capability will cause the IRC
    server to send all possible prefixes which apply to a user in NAMES, WHO
    and WHOIS output." and "The userhost-in-names capability extends the
    NAMES reply messages (RPL_NAMREPLY) to contain the full hostmask
    (nick!user@host) of every user listed." """
    alice = server.client()
    opened.append(alice)
    alice.register("Alice", autojoined=False)
    join(alice, "JOIN #room")
    alice.send("MODE #room +v Alice")
    sync(alice)
    bob = server.client()
    opened.append(bob)
    bob.send("CAP LS 302")
    offered = bob.expect("CAP").params[-1].split()
    assert {"multi-prefix", "userhost-in-names"} <= set(offered)
    bob.send("CAP REQ :multi-prefix userhost-in-names")
    assert bob.expect("CAP").params == ("*", "ACK", "multi-prefix userhost-in-names")
    bob.send("NICK Bob")
    bob.send("USER bob 0 * :Bob")
    bob.send("CAP END")
    bob.expect(n.RPL_WELCOME)
    bob.until(n.ERR_NOMOTD)
    got = join(bob, "JOIN #room")
    names = next(m for m in got if m.command == n.RPL_NAMREPLY)
    assert names.params[-1] == "@+Alice!alice@127.0.0.1 Bob!bob@127.0.0.1"
    bob.send("WHO #room")
    rows = {m.params[5]: m.params[6] for m in sync(bob) if m.command == n.RPL_WHOREPLY}
    assert rows == {"Alice": "H@+", "Bob": "H"}


def test_req_after_registration_and_mixed_nak(
    server: RunningServer, opened: list[IRCClient]
) -> None:
    """ "The capability identifier set must be accepted as a whole, or rejected
    entirely." A known cap beside an unknown one is NAKed, and is not enabled."""
    alice = server.client()
    opened.append(alice)
    alice.register("Alice", autojoined=False)
    alice.send("CAP REQ :multi-prefix example.org/nope")
    assert alice.expect("CAP").params == ("Alice", "NAK", "multi-prefix example.org/nope")
    alice.send("CAP LIST")
    assert alice.expect("CAP").params == ("Alice", "LIST", "")
    alice.send("CAP REQ multi-prefix")
    assert alice.expect("CAP").params == ("Alice", "ACK", "multi-prefix")

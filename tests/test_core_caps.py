"""Chat-core tests for the IRCv3 capabilities multi-prefix and userhost-in-names (no sockets)."""

from __future__ import annotations

import pytest

from easychat.chat.config import CoreConfig
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.chatcore_harness import CoreDriver, only


@pytest.fixture
def drv() -> CoreDriver:
    """A core with no autojoin room."""
    return CoreDriver(CoreConfig(autojoin=()))


def names_of(msgs: list[Message]) -> list[str]:
    """Every entry of the 353 replies in `msgs`."""
    return [name for m in msgs if m.command == n.RPL_NAMREPLY for name in m.params[-1].split()]


def with_caps(drv: CoreDriver, nick: str, caps: str) -> int:
    """Registers `nick` after requesting `caps` (which must be ACKed)."""
    conn = drv.open()
    ack = only(drv.send(conn, f"CAP REQ :{caps}"), "CAP")
    assert ack.params == ("*", "ACK", caps)
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick.lower()} 0 * :{nick} Test")
    assert drv.send(conn, "CAP END")[0].command == n.RPL_WELCOME
    return conn


def op_and_voice(drv: CoreDriver) -> tuple[int, int]:
    """Alice creates #room (operator) and gives herself voice; Bob joins."""
    alice = drv.register("Alice", "#room")
    bob = drv.register("Bob", "#room")
    drv.send(alice, "MODE #room +v Alice")
    drv.drain()
    return alice, bob


@pytest.mark.parametrize("cap", ["multi-prefix", "userhost-in-names"])
def test_caps_are_listed(drv: CoreDriver, cap: str) -> None:
    """Both capabilities are in CAP LS, so clients may request them."""
    conn = drv.open()
    assert cap in only(drv.send(conn, "CAP LS 302"), "CAP").params[-1].split()


@pytest.mark.parametrize(
    "caps", ["multi-prefix", "userhost-in-names", "multi-prefix userhost-in-names"]
)
def test_req_is_acked_before_and_after_registration(drv: CoreDriver, caps: str) -> None:
    """ "The ACK subcommand ... confirms that the requested capability change
    was accepted." Before registration and after it alike."""
    with_caps(drv, "Early", caps)
    late = drv.register("Late")
    assert only(drv.send(late, f"CAP REQ :{caps}"), "CAP").params == ("Late", "ACK", caps)
    listed = only(drv.send(late, "CAP LIST"), "CAP").params[-1].split()
    assert sorted(listed) == sorted(caps.split())


def test_req_mixing_known_and_unknown_is_naked_whole(drv: CoreDriver) -> None:
    """ "The capability identifier set must be accepted as a whole, or rejected
    entirely." """
    conn = drv.open()
    nak = only(drv.send(conn, "CAP REQ :multi-prefix example.org/nope"), "CAP")
    assert nak.params == ("*", "NAK", "multi-prefix example.org/nope")
    assert drv.core.clients[conn].caps == set()


def test_multi_prefix_names_and_who(drv: CoreDriver) -> None:
    """ "When requested, the multi-prefix client capability will cause the IRC
    server to send all possible prefixes which apply to a user in NAMES, WHO
    and WHOIS output. These prefixes MUST be in order of 'rank', from highest
    to lowest." """
    op_and_voice(drv)
    carol = with_caps(drv, "Carol", "multi-prefix")
    drv.send(carol, "JOIN #room")
    drv.take(carol)
    assert names_of(drv.send(carol, "NAMES #room")) == ["@+Alice", "Bob", "Carol"]
    flags = {m.params[5]: m.params[6] for m in drv.send(carol, "WHO #room") if m.command == "352"}
    assert flags == {"Alice": "H@+", "Bob": "H", "Carol": "H"}
    whois = only(drv.send(carol, "WHOIS Alice"), n.RPL_WHOISCHANNELS)
    assert whois.params[-1] == "@+#room"


def test_without_multi_prefix_only_the_highest(drv: CoreDriver) -> None:
    """ "When not requested, only the highest prefix should be sent" (irctest)."""
    _, bob = op_and_voice(drv)
    assert names_of(drv.send(bob, "NAMES #room")) == ["@Alice", "Bob"]
    flags = {m.params[5]: m.params[6] for m in drv.send(bob, "WHO #room") if m.command == "352"}
    assert flags["Alice"] == "H@"


def test_userhost_in_names(drv: CoreDriver) -> None:
    """ "The userhost-in-names capability extends the NAMES reply messages
    (RPL_NAMREPLY) to contain the full hostmask (nick!user@host) of every user
    listed." With multi-prefix too, the prefixes come first."""
    op_and_voice(drv)
    carol = with_caps(drv, "Carol", "userhost-in-names")
    dave = with_caps(drv, "Dave", "multi-prefix userhost-in-names")
    assert names_of(drv.send(carol, "NAMES #room")) == [
        "@Alice!alice@127.0.0.1",
        "Bob!bob@127.0.0.1",
    ]
    joined = drv.send(dave, "JOIN #room")
    assert names_of(joined) == [
        "@+Alice!alice@127.0.0.1",
        "Bob!bob@127.0.0.1",
        "Dave!dave@127.0.0.1",
    ]


def test_userhost_in_names_still_fits_512_bytes(drv: CoreDriver) -> None:
    """Full hostmasks are longer: the 353 lines are still split to fit 512
    bytes (the harness checks every line), and nobody is left out."""
    nicks = [f"N{i:02d}" + "x" * 20 for i in range(40)]
    for i, nick in enumerate(nicks):
        conn = drv.open(f"10.0.0.{i}")
        drv.send(conn, f"NICK {nick}")
        drv.send(conn, f"USER {nick.lower()} 0 * :x")
        drv.send(conn, "JOIN #big")
    carol = with_caps(drv, "Carol", "userhost-in-names")
    got = drv.send(carol, "NAMES #big")
    assert len([m for m in got if m.command == n.RPL_NAMREPLY]) >= 3
    listed = sorted(name.lstrip("@").split("!")[0] for name in names_of(got))
    assert listed == sorted(nicks)

"""Queries over real loopback sockets: WHO, WHOIS, WHOWAS, LUSERS, INFO and the others."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.identity.passwords import hash_password
from tests.ircclient import RunningServer
from tests.test_socket_channels import Users, join, numerics, open_users, sync

SERVER = "easychat.local"


@pytest.fixture
def users(make_server: Callable[..., RunningServer]) -> Iterator[Users]:
    """Registered clients on a fresh server with no autojoin room."""
    yield from open_users(make_server)


def test_who_channel_lists_members_with_flags(users: Users) -> None:
    """WHO with "A channel name, in which case the channel members are listed";
    each reply carries H (here) or G (gone/away) and the membership prefix."""
    alice, bob, carol = users("Alice"), users("Bob"), users("Carol")
    for client in (alice, bob, carol):
        join(client, "JOIN #room")
    alice.send("MODE #room +v Bob")
    carol.send("AWAY :lunch")
    sync(alice)
    sync(carol)
    alice.send("WHO #room")
    got = sync(alice)
    assert numerics(got) == ["352", "352", "352", "315"]
    rows = {m.params[5]: m.params for m in got if m.command == "352"}
    assert rows["Alice"][1:] == (
        "#room",
        "alice",
        "127.0.0.1",
        SERVER,
        "Alice",
        "H@",
        "0 Alice Test",
    )
    assert rows["Bob"][6] == "H+"
    assert rows["Carol"][6] == "G"
    assert got[-1].params[1] == "#room"


def test_who_mask_matches_nicks_and_hides_invisible_strangers(users: Users) -> None:
    """ "Visible users are users who either aren't invisible (user mode +i) or
    have a common channel with the requesting client.\""""
    alice, bob, carol = users("Alice"), users("Bobby"), users("Bob")
    carol.send("MODE Bob +i")
    carol.expect("MODE")

    def who(mask: str) -> list[str]:
        alice.send(f"WHO {mask}")
        got = sync(alice)
        assert got[-1].command == "315"
        assert got[-1].params[1] == mask
        return sorted(m.params[5] for m in got if m.command == "352")

    assert who("Bob*") == ["Bobby"]
    assert who("*") == ["Alice", "Bobby"]
    assert who("nobody") == []
    join(alice, "JOIN #shared")
    join(carol, "JOIN #shared")
    assert who("Bob*") == ["Bob", "Bobby"]
    assert sync(bob) == []


OPER_PASSWORD = "operator secret"


@pytest.fixture
def oper_users(make_server: Callable[..., RunningServer]) -> Iterator[Users]:
    """Registered clients on a server with an operator `root`, no autojoin."""
    config = CoreConfig(autojoin=(), oper=(("root", hash_password(OPER_PASSWORD)),))
    yield from open_users(make_server, config)


def test_who_marks_operators_and_whox_sends_354(oper_users: Users) -> None:
    """ "Optionally, a literal asterisk character ('*', 0x2A) to indicate that
    the user is a server operator." WHOX: "The server will reply with zero,
    one or more RPL_WHOSPCRPL replies, followed by a final RPL_ENDOFWHO
    reply. Servers MUST NOT send RPL_WHOREPLY replies." and "Servers MUST
    send the fields in the order specified above"."""
    admin, bob = oper_users("Admin"), oper_users("Bob")
    join(admin, "JOIN #room")
    admin.send(f"OPER root :{OPER_PASSWORD}")
    admin.expect("381")
    admin.send("AWAY :away")
    admin.expect("306")
    bob.send("WHO #room")
    row = next(m for m in sync(bob) if m.command == "352")
    assert row.params[6] == "G*@"
    bob.send("WHO Admin %rfnt,42")
    got = sync(bob)
    assert numerics(got) == ["354", "315"]
    assert got[0].params == ("Bob", "42", "Admin", "G*", "Admin Test")
    assert got[1].params[1] == "Admin"
    bob.send("VERSION")
    tokens = {t for m in sync(bob) if m.command == "005" for t in m.params[1:-1]}
    assert "WHOX" in tokens


def test_whois_full_reply(users: Users) -> None:
    """The WHOIS reply: 311, 319, 312, 301 when away, 317, and 318 at the end:
    "The server SHOULD answer this command with numeric messages with
    information about the nick, ending with RPL_ENDOFWHOIS\"."""
    alice, bob = users("Alice"), users("Bob")
    join(bob, "JOIN #room,#other")
    bob.send("AWAY :brb")
    bob.expect("306")
    alice.send("WHOIS Bob")
    got = sync(alice)
    assert numerics(got) == ["311", "319", "312", "301", "317", "318"]
    assert got[0].params == ("Alice", "Bob", "bob", "127.0.0.1", "*", "Bob Test")
    assert sorted(got[1].params[2].split()) == ["@#other", "@#room"]
    assert got[2].params[1:3] == ("Bob", SERVER)
    assert got[3].params == ("Alice", "Bob", "brb")
    assert int(got[4].params[2]) >= 0
    assert int(got[4].params[3]) > 0
    assert got[5].params[1] == "Bob"


def test_whois_unknown_is_401_then_318(users: Users) -> None:
    """An unknown nick gives ERR_NOSUCHNICK and still ends with RPL_ENDOFWHOIS."""
    alice = users("Alice")
    alice.send("WHOIS Ghost")
    got = sync(alice)
    assert numerics(got) == ["401", "318"]
    assert got[0].params[1] == "Ghost"
    assert got[1].params[1] == "Ghost"


def test_whois_hides_secret_rooms(users: Users) -> None:
    """ "secret channels will not show up in the RPL_WHOISCHANNELS numeric
    unless the user the numeric is being sent to is joined to that channel.\""""
    alice, bob = users("Alice"), users("Bob")
    join(bob, "JOIN #open,#hidden")
    bob.send("MODE #hidden +s")
    bob.expect("MODE")
    alice.send("WHOIS Bob")
    assert alice.expect("319").params[2] == "@#open"


def test_whowas_is_406_then_369(users: Users) -> None:
    """ "Servers MUST reply with either ERR_WASNOSUCHNICK or a non-empty list of
    WHOWAS entries, both followed with RPL_ENDOFWHOWAS\"."""
    alice = users("Alice")
    alice.send("WHOWAS Someone")
    got = sync(alice)
    assert numerics(got) == ["406", "369"]
    assert got[0].params[1] == "Someone"
    assert got[1].params[1] == "Someone"


def test_whowas_lists_who_left_a_nick_newest_first(users: Users) -> None:
    """ "RPL_WHOWASUSER (314) "<client> <nick> <username> <host> * :<realname>"",
    then RPL_WHOISSERVER (312) per entry, "returning the most recent entry
    first", "up to <count> replies", and RPL_ENDOFWHOWAS (369)."""
    alice = users("Alice")
    first = users("Old")
    first.send("NICK Newer")
    first.expect("NICK")
    second = users("Old")
    second.send("QUIT :bye")
    second.expect_closed()
    alice.send("WHOWAS old")
    got = sync(alice)
    assert numerics(got) == ["314", "312", "314", "312", "369"]
    assert got[0].params == ("Alice", "Old", "old", "127.0.0.1", "*", "Old Test")
    assert got[1].params[1:3] == ("Old", SERVER)
    assert got[-1].params == ("Alice", "old", "End of WHOWAS")
    alice.send("WHOWAS Old 1")
    assert numerics(sync(alice)) == ["314", "312", "369"]


def test_userhost_and_ison(users: Users) -> None:
    """USERHOST gives nick=+user@host (- when away); ISON lists who is online."""
    alice, bob = users("Alice"), users("Bob")
    bob.send("AWAY :out")
    bob.expect("306")
    alice.send("USERHOST Alice Bob Ghost")
    entries = alice.expect("302").params[-1].split()
    assert entries == ["Alice=+alice@127.0.0.1", "Bob=-bob@127.0.0.1"]
    alice.send("ISON Bob Ghost alice")
    assert alice.expect("303").params[-1].split() == ["Bob", "Alice"]


def test_lusers_counts_users_and_rooms(users: Users) -> None:
    """LUSERS: 251 with the user count, 254 with the number of rooms, 255,
    then "RPL_LOCALUSERS (265) "<client> [<u> <m>] :Current local users <u>,
    max <m>"" and RPL_GLOBALUSERS (266) likewise."""
    alice, bob = users("Alice"), users("Bob")
    carol = users("Carol")
    carol.send("QUIT")
    carol.expect_closed()
    join(alice, "JOIN #one,#two")
    bob.send("LUSERS")
    got = sync(bob)
    assert "There are 2 users" in got[0].params[-1]
    rooms = [m for m in got if m.command == "254"]
    assert rooms[0].params[1] == "2"
    assert numerics(got)[-3:] == ["255", "265", "266"]
    assert got[-2].params == ("Bob", "2", "3", "Current local users 2, max 3")
    assert got[-1].params == ("Bob", "2", "3", "Current global users 2, max 3")


def test_info(users: Users) -> None:
    """INFO: "RPL_INFO (371) "<client> :<string>"" lines, then "RPL_ENDOFINFO
    (374) "<client> :End of INFO list""."""
    alice = users("Alice")
    alice.send("INFO")
    got = sync(alice)
    assert numerics(got)[-1] == "374"
    assert set(numerics(got)[:-1]) == {"371"}
    assert all(m.source == SERVER and m.params[0] == "Alice" for m in got)
    assert got[-1].params == ("Alice", "End of INFO list")


def test_version_and_time(users: Users) -> None:
    """ "Upon receiving a VERSION command, the given server SHOULD respond with
    one RPL_VERSION reply and one or more RPL_ISUPPORT replies\"; TIME gives 391."""
    alice = users("Alice")
    alice.send("VERSION")
    got = sync(alice)
    assert got[0].command == "351"
    assert got[0].params[1].startswith("easychat-")
    assert got[0].params[2] == SERVER
    assert {m.command for m in got[1:]} == {"005"}
    assert any("CHANMODES=beI,k,l,Cimnst" in m.params for m in got[1:])
    alice.send("TIME")
    reply = alice.expect("391")
    assert reply.params[1] == SERVER
    assert "UTC" in reply.params[-1]


def test_lusers_counts_invisible_users(users: Users) -> None:
    """RPL_LUSERCLIENT: "There are <u> users and <i> invisible on <s> servers"."""
    alice = users("Alice")
    alice.send("MODE Alice +i")
    alice.expect("MODE")
    alice.send("LUSERS")
    assert alice.expect("251").params[-1] == "There are 0 users and 1 invisible on 1 server"

"""MODE over real loopback sockets: room modes, bans, prefixes, and user modes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.ircclient import IRCClient, RunningServer
from tests.test_socket_channels import Users, join, numerics, open_users, sync


@pytest.fixture
def users(make_server: Callable[..., RunningServer]) -> Iterator[Users]:
    """Registered clients on a fresh server with no autojoin room."""
    yield from open_users(make_server)


@pytest.fixture
def room(users: Users) -> tuple[IRCClient, IRCClient, IRCClient]:
    """Alice (operator) and Bob in #room, Carol outside; all synced."""
    alice, bob, carol = users("Alice"), users("Bob"), users("Carol")
    join(alice, "JOIN #room")
    join(bob, "JOIN #room")
    sync(alice)
    return alice, bob, carol


Room = tuple[IRCClient, IRCClient, IRCClient]


def test_mode_query_324_329_hides_key_from_non_members(room: Room) -> None:
    """ "If <target> is a channel and <modestring> is not given, the
    RPL_CHANNELMODEIS numeric will be sent back\"; the key is shown only to
    members."""
    alice, bob, carol = room
    alice.send("MODE #room +k sesame")
    bob.expect("MODE")
    bob.send("MODE #room")
    assert bob.expect("324").params[1:] == ("#room", "+ntk", "sesame")
    assert int(bob.expect("329").params[2]) > 0
    carol.send("MODE #room")
    shown = carol.expect("324").params
    assert shown[2] == "+ntk"
    assert "sesame" not in shown
    carol.expect("329")


def test_one_mode_broadcast_with_applied_changes(room: Room) -> None:
    """ "the supplied modes will be applied and a MODE message will be returned
    containing the mode changes that were applied.\""""
    alice, bob, carol = room
    alice.send("MODE #room +imk-t+lv secret 3 Bob")
    expected = ("#room", "+imk-t+lv", "secret", "3", "Bob")
    assert alice.expect("MODE").params == expected
    assert bob.expect("MODE").params == expected
    assert sync(alice) == []
    assert sync(bob) == []
    assert sync(carol) == []


def test_op_and_deop(room: Room) -> None:
    """+o gives operator status ("@" in NAMES) and -o takes it away."""
    alice, bob, _ = room
    alice.send("MODE #room +o Bob")
    alice.expect("MODE")
    assert bob.expect("MODE").params == ("#room", "+o", "Bob")
    bob.send("NAMES #room")
    assert bob.expect("353").params[-1].split() == ["@Alice", "@Bob"]
    bob.send("MODE #room -o Bob")
    assert alice.expect("MODE").params == ("#room", "-o", "Bob")
    bob.send("MODE #room +t")
    assert bob.expect("482").params[1] == "#room"


def test_moderated_room_and_voice(room: Room) -> None:
    """ "If this mode is set on a channel, only users who have channel privileges
    may send messages to that channel.\" Voice (+v) lets a user speak."""
    alice, bob, _ = room
    alice.send("MODE #room +m")
    alice.expect("MODE")
    bob.expect("MODE")
    bob.send("PRIVMSG #room :can I talk?")
    assert bob.expect("404").params[1] == "#room"
    assert sync(alice) == []
    alice.send("MODE #room +v Bob")
    bob.expect("MODE")
    bob.send("PRIVMSG #room :now I can")
    assert alice.expect("PRIVMSG").params == ("#room", "now I can")


def test_protected_topic_and_no_external_messages_toggles(room: Room) -> None:
    """-t lets anyone set the topic; -n lets outsiders post, +n stops them again."""
    alice, bob, carol = room
    bob.send("TOPIC #room :try")
    bob.expect("482")
    alice.send("MODE #room -tn")
    bob.expect("MODE")
    bob.send("TOPIC #room :bob's topic")
    assert alice.expect("TOPIC").params == ("#room", "bob's topic")
    carol.send("PRIVMSG #room :from outside")
    assert alice.expect("PRIVMSG").source == "Carol!carol@127.0.0.1"
    alice.send("MODE #room +n")
    bob.expect("MODE")
    carol.send("PRIVMSG #room :again")
    assert carol.expect("404").params[1] == "#room"
    assert sync(bob) == []


def test_invite_only_and_key_and_limit_then_removed(room: Room) -> None:
    """+i, +k and +l keep Carol out (473, 475, 471); removing them lets her in."""
    alice, _, carol = room
    alice.send("MODE #room +i")
    alice.expect("MODE")
    assert numerics(join(carol, "JOIN #room")) == ["473"]
    alice.send("MODE #room -i+k key")
    alice.expect("MODE")
    assert numerics(join(carol, "JOIN #room")) == ["475"]
    alice.send("MODE #room -k+l * 2")
    assert alice.expect("MODE").params == ("#room", "-k+l", "*", "2")
    assert numerics(join(carol, "JOIN #room")) == ["471"]
    alice.send("MODE #room -l")
    assert alice.expect("MODE").params == ("#room", "-l")
    assert numerics(join(carol, "JOIN #room"))[0] == "JOIN"


def test_ban_set_list_unset_with_normalization(room: Room) -> None:
    """A nick ban is stored as nick!*@*, listed with 367/368, and removed with -b."""
    alice, bob, carol = room
    alice.send("MODE #room +b carol")
    alice.expect("MODE")
    assert bob.expect("MODE").params == ("#room", "+b", "carol!*@*")
    bob.send("MODE #room +b")
    entry = bob.expect("367")
    assert entry.params[1:4] == ("#room", "carol!*@*", "Alice!alice@127.0.0.1")
    assert bob.expect("368").params[1] == "#room"
    assert numerics(join(carol, "JOIN #room")) == ["474"]
    alice.send("MODE #room -b Carol!*@*")
    assert alice.expect("MODE").params == ("#room", "-b", "Carol!*@*")
    assert numerics(join(carol, "JOIN #room"))[0] == "JOIN"


def test_mode_errors_472_482_696(room: Room) -> None:
    """ERR_UNKNOWNMODE for an unknown letter, ERR_CHANOPRIVSNEEDED from a
    non-operator, ERR_INVALIDMODEPARAM for a missing or bad parameter."""
    alice, bob, _ = room
    alice.send("MODE #room +Y")
    assert alice.expect("472").params[1] == "Y"
    bob.send("MODE #room +s")
    assert bob.expect("482").params[1] == "#room"
    alice.send("MODE #room +l")
    assert alice.expect("696").params[1:3] == ("#room", "l")
    alice.send("MODE #room +l -5")
    assert alice.expect("696").params[1:4] == ("#room", "l", "-5")
    assert sync(bob) == []


def test_user_modes(users: Users) -> None:
    """ "If <target> is a nickname, it MUST be the same nickname as the user who
    sent the command. If a client is trying to set modes for a different user,
    the ERR_USERSDONTMATCH numeric is returned\"."""
    alice, bob = users("Alice"), users("Bob")
    alice.send("MODE Alice")
    assert alice.expect("221").params == ("Alice", "+")
    alice.send("MODE Alice +i")
    mode = alice.expect("MODE")
    assert mode.params == ("Alice", "+i")
    alice.send("MODE Alice")
    assert alice.expect("221").params == ("Alice", "+i")
    alice.send("MODE Alice -i")
    assert alice.expect("MODE").params == ("Alice", "-i")
    alice.send("MODE Bob +i")
    assert alice.expect("502").params[0] == "Alice"
    alice.send("MODE Alice +X")
    assert alice.expect("501").params[0] == "Alice"
    assert sync(bob) == []

"""Rooms over real loopback sockets: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE, privacy."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from easychat.chat.config import CoreConfig
from easychat.proto.limits import MAX_LINE_BYTES
from easychat.proto.message import Message
from tests.ircclient import IRCClient, RunningServer
from tests.nolimits import unlimited

Users = Callable[[str], IRCClient]


def open_users(
    make_server: Callable[..., RunningServer], config: CoreConfig | None = None
) -> Iterator[Users]:
    """Yields a factory of registered clients on a server without autojoin."""
    server = make_server(config or CoreConfig(autojoin=()))
    opened: list[IRCClient] = []

    def new(nick: str) -> IRCClient:
        client = server.client()
        opened.append(client)
        client.register(nick, autojoined=False)
        return client

    yield new
    for client in opened:
        client.close()


def sync(client: IRCClient, token: str = "sync") -> list[Message]:
    """Everything `client` receives before the PONG to a PING sent now.

    The server answers in order, so anything caused by earlier actions has
    arrived by then: an empty list proves that nothing was delivered.
    """
    start = len(client.received)
    client.send(f"PING {token}")
    client.expect("PONG", lambda m: m.params[-1] == token)
    return client.received[start:-1]


def numerics(msgs: list[Message]) -> list[str]:
    """The commands of `msgs`, in order."""
    return [m.command for m in msgs]


def join(client: IRCClient, line: str) -> list[Message]:
    """Sends a JOIN and returns what came up to the last 366 or error."""
    client.send(line)
    return sync(client)


@pytest.fixture
def users(make_server: Callable[..., RunningServer]) -> Iterator[Users]:
    """Registered clients on a fresh server with no autojoin room."""
    yield from open_users(make_server)


def test_lobby_message_reaches_members_and_room_stays_private(
    connect: Callable[[], IRCClient],
) -> None:
    """With the default #lobby, a message to another room reaches exactly its
    members: the lobby-mate outside it receives nothing."""
    john, doe, eve = connect(), connect(), connect()
    john.register("John")
    doe.register("Doe")
    eve.register("Eve")
    john.send("JOIN #private")
    john.expect("366")
    doe.send("JOIN #private")
    doe.expect("366")
    sync(eve)
    john.send("PRIVMSG #private :just us")
    assert doe.expect("PRIVMSG").params == ("#private", "just us")
    assert sync(eve) == []
    john.send("PRIVMSG #lobby :everyone")
    assert eve.expect("PRIVMSG").params == ("#lobby", "everyone")


def test_join_echo_names_and_first_joiner_op(users: Users) -> None:
    """ "If a client's JOIN command to the server is successful, the server MUST
    send, in this order: 1. A JOIN message ... 3. A list of users currently
    joined to the channel\"."""
    alice, bob = users("Alice"), users("Bob")
    got = join(alice, "JOIN #room")
    assert numerics(got) == ["JOIN", "353", "366"]
    assert got[1].params[-1] == "@Alice"
    got = join(bob, "JOIN #room")
    assert numerics(got) == ["JOIN", "353", "366"]
    assert got[1].params[-1].split() == ["@Alice", "Bob"]
    assert alice.expect("JOIN").source == "Bob!bob@127.0.0.1"


def test_join_list_with_keys_and_errors(users: Users) -> None:
    """ "Servers MUST process the parameters of this command as lists on incoming
    commands from clients\"; each failing room gets its own numeric."""
    alice, bob = users("Alice"), users("Bob")
    join(alice, "JOIN #a,#b,#full,#inv,#ban")
    alice.send("MODE #a +k ka")
    alice.send("MODE #b +k kb")
    alice.send("MODE #full +l 1")
    alice.send("MODE #inv +i")
    alice.send("MODE #ban +b Bob")
    sync(alice)
    got = join(bob, "JOIN #a,#b,#full,#inv,#ban,bad ka,wrong")
    errors = [(m.command, m.params[1]) for m in got if m.command[0] == "4"]
    assert errors == [
        ("475", "#b"),
        ("471", "#full"),
        ("473", "#inv"),
        ("474", "#ban"),
        ("476", "bad"),
    ]
    assert [m.params[0] for m in got if m.command == "JOIN"] == ["#a"]


def test_invite_lets_into_invite_only_room(users: Users) -> None:
    """ "If this mode is set on a channel, a user must have received an INVITE
    for this channel before being allowed to join it.\""""
    alice, bob = users("Alice"), users("Bob")
    join(alice, "JOIN #inv")
    alice.send("MODE #inv +i")
    sync(alice)
    assert numerics(join(bob, "JOIN #inv")) == ["473"]
    alice.send("INVITE Bob #inv")
    assert alice.expect("341").params == ("Alice", "Bob", "#inv")
    invite = bob.expect("INVITE")
    assert invite.params == ("Bob", "#inv")
    assert invite.source == "Alice!alice@127.0.0.1"
    assert numerics(join(bob, "JOIN #inv"))[0] == "JOIN"


def test_invite_errors(users: Users) -> None:
    """ERR_NOSUCHNICK, ERR_NOTONCHANNEL, ERR_USERONCHANNEL and, in a +i room,
    ERR_CHANOPRIVSNEEDED for a non-operator."""
    alice, bob, carol = users("Alice"), users("Bob"), users("Carol")
    join(alice, "JOIN #room")
    join(bob, "JOIN #room")
    alice.send("MODE #room +i")
    sync(alice)
    sync(bob)
    alice.send("INVITE Ghost #room")
    assert alice.expect("401").params[1] == "Ghost"
    carol.send("INVITE Alice #room")
    assert carol.expect("442").params[1] == "#room"
    alice.send("INVITE Bob #room")
    assert alice.expect("443").params[1:3] == ("Bob", "#room")
    bob.send("INVITE Carol #room")
    assert bob.expect("482").params[1] == "#room"
    assert sync(carol) == []


def test_part_reason_seen_by_members_and_room_disappears(users: Users) -> None:
    """ "<reason> is the reason that the client has left the channel(s)\"; when
    the last member leaves, the room is gone (403 afterwards)."""
    alice, bob, carol = users("Alice"), users("Bob"), users("Carol")
    join(alice, "JOIN #room")
    join(bob, "JOIN #room")
    sync(alice)
    bob.send("PART #room :gotta go")
    part = alice.expect("PART")
    assert part.params == ("#room", "gotta go")
    assert part.source == "Bob!bob@127.0.0.1"
    assert bob.expect("PART").params == ("#room", "gotta go")
    assert sync(carol) == []
    bob.send("PART #room")
    assert bob.expect("442").params[1] == "#room"
    alice.send("PART #room")
    alice.expect("PART")
    alice.send("PART #room")
    assert alice.expect("403").params[1] == "#room"
    got = join(carol, "JOIN #room")
    assert got[1].params[-1] == "@Carol"


def test_topic_query_set_and_protection(users: Users) -> None:
    """ "If the protected topic mode is set on a channel, then clients MUST have
    appropriate channel permissions to modify the topic of that channel.\""""
    alice, bob, carol = users("Alice"), users("Bob"), users("Carol")
    join(alice, "JOIN #room")
    join(bob, "JOIN #room")
    sync(alice)
    bob.send("TOPIC #room")
    assert bob.expect("331").params[1] == "#room"
    bob.send("TOPIC #room :bob's topic")
    assert bob.expect("482").params[1] == "#room"
    carol.send("TOPIC #room :carol's topic")
    assert carol.expect("442").params[1] == "#room"
    alice.send("TOPIC #room :The topic")
    assert alice.expect("TOPIC").params == ("#room", "The topic")
    assert bob.expect("TOPIC").source == "Alice!alice@127.0.0.1"
    carol.send("TOPIC #room")
    assert carol.expect("332").params == ("Carol", "#room", "The topic")
    whotime = carol.expect("333")
    assert whotime.params[2] == "Alice!alice@127.0.0.1"
    assert int(whotime.params[3]) > 0
    got = join(carol, "JOIN #room")
    assert numerics(got) == ["JOIN", "332", "333", "353", "366"]


def test_names_long_list_is_split_into_lines_of_at_most_512_bytes(
    make_server: Callable[..., RunningServer],
) -> None:
    """RPL_NAMREPLY lines are split so that each fits in 512 bytes on the wire."""
    # 36 clients from 127.0.0.1: more than --max-clients-per-ip allows.
    users = next(open_users(make_server, unlimited(autojoin=())))
    nicks = [f"Member{i:02d}" + "x" * 22 for i in range(36)]
    clients = [users(nick) for nick in nicks]
    for client in clients:
        join(client, "JOIN #big")
    watcher = clients[0]
    sync(watcher)
    watcher.send("NAMES #big")
    lines: list[bytes] = []
    while True:
        line = watcher.read_line()
        assert line is not None
        lines.append(line)
        if b" 366 " in line:
            break
    replies = [line for line in lines if b" 353 " in line]
    assert len(replies) >= 3
    assert all(len(line) + 2 <= MAX_LINE_BYTES for line in replies)
    listed = [n.lstrip("@") for r in replies for n in r.decode().split(" :", 1)[1].split()]
    assert sorted(listed) == sorted(nicks)


def test_names_and_list_hide_secret_room(users: Users) -> None:
    """ "A channel that is set to secret will not show up in responses to the
    LIST or NAMES command unless the client sending the command is joined to
    the channel.\""""
    alice, bob = users("Alice"), users("Bob")
    join(alice, "JOIN #hidden,#open")
    alice.send("TOPIC #open :welcome")
    alice.send("MODE #hidden +s")
    sync(alice)
    bob.send("NAMES #hidden")
    assert numerics(sync(bob)) == ["366"]
    bob.send("LIST")
    got = sync(bob)
    assert numerics(got) == ["321", "322", "323"]
    assert got[1].params == ("Bob", "#open", "1", "welcome")
    alice.send("LIST")
    assert sorted(m.params[1] for m in sync(alice) if m.command == "322") == [
        "#hidden",
        "#open",
    ]
    alice.send("NAMES #hidden")
    assert alice.expect("353").params[1:] == ("@", "#hidden", "@Alice")


def test_kick_seen_by_all_and_kicked_user_stops_receiving(users: Users) -> None:
    """ "It causes the <user> to be removed from the <channel> by force\": the
    kicked user sees the KICK and then no more room traffic."""
    alice, bob, carol = users("Alice"), users("Bob"), users("Carol")
    for client in (alice, bob, carol):
        join(client, "JOIN #room")
    sync(alice)
    sync(bob)
    bob.send("KICK #room Carol")
    assert bob.expect("482").params[1] == "#room"
    alice.send("KICK #room Ghost")
    assert alice.expect("441").params[1:3] == ("Ghost", "#room")
    alice.send("KICK #room Bob :off you go")
    for client in (alice, bob, carol):
        kick = client.expect("KICK")
        assert kick.params == ("#room", "Bob", "off you go")
        assert kick.source == "Alice!alice@127.0.0.1"
    alice.send("PRIVMSG #room :bob is gone")
    assert carol.expect("PRIVMSG").params == ("#room", "bob is gone")
    assert sync(bob) == []
    bob.send("PRIVMSG #room :let me back")
    assert bob.expect("404").params[1] == "#room"


@pytest.mark.parametrize("line", ["KICK #room Bob,Carol :bye", "KICK #room,#room Bob,Carol :bye"])
def test_double_kick_sends_both_kicks(users: Users, line: str) -> None:
    """ "The server MUST NOT send KICK messages with multiple channels or users
    to clients": a KICK of two users reaches the room as two KICKs, whether
    the room is named once or once per user (RFC 2812's two forms)."""
    alice, bob, carol, dave = users("Alice"), users("Bob"), users("Carol"), users("Dave")
    for client in (alice, bob, carol, dave):
        join(client, "JOIN #room")
    for client in (alice, bob, carol, dave):
        sync(client)
    alice.send(line)
    for client in (alice, dave):
        kicks = [m for m in sync(client) if m.command == "KICK"]
        assert [m.params for m in kicks] == [("#room", "Bob", "bye"), ("#room", "Carol", "bye")]
        assert all(m.source == "Alice!alice@127.0.0.1" for m in kicks)
    alice.send("KICK #room Dave,Ghost")
    got = sync(alice)
    assert [m.command for m in got] == ["KICK", "441"]
    assert got[1].params[1:3] == ("Ghost", "#room")


@pytest.mark.parametrize("mode", ["+i", "+k sesame"])
def test_outsider_cannot_read_or_post_in_closed_room(users: Users, mode: str) -> None:
    """ "If this mode is enabled and they try to send one of these to a channel
    they are not joined to, they will receive an ERR_CANNOTSENDTOCHAN numeric
    and the message will not be sent to that channel.\""""
    alice, bob, eve = users("Alice"), users("Bob"), users("Eve")
    join(alice, "JOIN #room")
    alice.send(f"MODE #room {mode}")
    alice.send("INVITE Bob #room")
    sync(alice)  # the server has handled the mode and invite before Bob joins
    assert numerics(join(bob, "JOIN #room sesame"))[1:] == ["JOIN", "353", "366"]
    assert numerics(join(eve, "JOIN #room"))[0] in ("473", "475")
    sync(alice)
    alice.send("PRIVMSG #room :secret plans")
    bob.expect("PRIVMSG")
    bob.send("NOTICE #room :more plans")
    alice.expect("NOTICE")
    alice.send("TOPIC #room :hush")
    bob.expect("TOPIC")
    alice.expect("TOPIC")
    assert sync(eve) == []
    eve.send("PRIVMSG #room :hello?")
    assert eve.expect("404").params[1] == "#room"
    assert sync(alice) == []
    assert sync(bob) == []

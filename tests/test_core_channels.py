"""Chat-core tests for rooms: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE (no sockets)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from easychat.chat import config as limits
from easychat.chat.actions import Send, SendBytes
from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.proto.limits import MAX_LINE_BYTES
from easychat.proto.message import Message, parse

SERVER = "easychat.local"


class Harness:
    """A ChatCore with an injected clock and one inbox per connection."""

    def __init__(self, config: CoreConfig | None = None) -> None:
        self.now = 1_700_000_000.0
        self.core = ChatCore(config or CoreConfig(autojoin=()), clock=lambda: self.now)
        self.inbox: dict[int, list[Message]] = {}
        self.next_conn = 0

    def deliver(self, actions: list[object]) -> None:
        """Puts every sent message in its recipients' inboxes."""
        for action in actions:
            if isinstance(action, Send | SendBytes):
                message = (
                    action.message if isinstance(action, Send) else parse(action.data[:-2].decode())
                )
                for target in action.recipients():
                    self.inbox.setdefault(target, []).append(message)

    def user(self, nick: str, host: str = "127.0.0.1") -> User:
        """Connects and registers `nick`; its registration burst is discarded."""
        self.next_conn += 1
        conn = self.next_conn
        self.inbox[conn] = []
        self.deliver(list(self.core.connect(conn, host)))
        user = User(self, conn, nick)
        burst = user.send(f"NICK {nick}") + user.send(f"USER {nick.lower()} 0 * :{nick} Real")
        assert any(m.command == "001" for m in burst), "registration failed"
        return user


class User:
    """One registered connection of a Harness."""

    def __init__(self, harness: Harness, conn: int, nick: str) -> None:
        self.h = harness
        self.conn = conn
        self.nick = nick

    @property
    def prefix(self) -> str:
        """The user's `nick!user@host`."""
        return f"{self.nick}!{self.nick.lower()}@127.0.0.1"

    def send(self, line: str) -> list[Message]:
        """Feeds one line to the core; returns what this user received from it."""
        self.h.deliver(list(self.h.core.receive(self.conn, line.encode())))
        return self.take()

    def take(self) -> list[Message]:
        """Everything received since the last call."""
        got, self.h.inbox[self.conn] = self.h.inbox[self.conn], []
        return got


def codes(msgs: list[Message]) -> list[str]:
    """The commands of `msgs`, in order."""
    return [m.command for m in msgs]


def only(msgs: list[Message], command: str) -> Message:
    """The one message with `command` in `msgs`."""
    found = [m for m in msgs if m.command == command]
    assert len(found) == 1, f"expected one {command}, got {codes(msgs)}"
    return found[0]


def names_of(msgs: list[Message]) -> list[str]:
    """All nicks (with prefixes) listed by the 353 replies in `msgs`."""
    return [n for m in msgs if m.command == "353" for n in m.params[-1].split()]


@pytest.fixture
def h() -> Harness:
    """A core with no autojoin room."""
    return Harness()


# -- JOIN ---------------------------------------------------------------------


def test_join_sends_join_then_names_and_first_joiner_is_op(h: Harness) -> None:
    """ "If a client's JOIN command to the server is successful, the server MUST
    send, in this order: 1. A JOIN message ... 2. The channel's topic ...
    3. A list of users currently joined to the channel"."""
    alice = h.user("Alice")
    got = alice.send("JOIN #room")
    assert codes(got) == ["JOIN", "353", "366"]
    assert got[0].source == alice.prefix
    assert got[0].params == ("#room",)
    assert got[1].params == ("Alice", "=", "#room", "@Alice")
    assert got[2].params[:2] == ("Alice", "#room")


def test_join_is_echoed_to_every_member_and_second_is_not_op(h: Harness) -> None:
    """ "While a client is joined to a channel, they receive all relevant
    information about that channel including the JOIN, PART, KICK, and MODE
    messages affecting the channel.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    got = bob.send("JOIN #room")
    assert names_of(got) == ["@Alice", "Bob"]
    joined = only(alice.take(), "JOIN")
    assert joined.source == bob.prefix
    assert carol.take() == []


def test_join_several_rooms_with_keys(h: Harness) -> None:
    """ "Servers MUST process the parameters of this command as lists on
    incoming commands from clients, with the first <key> being used for the
    first <channel>, the second <key> being used for the second <channel>\"."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #a,#b,#c")
    alice.send("MODE #a +k ka")
    alice.send("MODE #b +k kb")
    got = bob.send("JOIN #a,#b,#c ka,kb")
    assert [m.params[0] for m in got if m.command == "JOIN"] == ["#a", "#b", "#c"]
    assert set(h.core.clients[bob.conn].channels) == {"#a", "#b", "#c"}


def test_join_error_on_one_room_does_not_stop_the_rest(h: Harness) -> None:
    """Each channel of a JOIN list is processed on its own."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #locked")
    alice.send("MODE #locked +k secret")
    got = bob.send("JOIN #locked,#open")
    assert codes(got)[0] == "475"
    assert only(got, "JOIN").params == ("#open",)


@pytest.mark.parametrize("name", ["room", "#", "#with\x07bell", "#" + "x" * 60])
def test_join_bad_name_is_476(h: Harness, name: str) -> None:
    """Channel names "MUST NOT contain any spaces, a control G / BELL or a
    comma"; a name that is not a valid channel name gets ERR_BADCHANMASK."""
    alice = h.user("Alice")
    got = alice.send(f"JOIN {name}")
    assert codes(got) == ["476"]
    assert h.core.channels == {}


def test_join_zero_parts_every_room(h: Harness) -> None:
    """ "The server will process this command as though the client had sent
    a PART command for each channel they are a member of.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #a,#b")
    bob.send("JOIN #a")
    bob.take()
    got = alice.send("JOIN 0")
    assert sorted(m.params[0] for m in got if m.command == "PART") == ["#a", "#b"]
    assert only(bob.take(), "PART").source == alice.prefix
    assert h.core.clients[alice.conn].channels == {}
    assert h.core.find_channel("#b") is None


def test_join_with_topic_sends_332_and_333(h: Harness) -> None:
    """ "The channel's topic (with RPL_TOPIC and optionally RPL_TOPICWHOTIME),
    and no message if the channel does not have a topic.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    h.now += 5
    alice.send("TOPIC #room :Welcome all")
    got = bob.send("JOIN #room")
    assert codes(got) == ["JOIN", "332", "333", "353", "366"]
    assert got[1].params == ("Bob", "#room", "Welcome all")
    assert got[2].params == ("Bob", "#room", alice.prefix, str(int(h.now)))


def test_join_full_room_is_471(h: Harness) -> None:
    """ "If this mode is set on a channel, and the number of users joined to that
    channel matches or exceeds the value of this mode, new users cannot join
    that channel ... they will receive an ERR_CHANNELISFULL (471) reply\"."""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    alice.send("MODE #room +l 2")
    assert "JOIN" in codes(bob.send("JOIN #room"))
    got = carol.send("JOIN #room")
    assert codes(got) == ["471"]
    assert got[0].params[1] == "#room"


def test_join_invite_only_is_473_and_invite_lets_in(h: Harness) -> None:
    """ "If this mode is set on a channel, a user must have received an INVITE
    for this channel before being allowed to join it. If they have not
    received an invite, they will receive an ERR_INVITEONLYCHAN (473)\"."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    alice.send("MODE #room +i")
    assert codes(bob.send("JOIN #room")) == ["473"]
    alice.send("INVITE Bob #room")
    assert codes(bob.take()) == ["INVITE"]
    assert codes(bob.send("JOIN #room"))[0] == "JOIN"
    bob.send("PART #room")
    assert codes(bob.send("JOIN #room")) == ["473"], "an invitation is used up by joining"


def test_invitation_does_not_pass_to_the_next_holder_of_the_nick(h: Harness) -> None:
    """An INVITE is for the person invited: if they leave and someone else
    takes their nick, the newcomer is not let into the +i room."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    alice.send("MODE #room +i")
    alice.send("INVITE Bob #room")
    bob.send("QUIT")
    impostor = h.user("Bob")
    assert codes(impostor.send("JOIN #room")) == ["473"]


def test_join_banned_is_474(h: Harness) -> None:
    """ "If they match one of these banned masks, they will receive an
    ERR_BANNEDFROMCHAN (474) reply and the JOIN command will fail.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    alice.send("MODE #room +b bob")
    assert codes(bob.send("JOIN #room")) == ["474"]
    alice.send("MODE #room -b Bob!*@*")
    assert codes(bob.send("JOIN #room"))[0] == "JOIN"


def test_join_wrong_or_missing_key_is_475(h: Harness) -> None:
    """ "If they do not supply a <key>, or the key they supply does not match the
    value of this mode, they will receive an ERR_BADCHANNELKEY (475) reply\"."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    alice.send("MODE #room +k sesame")
    assert codes(bob.send("JOIN #room")) == ["475"]
    assert codes(bob.send("JOIN #room wrong")) == ["475"]
    assert codes(bob.send("JOIN #room sesame"))[0] == "JOIN"


def test_join_too_many_rooms_is_405(h: Harness) -> None:
    """ "If the client cannot join this channel because they would be over
    their limit, they will receive an ERR_TOOMANYCHANNELS reply\"."""
    alice = h.user("Alice")
    rooms = ",".join(f"#r{i}" for i in range(limits.MAX_CHANNELS_PER_CLIENT))
    alice.send(f"JOIN {rooms}")
    assert len(h.core.clients[alice.conn].channels) == limits.MAX_CHANNELS_PER_CLIENT
    got = alice.send("JOIN #onemore")
    assert codes(got) == ["405"]
    assert got[0].params[1] == "#onemore"
    assert h.core.find_channel("#onemore") is None


def test_join_twice_is_a_no_op(h: Harness) -> None:
    """Joining a room one is already in sends nothing to anyone."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    assert bob.send("JOIN #room") == []
    assert alice.take() == []


# -- PART ---------------------------------------------------------------------


def test_part_with_reason_is_seen_by_members_only(h: Harness) -> None:
    """ "<reason> is the reason that the client has left the channel(s).\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    got = bob.send("PART #room :see you later")
    assert only(got, "PART").params == ("#room", "see you later")
    part = only(alice.take(), "PART")
    assert part.params == ("#room", "see you later")
    assert part.source == bob.prefix
    assert carol.take() == []


def test_part_unknown_room_is_403_and_not_member_is_442(h: Harness) -> None:
    """ "if the channel exists and the client is not joined to it, they will
    receive an ERR_NOTONCHANNEL reply ... If the channel does not exist, the
    client will receive an ERR_NOSUCHCHANNEL reply\"."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    assert codes(bob.send("PART #nowhere")) == ["403"]
    assert codes(bob.send("PART #room")) == ["442"]
    assert codes(bob.send("PART #nowhere,#room")) == ["403", "442"]


def test_room_disappears_when_last_member_parts(h: Harness) -> None:
    """An empty room with nothing to keep (chat/rooms.py) is dropped: the next
    joiner creates it afresh, as operator. (A topic, a ban or a mode other than
    +nt keeps it: test_room_persistence.py.)"""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    alice.send("TOPIC #room :old")
    alice.send("TOPIC #room :")
    alice.send("PART #room")
    assert h.core.find_channel("#room") is None
    got = bob.send("JOIN #room")
    assert codes(got) == ["JOIN", "353", "366"], "old topic must not survive"
    assert names_of(got) == ["@Bob"]


# -- TOPIC --------------------------------------------------------------------


def test_topic_query_without_topic_is_331(h: Harness) -> None:
    """ "If <topic> is not given, either RPL_TOPIC or RPL_NOTOPIC is returned\"."""
    alice = h.user("Alice")
    alice.send("JOIN #room")
    got = alice.send("TOPIC #room")
    assert codes(got) == ["331"]
    assert got[0].params[1] == "#room"


def test_topic_set_is_broadcast_and_query_gives_332_333(h: Harness) -> None:
    """ "If the topic of a channel is changed or cleared, every client in that
    channel (including the author of the topic change) will receive a TOPIC
    command with the new topic as argument\"."""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    got = alice.send("TOPIC #room :Fresh topic")
    assert only(got, "TOPIC").params == ("#room", "Fresh topic")
    assert only(bob.take(), "TOPIC").source == alice.prefix
    assert carol.take() == []
    got = bob.send("TOPIC #room")
    assert codes(got) == ["332", "333"]
    assert got[0].params == ("Bob", "#room", "Fresh topic")
    assert got[1].params == ("Bob", "#room", alice.prefix, str(int(h.now)))


def test_topic_cleared_with_empty_argument(h: Harness) -> None:
    """ "If <topic> is an empty string, the topic for the channel will be cleared.\""""
    alice = h.user("Alice")
    alice.send("JOIN #room")
    alice.send("TOPIC #room :something")
    got = alice.send("TOPIC #room :")
    assert only(got, "TOPIC").params == ("#room", "")
    assert codes(alice.send("TOPIC #room")) == ["331"]


def test_topic_protected_needs_op_482(h: Harness) -> None:
    """ "If a client does not have appropriate channel permissions and tries to
    change the topic, the ERR_CHANOPRIVSNEEDED numeric is returned\"."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    assert codes(bob.send("TOPIC #room :mine")) == ["482"]
    assert alice.take() == []
    alice.send("MODE #room -t")
    bob.take()
    assert codes(bob.send("TOPIC #room :mine")) == ["TOPIC"]


def test_topic_set_by_non_member_is_442(h: Harness) -> None:
    """A client not joined to the room may not change its topic (ERR_NOTONCHANNEL)."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    alice.send("MODE #room -t")
    assert codes(bob.send("TOPIC #room :outsider")) == ["442"]
    assert h.core.channels["#room"].topic == ""
    assert codes(bob.send("TOPIC #nowhere :x")) == ["403"]


def test_topic_is_cut_to_topiclen(h: Harness) -> None:
    """Topics longer than the advertised TOPICLEN are cut to it."""
    h = Harness(CoreConfig(autojoin=(), topiclen=10))
    alice = h.user("Alice")
    alice.send("JOIN #room")
    got = alice.send("TOPIC #room :" + "x" * 50)
    assert only(got, "TOPIC").params[1] == "x" * 10


# -- NAMES and LIST -----------------------------------------------------------


def test_names_splits_long_lists_under_512_bytes(h: Harness) -> None:
    """RPL_NAMREPLY lines are split so each one fits in 512 bytes."""
    nicks = [f"N{i:02d}" + "x" * 26 for i in range(40)]
    # One address each: 40 from one would pass --max-clients-per-ip.
    users = [h.user(nick, host=f"10.0.0.{i}") for i, nick in enumerate(nicks)]
    for user in users:
        user.send("JOIN #big")
    got = users[0].send("NAMES #big")
    replies = [m for m in got if m.command == "353"]
    assert len(replies) >= 3
    for reply in replies:
        line = Message(reply.command, reply.params, SERVER).to_bytes()
        assert len(line) <= MAX_LINE_BYTES
    assert sorted(n.lstrip("@") for n in names_of(got)) == sorted(nicks)
    assert codes(got)[-1] == "366"


def test_names_of_secret_room_hidden_from_non_members(h: Harness) -> None:
    """ "If the given channel has the secret channel mode set and the user is
    not joined to that channel, one RPL_ENDOFNAMES numeric is returned.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #hidden")
    alice.send("MODE #hidden +s")
    got = bob.send("NAMES #hidden")
    assert codes(got) == ["366"]
    got = alice.send("NAMES #hidden")
    assert only(got, "353").params[1:3] == ("@", "#hidden")


def test_names_hides_invisible_users_from_non_members(h: Harness) -> None:
    """ "Users with the invisible user mode set are not shown in channel
    responses unless the requesting client is also joined to that channel.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    bob.send("MODE Bob +i")
    bob.send("JOIN #room")
    assert names_of(carol.send("NAMES #room")) == ["@Alice"]
    assert names_of(alice.send("NAMES #room")) == ["@Alice", "Bob"]


def test_names_unknown_room_gives_only_366(h: Harness) -> None:
    """ "If the channel name is invalid or the channel does not exist, one
    RPL_ENDOFNAMES numeric containing the given channel name should be returned.\""""
    alice = h.user("Alice")
    got = alice.send("NAMES #nowhere")
    assert codes(got) == ["366"]
    assert got[0].params[1] == "#nowhere"


def test_list_shows_rooms_with_counts_and_topics_but_not_secret_ones(h: Harness) -> None:
    """ "If this parameter is not given, the information about all visible
    channels (those not hidden by the secret channel mode rules) is returned.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #open,#hidden")
    bob.send("JOIN #open")
    alice.send("TOPIC #open :chat here")
    alice.send("MODE #hidden +s")
    bob.take()
    got = bob.send("LIST")
    assert codes(got) == ["321", "322", "323"]
    assert got[1].params == ("Bob", "#open", "2", "chat here")
    listed = [m.params[1] for m in alice.send("LIST") if m.command == "322"]
    assert sorted(listed) == ["#hidden", "#open"]
    assert codes(bob.send("LIST #hidden")) == ["321", "323"]


# -- KICK ---------------------------------------------------------------------


def test_kick_by_op_is_seen_by_all_and_target_stops_receiving(h: Harness) -> None:
    """ "It causes the <user> to be removed from the <channel> by force.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    for user in (alice, bob, carol):
        user.send("JOIN #room")
    bob.take()
    got = alice.send("KICK #room Bob :behave")
    kick = only(got, "KICK")
    assert kick.params == ("#room", "Bob", "behave")
    assert kick.source == alice.prefix
    assert only(bob.take(), "KICK").params == ("#room", "Bob", "behave")
    assert only(carol.take(), "KICK").params[1] == "Bob"
    alice.send("PRIVMSG #room :after the kick")
    assert bob.take() == []
    assert only(carol.take(), "PRIVMSG").params[1] == "after the kick"


def test_kick_without_comment_uses_a_default(h: Harness) -> None:
    """ "If no comment is given, the server SHOULD use a default message instead.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    kick = only(alice.send("KICK #room Bob"), "KICK")
    assert len(kick.params) == 3
    assert kick.params[2]


def test_kick_by_non_op_is_482(h: Harness) -> None:
    """Only channel operators may kick (ERR_CHANOPRIVSNEEDED)."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    assert codes(bob.send("KICK #room Alice")) == ["482"]
    assert alice.take() == []
    assert h.core.clients[alice.conn] in h.core.channels["#room"].members


def test_kick_target_not_in_room_is_441(h: Harness) -> None:
    """ERR_USERNOTINCHANNEL when the user to kick is not in the room."""
    alice, _bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    got = alice.send("KICK #room Bob")
    assert codes(got) == ["441"]
    assert got[0].params[1:3] == ("Bob", "#room")
    assert codes(alice.send("KICK #room Nobody")) == ["441"]


def test_kick_by_non_member_is_442_and_unknown_room_403(h: Harness) -> None:
    """ERR_NOTONCHANNEL for a kicker outside the room, ERR_NOSUCHCHANNEL for no room."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    assert codes(bob.send("KICK #room Alice")) == ["442"]
    assert codes(bob.send("KICK #nowhere Alice")) == ["403"]


def test_double_kick_sends_one_kick_per_user_with_per_target_errors(h: Harness) -> None:
    """ "The server MUST NOT send KICK messages with multiple channels or users
    to clients." `KICK #room a,b` kicks both, one KICK each, seen by everyone
    in the room at the time; a user not there gets 441 and the rest go on."""
    alice, bob, carol, dave = h.user("Alice"), h.user("Bob"), h.user("Carol"), h.user("Dave")
    for user in (alice, bob, carol, dave):
        user.send("JOIN #room")
    for user in (alice, bob, carol, dave):
        user.take()
    got = alice.send("KICK #room Bob,Ghost,Carol :bye")
    assert [(m.command, m.params[1]) for m in got] == [
        ("KICK", "Bob"),
        ("441", "Ghost"),
        ("KICK", "Carol"),
    ]
    kicks = [m.params for m in dave.take()]
    assert kicks == [("#room", "Bob", "bye"), ("#room", "Carol", "bye")]
    assert [m.params[1] for m in bob.take()] == ["Bob"]  # gone before Carol's
    assert [m.params[1] for m in carol.take()] == ["Bob", "Carol"]
    members = {c.nick for c in h.core.channels["#room"].members}
    assert members == {"Alice", "Dave"}


def test_kick_pairs_rooms_with_users(h: Harness) -> None:
    """RFC 2812: "there MUST be either one channel parameter and multiple user
    parameter, or as many channel parameters as there are user parameters."
    Each pair is kicked on its own; a room the kicker is not in is an error
    for its users alone, and a count that matches neither form is 461."""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    for user in (alice, bob, carol):
        user.send("JOIN #one")
        user.send("JOIN #two")
    carol.send("JOIN #three")
    for user in (alice, bob, carol):
        user.take()
    got = alice.send("KICK #one,#three,#two Bob,Carol,Carol :out")
    assert [m.command for m in got] == ["KICK", "442", "KICK"]
    assert got[0].params == ("#one", "Bob", "out")
    assert got[1].params[1] == "#three"
    assert got[2].params == ("#two", "Carol", "out")
    assert h.core.clients[carol.conn] in h.core.channels["#three"].members
    assert codes(alice.send("KICK #one,#two Bob")) == ["461"]
    got = alice.send("KICK #one,#one Carol,Bob")  # the same room twice
    assert [m.command for m in got] == ["KICK", "441"]
    assert got[0].params[:2] == ("#one", "Carol")
    assert got[1].params[1:3] == ("Bob", "#one")


# -- INVITE -------------------------------------------------------------------


def test_invite_sends_341_and_invite_to_target_only(h: Harness) -> None:
    """ "When the invite is successful, the server MUST send a RPL_INVITING
    numeric to the command issuer, and an INVITE message, with the issuer as
    <source>, to the target user. Other channel members SHOULD NOT be notified.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    carol.send("JOIN #room")
    alice.take()
    got = alice.send("INVITE Bob #room")
    assert codes(got) == ["341"]
    assert got[0].params == ("Alice", "Bob", "#room")
    invite = only(bob.take(), "INVITE")
    assert invite.params == ("Bob", "#room")
    assert invite.source == alice.prefix
    assert carol.take() == []


def test_invite_user_already_on_is_443(h: Harness) -> None:
    """ "If the user is already on the target channel, the server MUST reject
    the command with the ERR_USERONCHANNEL numeric.\""""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    got = alice.send("INVITE Bob #room")
    assert codes(got) == ["443"]
    assert got[0].params[1:3] == ("Bob", "#room")
    assert bob.take() == []


def test_invite_from_non_member_is_442(h: Harness) -> None:
    """ "Only members of the channel are allowed to invite other users.
    Otherwise, the server MUST reject the command with the ERR_NOTONCHANNEL numeric.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    assert codes(bob.send("INVITE Carol #room")) == ["442"]
    assert carol.take() == []


def test_invite_to_invite_only_room_from_non_op_is_482(h: Harness) -> None:
    """ "they SHOULD reject it when the channel has invite-only mode set, and
    the user is not a channel operator.\""""
    alice, bob, carol = h.user("Alice"), h.user("Bob"), h.user("Carol")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.send("MODE #room +i")
    bob.take()
    assert codes(bob.send("INVITE Carol #room")) == ["482"]
    assert carol.take() == []
    assert codes(carol.send("JOIN #room")) == ["473"]


def test_invite_unknown_nick_is_401_and_unknown_room_403(h: Harness) -> None:
    """ERR_NOSUCHNICK for a nick nobody holds; "The target channel SHOULD
    exist ... Otherwise, the server SHOULD reject the command with the
    ERR_NOSUCHCHANNEL numeric.\""""
    alice, _bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    got = alice.send("INVITE Ghost #room")
    assert codes(got) == ["401"]
    assert got[0].params[1] == "Ghost"
    assert codes(alice.send("INVITE Bob #nowhere")) == ["403"]


# -- Room privacy ---------------------------------------------------------------


def test_room_message_reaches_exactly_its_members(h: Harness) -> None:
    """ "They receive all PRIVMSG and NOTICE messages sent to the channel\";
    nobody else does, and the sender gets no copy."""
    alice, bob, carol, dave = (h.user(n) for n in ("Alice", "Bob", "Carol", "Dave"))
    for user in (alice, bob, carol):
        user.send("JOIN #room")
    dave.send("JOIN #other")
    for user in (alice, bob, carol):
        user.take()
    actions = h.core.receive(alice.conn, b"PRIVMSG #room :hi room")
    sends = [a for a in actions if isinstance(a, Send | SendBytes)]
    assert len(sends) == 1
    assert sorted(sends[0].recipients()) == sorted([bob.conn, carol.conn])
    h.deliver(list(actions))
    assert alice.take() == []
    assert dave.take() == []
    assert only(bob.take(), "PRIVMSG").params == ("#room", "hi room")


@pytest.mark.parametrize("mode", ["+i", "+k sesame"])
def test_outsider_never_reads_or_posts_in_closed_room(h: Harness, mode: str) -> None:
    """ "If this mode is enabled, users MUST be joined to the channel in order to
    send private messages and notices to the channel. If this mode is enabled
    and they try to send one of these to a channel they are not joined to,
    they will receive an ERR_CANNOTSENDTOCHAN numeric and the message will
    not be sent to that channel.\""""
    alice, bob, eve = h.user("Alice"), h.user("Bob"), h.user("Eve")
    alice.send("JOIN #room")
    alice.send(f"MODE #room {mode}")
    alice.send("INVITE Bob #room")
    bob.send("JOIN #room sesame")
    alice.take()
    assert codes(eve.send("JOIN #room")) in (["473"], ["475"])
    assert h.core.clients[eve.conn] not in h.core.channels["#room"].members
    bob.send("PRIVMSG #room :members only")
    alice.send("TOPIC #room :quiet")
    alice.send("NOTICE #room :notice")
    assert eve.take() == []
    got = eve.send("PRIVMSG #room :let me in")
    assert codes(got) == ["404"]
    assert got[0].params[1] == "#room"
    assert eve.send("NOTICE #room :psst") == []
    assert [m for m in alice.take() + bob.take() if m.source and "Eve" in m.source] == []


def test_outsider_may_post_when_room_is_minus_n(h: Harness) -> None:
    """Without +n, a non-member's message is delivered (it proves the +n test can fail)."""
    alice, eve = h.user("Alice"), h.user("Eve")
    alice.send("JOIN #room")
    alice.send("MODE #room -n")
    alice.take()
    assert eve.send("PRIVMSG #room :hello from outside") == []
    assert only(alice.take(), "PRIVMSG").source == eve.prefix


def test_autojoin_room_uses_the_same_rules() -> None:
    """The configured autojoin room is an ordinary room: the first is its operator."""
    h = Harness(replace(CoreConfig(), autojoin=("#lobby",)))
    alice = h.user("Alice")
    assert h.core.channels["#lobby"].is_op(h.core.clients[alice.conn])
    bob = h.user("Bob")
    assert not h.core.channels["#lobby"].is_op(h.core.clients[bob.conn])


def test_secret_room_looks_absent_to_outsiders(h: Harness) -> None:
    """ "A channel that is set to secret will not show up in responses to the
    LIST or NAMES command unless the client sending the command is joined to
    the channel\"; PART, TOPIC and KICK answer 403, not 442, so its name
    cannot be probed either."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #hidden,#open")
    alice.send("MODE #hidden +s")
    for line in ("PART #hidden", "TOPIC #hidden", "TOPIC #hidden :x", "KICK #hidden Alice"):
        assert codes(bob.send(line)) == ["403"], line
    assert codes(bob.send("PART #open")) == ["442"]


def test_kick_more_targets_than_targmax_is_407(h: Harness) -> None:
    """TARGMAX advertises KICK:4; a fifth target gets ERR_TOOMANYTARGETS, nobody is kicked."""
    alice, bob = h.user("Alice"), h.user("Bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take()
    got = alice.send("KICK #room Bob,Bob,Bob,Bob,Bob")
    assert [m.command for m in got] == ["407"]
    assert "KICK" not in [m.command for m in bob.take()]

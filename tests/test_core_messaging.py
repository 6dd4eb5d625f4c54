"""Chat-core tests for PRIVMSG, NOTICE and AWAY, without sockets."""

from __future__ import annotations

import pytest

from easychat.chat.config import AWAYLEN, MAX_TARGETS, CoreConfig
from easychat.chat.state import Ban, Channel
from easychat.proto import numerics as n
from easychat.proto.limits import MAX_LINE_BYTES
from tests.chatcore_harness import CoreDriver, commands, only

ERR_TOOMANYTARGETS = "407"


@pytest.fixture
def drv() -> CoreDriver:
    """A core without autojoin, so each test builds exactly the rooms it needs."""
    return CoreDriver(CoreConfig(autojoin=()))


def room(drv: CoreDriver, name: str) -> Channel:
    """The existing channel `name`."""
    channel = drv.core.find_channel(name)
    assert channel is not None
    return channel


# -- delivery -----------------------------------------------------------------


def test_privmsg_to_room_reaches_other_members(drv: CoreDriver) -> None:
    """ "All clients in the channel will receive all messages addressed to that
    channel"; the source is the sender's `nick!user@host` and the sender gets
    no copy (echo-message is not negotiated)."""
    alice = drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    carol = drv.register("carol", "#room")
    dave = drv.register("dave", "#elsewhere")
    assert drv.send(alice, "PRIVMSG #room :Hello, everyone") == []
    for peer in (bob, carol):
        got = only(drv.take(peer), "PRIVMSG")
        assert got.source == "alice!alice@127.0.0.1"
        assert got.params == ("#room", "Hello, everyone")
    assert drv.take(dave) == []


def test_privmsg_room_name_is_case_insensitive(drv: CoreDriver) -> None:
    """Channel names compare under CASEMAPPING=ascii; the relay uses the room's
    own spelling."""
    alice = drv.register("alice", "#Room")
    bob = drv.register("bob", "#room")
    drv.send(alice, "PRIVMSG #ROOM :hi")
    assert only(drv.take(bob), "PRIVMSG").params == ("#Room", "hi")


def test_privmsg_to_nick(drv: CoreDriver) -> None:
    """ "The PRIVMSG command is used to send private messages between users";
    the target is found case-insensitively and only it receives the text."""
    alice = drv.register("alice")
    bob = drv.register("Bob")
    carol = drv.register("carol")
    assert drv.send(alice, "PRIVMSG bOB :psst: a secret") == []
    got = only(drv.take(bob), "PRIVMSG")
    assert got.source == "alice!alice@127.0.0.1"
    assert got.params == ("Bob", "psst: a secret")
    assert drv.take(carol) == []


def test_privmsg_text_is_relayed_verbatim(drv: CoreDriver) -> None:
    """Leading colons, spaces and UTF-8 survive the relay unchanged."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    text = ":-) two  spaces, ünïcödé ☃ "
    drv.send(alice, f"PRIVMSG bob :{text}")
    assert only(drv.take(bob), "PRIVMSG").params[-1] == text


def test_notice_to_room_and_nick(drv: CoreDriver) -> None:
    """ "NOTICE ... <target> is interpreted the same way as it is for the PRIVMSG
    command.\""""
    alice = drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    drv.send(alice, "NOTICE #room :to the room")
    assert only(drv.take(bob), "NOTICE").params == ("#room", "to the room")
    drv.send(alice, "NOTICE bob :to you")
    assert only(drv.take(bob), "NOTICE").params == ("bob", "to you")


def test_multiple_targets(drv: CoreDriver) -> None:
    """ "PRIVMSG <target>{,<target>} <text to be sent>": each target gets the
    text addressed to itself."""
    alice = drv.register("alice")
    bob = drv.register("bob", "#room")
    carol = drv.register("carol", "#room")
    dave = drv.register("dave")
    drv.send(alice, "JOIN #room")
    drv.drain()
    assert drv.send(alice, "PRIVMSG #room,dave :hello all") == []
    assert only(drv.take(bob), "PRIVMSG").params == ("#room", "hello all")
    assert only(drv.take(carol), "PRIVMSG").params == ("#room", "hello all")
    assert only(drv.take(dave), "PRIVMSG").params == ("dave", "hello all")


def test_error_for_one_target_does_not_stop_the_others(drv: CoreDriver) -> None:
    """A missing target gets its error; the other targets still get the text."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    got = drv.send(alice, "PRIVMSG ghost,#nowhere,bob :hi")
    assert commands(got) == [n.ERR_NOSUCHNICK, n.ERR_NOSUCHCHANNEL]
    assert only(drv.take(bob), "PRIVMSG").params == ("bob", "hi")


def test_too_many_targets(drv: CoreDriver) -> None:
    """More targets than TARGMAX advertises: ERR_TOOMANYTARGETS (407, listed
    among PRIVMSG's numeric replies) and nothing is delivered."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    targets = ",".join(["bob"] * (MAX_TARGETS + 1))
    reply = only(drv.send(alice, f"PRIVMSG {targets} :spam"), ERR_TOOMANYTARGETS)
    assert reply.params[0] == "alice"
    assert drv.take(bob) == []


@pytest.mark.parametrize("targets", ["bob,", ",bob", "bob,,bob"])
def test_empty_target_in_list(drv: CoreDriver, targets: str) -> None:
    """An empty item in the target list is skipped; it never yields a reply
    that cannot be sent (the harness fails on those)."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    drv.send(alice, f"PRIVMSG {targets} :hi")
    assert commands(drv.take(bob))[0] == "PRIVMSG"
    assert alice not in drv.closed


def test_only_commas_is_no_recipient(drv: CoreDriver) -> None:
    """A target list with no target in it is ERR_NORECIPIENT."""
    alice = drv.register("alice")
    only(drv.send(alice, "PRIVMSG , :hi"), n.ERR_NORECIPIENT)


# -- errors -------------------------------------------------------------------


def test_no_recipient(drv: CoreDriver) -> None:
    """ERR_NORECIPIENT (411): "<client> :No recipient given (<command>)"."""
    alice = drv.register("alice")
    reply = only(drv.send(alice, "PRIVMSG"), n.ERR_NORECIPIENT)
    assert reply.params == ("alice", "No recipient given (PRIVMSG)")


@pytest.mark.parametrize("line", ["PRIVMSG bob", "PRIVMSG bob :"])
def test_no_text_to_send(drv: CoreDriver, line: str) -> None:
    """ERR_NOTEXTTOSEND (412): "Returned by the PRIVMSG command to indicate the
    message wasn't delivered because there was no text to send.\""""
    alice = drv.register("alice")
    bob = drv.register("bob")
    assert only(drv.send(alice, line), n.ERR_NOTEXTTOSEND).params[0] == "alice"
    assert drv.take(bob) == []


def test_no_such_nick(drv: CoreDriver) -> None:
    """ERR_NOSUCHNICK (401): "<client> <nickname> :No such nick/channel"."""
    alice = drv.register("alice")
    reply = only(drv.send(alice, "PRIVMSG ghost :hello?"), n.ERR_NOSUCHNICK)
    assert reply.params[:2] == ("alice", "ghost")


def test_unregistered_nick_is_no_such_nick(drv: CoreDriver) -> None:
    """A connection that has only sent NICK cannot be messaged yet."""
    alice = drv.register("alice")
    pending = drv.open()
    drv.send(pending, "NICK bob")
    only(drv.send(alice, "PRIVMSG bob :hi"), n.ERR_NOSUCHNICK)
    assert drv.take(pending) == []


def test_no_such_channel(drv: CoreDriver) -> None:
    """ERR_NOSUCHCHANNEL (403): "<client> <channel> :No such channel"."""
    alice = drv.register("alice")
    reply = only(drv.send(alice, "PRIVMSG #nowhere :hello?"), n.ERR_NOSUCHCHANNEL)
    assert reply.params[:2] == ("alice", "#nowhere")


def test_no_external_messages(drv: CoreDriver) -> None:
    """ "If a message cannot be delivered to a channel, the server SHOULD respond
    with an ERR_CANNOTSENDTOCHAN numeric": a room is +n by default, so an
    outsider cannot speak in it."""
    drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    outsider = drv.register("eve")
    assert "n" in room(drv, "#room").modes
    reply = only(drv.send(outsider, "PRIVMSG #room :let me in"), n.ERR_CANNOTSENDTOCHAN)
    assert reply.params[:2] == ("eve", "#room")
    assert drv.take(bob) == []


def test_external_messages_allowed_without_n(drv: CoreDriver) -> None:
    """With -n an outsider's message reaches the members."""
    drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    outsider = drv.register("eve")
    room(drv, "#room").modes.discard("n")
    assert drv.send(outsider, "PRIVMSG #room :hi from outside") == []
    assert only(drv.take(bob), "PRIVMSG").params == ("#room", "hi from outside")


def test_moderated_room(drv: CoreDriver) -> None:
    """ "Channels with the moderated mode active may block messages from certain
    users": in a +m room only voiced members and operators speak."""
    alice = drv.register("alice", "#room")  # creator, so operator
    bob = drv.register("bob", "#room")
    carol = drv.register("carol", "#room")
    channel = room(drv, "#room")
    channel.modes.add("m")
    reply = only(drv.send(bob, "PRIVMSG #room :can I talk?"), n.ERR_CANNOTSENDTOCHAN)
    assert reply.params[:2] == ("bob", "#room")
    assert drv.take(carol) == []
    drv.send(alice, "PRIVMSG #room :ops can")
    assert only(drv.take(carol), "PRIVMSG").params[-1] == "ops can"
    channel.members[drv.core.clients[bob]].add("v")
    drv.drain()
    assert drv.send(bob, "PRIVMSG #room :now I can") == []
    assert only(drv.take(carol), "PRIVMSG").params[-1] == "now I can"


def test_banned_member_cannot_speak(drv: CoreDriver) -> None:
    """A member matching a ban gets ERR_CANNOTSENDTOCHAN and nobody gets the
    text ("the message will not be delivered")."""
    drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    carol = drv.register("carol", "#room")
    room(drv, "#room").bans.append(Ban("bob!*@*", "alice", 0))
    only(drv.send(bob, "PRIVMSG #room :hello"), n.ERR_CANNOTSENDTOCHAN)
    assert drv.take(carol) == []
    drv.send(bob, "PRIVMSG carol :but privately I can")
    assert only(drv.take(carol), "PRIVMSG").params[0] == "carol"


def test_notice_never_gets_an_error(drv: CoreDriver) -> None:
    """ "automatic replies must never be sent in response to a NOTICE message.
    This rule also applies to servers -- they must not send any error back to
    the client on receipt of a NOTICE command.\""""
    drv.register("bob", "#room")
    alice = drv.register("alice")
    room(drv, "#room").modes.add("m")
    targets = ",".join(["bob"] * (MAX_TARGETS + 1))
    for line in [
        "NOTICE",
        "NOTICE bob",
        "NOTICE bob :",
        "NOTICE ghost :hi",
        "NOTICE #nowhere :hi",
        "NOTICE #room :hi",  # +n and +m
        f"NOTICE {targets} :hi",
        "NOTICE bob :" + "x" * 480,
    ]:
        assert drv.send(alice, line) == [], line


# -- length -------------------------------------------------------------------


def _fitting_text(prefix: str, target: str, command: str = "PRIVMSG") -> int:
    """How many bytes of a text holding a space (so sent after a ':') fit in one
    relayed line for this sender and target."""
    overhead = len(f":{prefix} {command} {target} :".encode())
    return MAX_LINE_BYTES - 2 - overhead


def _spaced(size: int, unit: str = "x") -> str:
    """A text of `size` characters that holds spaces."""
    return ((unit + " ") * size)[:size]


def test_longest_text_is_relayed_whole(drv: CoreDriver) -> None:
    """A text that fits in 512 bytes once the sender's prefix is added is relayed
    unchanged, to the last byte."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    size = _fitting_text("alice!alice@127.0.0.1", "bob")
    text = _spaced(size)
    drv.send(alice, f"PRIVMSG bob :{text}")
    assert only(drv.take(bob), "PRIVMSG").params[-1] == text


def test_text_too_long_to_relay(drv: CoreDriver) -> None:
    """One byte more than fits once the prefix is added: ERR_INPUTTOOLONG (417)
    to the sender and nothing to anyone, rather than a silently cut text."""
    alice = drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    size = _fitting_text("alice!alice@127.0.0.1", "#room") + 1
    reply = only(drv.send(alice, "PRIVMSG #room :" + _spaced(size)), n.ERR_INPUTTOOLONG)
    assert reply.params[0] == "alice"
    assert drv.take(bob) == []


def test_text_length_counts_bytes_not_characters(drv: CoreDriver) -> None:
    """The limit is in UTF-8 bytes: two-byte characters fit half as many."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    size = _fitting_text("alice!alice@127.0.0.1", "bob")
    fits = " " + "é" * ((size - 1) // 2)
    assert len(fits.encode()) in (size, size - 1)
    drv.send(alice, f"PRIVMSG bob :{fits}")
    assert only(drv.take(bob), "PRIVMSG").params[-1] == fits
    too_long = fits + "é"
    assert len(fits) < size < len(too_long.encode())
    only(drv.send(alice, f"PRIVMSG bob :{too_long}"), n.ERR_INPUTTOOLONG)
    assert drv.take(bob) == []


# -- AWAY ---------------------------------------------------------------------


def test_away_and_back(drv: CoreDriver) -> None:
    """ "The server acknowledges the change in away status by returning the
    RPL_NOWAWAY and RPL_UNAWAY numerics.\""""
    alice = drv.register("alice")
    reply = only(drv.send(alice, "AWAY :at lunch"), n.RPL_NOWAWAY)
    assert reply.params[0] == "alice"
    assert drv.core.clients[alice].away == "at lunch"
    only(drv.send(alice, "AWAY"), n.RPL_UNAWAY)
    assert drv.core.clients[alice].away is None


def test_away_empty_text_is_back(drv: CoreDriver) -> None:
    """ "If this command is sent with no parameters, or with the empty string as
    the parameter, the user is no longer away.\""""
    alice = drv.register("alice")
    drv.send(alice, "AWAY :brb")
    only(drv.send(alice, "AWAY :"), n.RPL_UNAWAY)
    assert drv.core.clients[alice].away is None


def test_away_text_is_cut_to_awaylen(drv: CoreDriver) -> None:
    """The away message is kept to AWAYLEN characters."""
    alice = drv.register("alice")
    drv.send(alice, "AWAY :" + "z" * (AWAYLEN + 50))
    assert drv.core.clients[alice].away == "z" * AWAYLEN


def test_privmsg_to_away_user(drv: CoreDriver) -> None:
    """ "If <target> is a user and that user has been set as away, the server may
    reply with an RPL_AWAY numeric and the command will continue.\""""
    alice = drv.register("alice")
    bob = drv.register("bob")
    drv.send(bob, "AWAY :gone fishing")
    reply = only(drv.send(alice, "PRIVMSG bob :are you there?"), n.RPL_AWAY)
    assert reply.params == ("alice", "bob", "gone fishing")
    assert only(drv.take(bob), "PRIVMSG").params[-1] == "are you there?"


def test_no_rpl_away_for_notice_or_room(drv: CoreDriver) -> None:
    """RPL_AWAY is sent "when a PRIVMSG command is directed at the away user (not
    to a channel they are on)", and never for a NOTICE."""
    alice = drv.register("alice", "#room")
    bob = drv.register("bob", "#room")
    drv.send(bob, "AWAY :gone fishing")
    assert drv.send(alice, "NOTICE bob :fyi") == []
    assert drv.send(alice, "PRIVMSG #room :hi all") == []
    assert commands(drv.take(bob)) == ["NOTICE", "PRIVMSG"]


def test_back_user_gets_no_rpl_away(drv: CoreDriver) -> None:
    """After AWAY with no text, messages no longer trigger RPL_AWAY."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    drv.send(bob, "AWAY :out")
    drv.send(bob, "AWAY")
    assert drv.send(alice, "PRIVMSG bob :hi") == []


def test_text_without_spaces_is_relayed_with_the_colon(drv: CoreDriver) -> None:
    """A one-word text is relayed after a ':' like any other (old clients
    mis-parse a bare one), so it fits exactly as a text with spaces does."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    text = "w" * _fitting_text("alice!alice@127.0.0.1", "bob")
    drv.send(alice, f"PRIVMSG bob :{text}")
    assert only(drv.take(bob), "PRIVMSG").params[-1] == text
    only(drv.send(alice, f"PRIVMSG bob :{text}w"), n.ERR_INPUTTOOLONG)


def test_length_is_checked_per_target(drv: CoreDriver) -> None:
    """A text that fits for a short target but not for a long room name is
    refused for the room only; the short target still gets it."""
    long_room = "#" + "r" * 20  # the input line itself must still fit
    alice = drv.register("alice", long_room)
    bob = drv.register("bob", long_room)
    text = _spaced(_fitting_text("alice!alice@127.0.0.1", "bob"))
    got = drv.send(alice, f"PRIVMSG {long_room},bob :{text}")
    assert commands(got) == [n.ERR_INPUTTOOLONG]
    assert commands(drv.take(bob)) == ["PRIVMSG"]


def test_away_text_is_cut_in_bytes(drv: CoreDriver) -> None:
    """AWAYLEN counts UTF-8 bytes and never splits a character, so RPL_AWAY
    with a long multi-byte away text still fits in one line."""
    alice = drv.register("a" * 30)
    bob = drv.register("b" * 30)
    drv.send(bob, "AWAY :" + "é" * 250)
    away = drv.core.clients[bob].away
    assert away is not None
    assert away == "é" * (AWAYLEN // 2)
    reply = only(drv.send(alice, f"PRIVMSG {'b' * 30} :hi"), n.RPL_AWAY)
    assert reply.params[-1] == away


def test_message_to_oneself_with_echo_message_arrives_once() -> None:
    """With echo-message, `PRIVMSG <own nick>` is one copy, not the relay plus the echo."""
    from easychat.chat.actions import SendBytes
    from tests.chatcore_harness import CoreDriver

    driver = CoreDriver()
    conn = driver.open()
    driver.send(conn, "CAP REQ :echo-message")
    driver.send(conn, "CAP END")
    driver.send(conn, "NICK alice")
    driver.send(conn, "USER a 0 * :A")
    actions = driver.core.receive(conn, b"PRIVMSG alice :note to self")
    sends = [a for a in actions if isinstance(a, SendBytes) and b" PRIVMSG " in a.data]
    assert [s.recipients() for s in sends] == [[conn]]


@pytest.mark.parametrize(
    "params",
    [
        ("#room", "hello"),
        ("#room", "two words"),
        ("#room", ""),
        ("#room", ":starts with colon"),
        ("bob", "é€👋"),
        ("#room",),
    ],
)
def test_relayed_length_is_counted_as_the_formatter_writes_it(params: tuple[str, ...]) -> None:
    """The 417 check counts bytes instead of formatting; both must agree."""
    from easychat.chat.handlers.messaging import relayed_bytes
    from easychat.proto.message import Message

    msg = Message("PRIVMSG", params, "alice!a@127.0.0.1")
    assert relayed_bytes("alice!a@127.0.0.1", "PRIVMSG", params) == len(msg.format().encode())


def test_statusmsg_reaches_only_members_with_that_status() -> None:
    """Modern IRC's STATUSMSG (`STATUSMSG=@+` in ISUPPORT): `PRIVMSG @#room`
    reaches the room's operators, `+#room` its voiced members and operators;
    the message keeps its prefixed target and is not kept in the room's
    history, which every member may read."""
    drv = CoreDriver()
    op = drv.register("op", "#r")
    voiced = drv.register("voiced", "#r")
    plain = drv.register("plain", "#r")
    drv.send(op, "MODE #r +v voiced")
    drv.drain()
    drv.send(plain, "PRIVMSG @#r :ops only")
    got = only(drv.take(op), "PRIVMSG")
    assert (got.source, got.params) == ("plain!plain@127.0.0.1", ("@#r", "ops only"))
    assert drv.take(voiced) == []
    drv.send(plain, "PRIVMSG +#r :voiced and up")
    assert only(drv.take(op), "PRIVMSG").params == ("+#r", "voiced and up")
    assert only(drv.take(voiced), "PRIVMSG").params == ("+#r", "voiced and up")
    assert drv.take(plain) == []
    assert commands(drv.send(plain, "PRIVMSG @#nowhere :x")) == [n.ERR_NOSUCHCHANNEL]
    conn = drv.open()
    drv.send(conn, "NICK x")
    burst = drv.send(conn, "USER x 0 * :x")
    assert "STATUSMSG=@+" in [p for m in burst if m.command == n.RPL_ISUPPORT for p in m.params]

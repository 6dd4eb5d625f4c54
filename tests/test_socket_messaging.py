"""PRIVMSG, NOTICE and AWAY over real loopback sockets.

No sleeps: to show that something did *not* arrive, a test sends PING and
reads up to its PONG; the server answers in order, so anything it would have
sent comes before.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from easychat.chat.config import MAX_TARGETS
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.ircclient import IRCClient

Connect = Callable[[], IRCClient]
ERR_TOOMANYTARGETS = "407"


def sync(client: IRCClient) -> list[Message]:
    """Everything the server sends `client` up to the answer to a fresh PING."""
    client.send("PING :sync")
    return client.until("PONG")


def commands(messages: list[Message]) -> list[str]:
    """The commands of `messages`, in order."""
    return [m.command for m in messages]


@pytest.fixture
def trio(connect: Connect) -> tuple[IRCClient, IRCClient, IRCClient]:
    """alice, bob and carol, registered, all three in #lobby."""
    alice, bob, carol = connect(), connect(), connect()
    alice.register("alice")
    bob.register("bob")
    carol.register("carol")
    alice.expect("JOIN", lambda m: m.nick == "carol")
    bob.expect("JOIN", lambda m: m.nick == "carol")
    return alice, bob, carol


def make_room(op: IRCClient, room: str, *members: IRCClient) -> None:
    """`op` creates `room` (so is its operator) and `members` join it."""
    op.send(f"JOIN {room}")
    op.expect(n.RPL_ENDOFNAMES)
    for member in members:
        member.send(f"JOIN {room}")
        member.expect(n.RPL_ENDOFNAMES)
        op.expect("JOIN", lambda m, nick=member.nick: m.nick == nick)


def test_privmsg_to_lobby(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """A message to #lobby reaches every other member, not the sender."""
    alice, bob, carol = trio
    alice.send("PRIVMSG #lobby :hello, room")
    for peer in (bob, carol):
        got = peer.expect("PRIVMSG")
        assert got.source == "alice!alice@127.0.0.1"
        assert got.params == ("#lobby", "hello, room")
    assert "PRIVMSG" not in commands(sync(alice))


def test_privmsg_to_nick(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """A private message reaches only its target, found case-insensitively."""
    alice, bob, carol = trio
    alice.send("PRIVMSG BOB :just for you")
    got = bob.expect("PRIVMSG")
    assert got.params == ("bob", "just for you")
    assert got.nick == "alice"
    assert "PRIVMSG" not in commands(sync(carol))


def test_notice(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """NOTICE is delivered like PRIVMSG, to a room and to a nick."""
    alice, bob, _ = trio
    alice.send("NOTICE #lobby :room notice")
    assert bob.expect("NOTICE").params == ("#lobby", "room notice")
    alice.send("NOTICE bob :private notice")
    assert bob.expect("NOTICE").params == ("bob", "private notice")


def test_multiple_targets(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """PRIVMSG <target>{,<target>}: each target gets its copy; a bad target gets
    its error and does not stop the rest."""
    alice, bob, carol = trio
    alice.send("PRIVMSG bob,ghost,carol :to both")
    assert bob.expect("PRIVMSG").params == ("bob", "to both")
    assert carol.expect("PRIVMSG").params == ("carol", "to both")
    assert alice.expect(n.ERR_NOSUCHNICK).params[1] == "ghost"


def test_too_many_targets(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """More targets than TARGMAX: 407 ERR_TOOMANYTARGETS, nothing delivered."""
    alice, bob, _ = trio
    alice.send("PRIVMSG " + ",".join(["bob"] * (MAX_TARGETS + 1)) + " :spam")
    alice.expect(ERR_TOOMANYTARGETS)
    assert "PRIVMSG" not in commands(sync(bob))


def test_empty_target_does_not_drop_sender(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """`PRIVMSG bob, :hi` (an empty item in the list) delivers to bob and the
    sender stays connected."""
    alice, bob, _ = trio
    alice.send("PRIVMSG bob, :hi")
    assert bob.expect("PRIVMSG").params == ("bob", "hi")
    assert commands(sync(alice))[-1] == "PONG"


def test_error_replies(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """411 no recipient, 412 no text, 401 no such nick, 403 no such channel."""
    alice, _, _ = trio
    alice.send("PRIVMSG")
    assert alice.expect(n.ERR_NORECIPIENT).params == ("alice", "No recipient given (PRIVMSG)")
    alice.send("PRIVMSG bob")
    alice.expect(n.ERR_NOTEXTTOSEND)
    alice.send("PRIVMSG ghost :hello?")
    assert alice.expect(n.ERR_NOSUCHNICK).params[:2] == ("alice", "ghost")
    alice.send("PRIVMSG #ghosts :hello?")
    assert alice.expect(n.ERR_NOSUCHCHANNEL).params[:2] == ("alice", "#ghosts")


def test_notice_gets_no_errors(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """ "they must not send any error back to the client on receipt of a NOTICE
    command.\""""
    alice, bob, _ = trio
    make_room(bob, "#closed")
    for line in [
        "NOTICE",
        "NOTICE bob",
        "NOTICE ghost :x",
        "NOTICE #ghosts :x",
        "NOTICE #closed :x",
    ]:
        alice.send(line)
    assert commands(sync(alice)) == ["PONG"]


def test_outsider_cannot_speak_in_n_room(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """Rooms are +n: an outsider gets 404 and the members get nothing."""
    alice, bob, carol = trio
    make_room(alice, "#inner", bob)
    carol.send("PRIVMSG #inner :let me in")
    assert carol.expect(n.ERR_CANNOTSENDTOCHAN).params[:2] == ("carol", "#inner")
    assert "PRIVMSG" not in commands(sync(bob))


def test_moderated_room_needs_voice(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """In a +m room a member without voice gets 404; once voiced it speaks."""
    alice, bob, carol = trio
    make_room(alice, "#stage", bob, carol)
    alice.send("MODE #stage +m")
    carol.expect("MODE")
    bob.expect("MODE")
    bob.send("PRIVMSG #stage :may I?")
    assert bob.expect(n.ERR_CANNOTSENDTOCHAN).params[:2] == ("bob", "#stage")
    assert "PRIVMSG" not in commands(sync(carol))
    alice.send("MODE #stage +v bob")
    bob.expect("MODE")
    bob.send("PRIVMSG #stage :thank you")
    assert carol.expect("PRIVMSG").params == ("#stage", "thank you")


def test_banned_member_cannot_speak(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """A member matching a ban gets 404 and the room gets nothing."""
    alice, bob, carol = trio
    make_room(alice, "#strict", bob, carol)
    alice.send("MODE #strict +b bob!*@*")
    bob.expect("MODE")
    bob.send("PRIVMSG #strict :hello?")
    bob.expect(n.ERR_CANNOTSENDTOCHAN)
    assert "PRIVMSG" not in commands(sync(carol))


def test_too_long_to_relay(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """A text that fits the input limit but not the relayed line (the server
    adds the sender's prefix) gets 417 and is not delivered cut."""
    alice, bob, _ = trio
    text = "word " * 96  # 480 bytes: the input line fits, the relayed one does not
    assert (
        len(f"PRIVMSG #lobby :{text}")
        <= 510
        < len(f":alice!alice@127.0.0.1 PRIVMSG #lobby :{text}")
    )
    alice.send(f"PRIVMSG #lobby :{text}")
    alice.expect(n.ERR_INPUTTOOLONG)
    assert "PRIVMSG" not in commands(sync(bob))
    alice.send("PRIVMSG #lobby :short enough")
    assert bob.expect("PRIVMSG").params[-1] == "short enough"


def test_away(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """AWAY :text gives 306; a PRIVMSG to the away user gets 301 with the text
    and is still delivered; AWAY alone gives 305 and ends the 301s."""
    alice, bob, _ = trio
    bob.send("AWAY :out for lunch")
    assert bob.expect(n.RPL_NOWAWAY).params[0] == "bob"
    alice.send("PRIVMSG bob :lunch?")
    assert alice.expect(n.RPL_AWAY).params == ("alice", "bob", "out for lunch")
    assert bob.expect("PRIVMSG").params[-1] == "lunch?"
    alice.send("NOTICE bob :fyi")
    bob.expect("NOTICE")
    assert n.RPL_AWAY not in commands(sync(alice))
    bob.send("AWAY")
    bob.expect(n.RPL_UNAWAY)
    alice.send("PRIVMSG bob :back?")
    bob.expect("PRIVMSG")
    assert n.RPL_AWAY not in commands(sync(alice))


def test_duplicate_targets_deliver_once(trio: tuple[IRCClient, IRCClient, IRCClient]) -> None:
    """`PRIVMSG bob,BOB :hi` names one person twice; bob gets one copy."""
    alice, bob, _ = trio
    alice.send("PRIVMSG bob,BOB :hi")
    assert bob.expect("PRIVMSG").params == ("bob", "hi")
    assert "PRIVMSG" not in commands(sync(bob))

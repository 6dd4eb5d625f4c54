"""IRCv3 draft/channel-rename: RENAME on the chat core, and its history through a real server.

Spec: https://ircv3.net/specs/extensions/channel-rename.
"""

from __future__ import annotations

from pathlib import Path

from easychat.proto import numerics as n
from tests.chatcore_harness import CoreDriver, commands, only
from tests.nolimits import unlimited
from tests.serverproc import HISTORY_CAPS, history_client, read_batch, server_process
from tests.test_setname_invite_notify import with_caps

CAP = "draft/channel-rename"


def rooms_core() -> CoreDriver:
    """A core without autojoin (every test makes its own rooms) or flood control."""
    return CoreDriver(unlimited(autojoin=()))


def test_capable_members_get_rename_with_a_reason() -> None:
    """ "The server to client command MUST always include the third parameter, an
    empty string MAY be used if no reason is provided"; "A channel rename
    preserves all channel state, such as membership, mode and topic"."""
    drv = rooms_core()
    owner = with_caps(drv, "owner", CAP, "#boaring")
    member = with_caps(drv, "member", CAP, "#boaring")
    drv.send(owner, "TOPIC #boaring :all about drills")
    drv.send(owner, "MODE #boaring +m")
    drv.drain()
    echo = only(drv.send(owner, "RENAME #boaring #boring :Typo fix"), "RENAME")
    assert (echo.source, echo.params) == (
        "owner!owner@127.0.0.1",
        ("#boaring", "#boring", "Typo fix"),
    )
    assert only(drv.take(member), "RENAME").params == ("#boaring", "#boring", "Typo fix")
    drv.send(member, "RENAME #boring #boring2")  # not an operator
    assert drv.core.find_channel("#boaring") is None
    channel = drv.core.find_channel("#boring")
    assert channel is not None
    assert channel.topic == "all about drills"
    assert "m" in channel.modes
    assert sorted(c.name for c in channel.members) == ["member", "owner"]
    assert channel.is_op(drv.core.clients[owner])
    plain = only(drv.send(owner, "RENAME #boring #coding"), "RENAME")
    assert plain.params == ("#boring", "#coding", "")
    names = only(drv.send(member, "NAMES #coding"), n.RPL_NAMREPLY)
    assert sorted(names.params[-1].split()) == ["@owner", "member"]
    drv.send(owner, "PRIVMSG #coding :still here")
    assert only(drv.take(member), "PRIVMSG").params == ("#coding", "still here")


def test_members_without_the_capability_get_part_and_join() -> None:
    """ "Send the client a PART message for the old channel name, with part message
    matching the rename reason if given", then "a JOIN message followed by the
    usual messages that would be sent if the client had joined the new channel
    normally (RPL_TOPIC, RPL_TOPICWHOTIME, RPL_NAMREPLY, RPL_ENDOFNAMES etc)"."""
    drv = rooms_core()
    owner = with_caps(drv, "owner", CAP, "#foo")
    plain = drv.register("plain", "#foo")
    drv.send(owner, "TOPIC #foo :the topic")
    drv.drain()
    drv.send(owner, "RENAME #foo #bar :Changing the channel name")
    got = drv.take(plain)
    assert commands(got) == [
        "PART",
        "JOIN",
        n.RPL_TOPIC,
        n.RPL_TOPICWHOTIME,
        n.RPL_NAMREPLY,
        n.RPL_ENDOFNAMES,
    ]
    assert got[0].params == ("#foo", "Changing the channel name")
    assert got[0].source == got[1].source == "plain!plain@127.0.0.1"
    assert got[1].params == ("#bar",)
    assert got[2].params[1:] == ("#bar", "the topic")


def test_case_only_renames_are_allowed_without_fallback() -> None:
    """ "Implementations MUST allow channels to be renamed while only changing the
    casing of a channel name", and "This fallback SHOULD NOT be used if the rename
    only changes the case of the channel name"."""
    drv = rooms_core()
    owner = with_caps(drv, "owner", CAP, "#room")
    plain = drv.register("plain", "#room")
    drv.drain()
    assert only(drv.send(owner, "RENAME #room #Room"), "RENAME").params[1] == "#Room"
    assert drv.take(plain) == []
    channel = drv.core.find_channel("#room")
    assert channel is not None
    assert channel.name == "#Room"


def test_refusals() -> None:
    """ "FAIL RENAME CHANNEL_NAME_IN_USE <old-channel> <new-channel>"; "If existing
    error numerics (such as ERR_CHANOPRIVSNEEDED, ERR_NOTONCHANNEL,
    ERR_NEEDMOREPARAMS) are more appropriate, they SHOULD be used instead"."""
    drv = rooms_core()
    owner = with_caps(drv, "owner", CAP, "#evil", "#good")
    member = with_caps(drv, "member", CAP, "#evil")
    drv.drain()
    used = only(drv.send(owner, "RENAME #evil #good :Don't be evil"), "FAIL")
    assert used.params[:4] == ("RENAME", "CHANNEL_NAME_IN_USE", "#evil", "#good")
    bad = only(drv.send(owner, "RENAME #evil nohash"), "FAIL")
    assert bad.params[:2] == ("RENAME", "CANNOT_RENAME")
    assert commands(drv.send(member, "RENAME #evil #nice")) == [n.ERR_CHANOPRIVSNEEDED]
    assert commands(drv.send(owner, "RENAME #nowhere #nice")) == [n.ERR_NOSUCHCHANNEL]
    assert commands(drv.send(owner, "RENAME #evil")) == [n.ERR_NEEDMOREPARAMS]
    assert drv.core.find_channel("#evil") is not None


def test_joining_the_old_name_is_redirected_for_an_hour() -> None:
    """Channel redirection: "send a FAIL JOIN CHANNEL_RENAMED message to clients
    attempting to join the old channel name"; without the capability "the 470
    numeric (ERR_LINKCHANNEL) MAY be used", and the client is joined to the new
    channel, as the spec's example shows. After the hour the old name is free."""
    drv = rooms_core()
    owner = with_caps(drv, "owner", CAP, "#foo")
    drv.send(owner, "RENAME #foo #bar")
    capable = with_caps(drv, "capable", CAP)
    plain = drv.register("plain")
    told = only(drv.send(capable, "JOIN #foo"), "FAIL")
    assert told.params[:4] == ("JOIN", "CHANNEL_RENAMED", "#foo", "#bar")
    assert commands(drv.send(plain, "JOIN #foo"))[:2] == [n.ERR_LINKCHANNEL, "JOIN"]
    channel = drv.core.find_channel("#bar")
    assert channel is not None
    assert drv.core.clients[plain] in channel.members
    drv.advance(3601)
    drv.send(capable, "JOIN #foo")
    assert drv.core.find_channel("#foo") is not None


def test_history_follows_the_room_and_survives_a_restart(tmp_path: Path) -> None:
    """ "avoids issues with client-side logging where history is split across
    multiple channel names": CHATHISTORY of the new name returns what was said
    under the old one, named as the room is called now, also after a restart;
    the old name has no history left."""
    db = tmp_path / "h.db"
    caps = [*HISTORY_CAPS, CAP]
    with server_process(db) as server:
        alice = history_client(server.port, "alice", caps)
        alice.send("JOIN #old")
        alice.expect(n.RPL_ENDOFNAMES)
        alice.send("TOPIC #old :kept")  # a kept room, so it outlives the restart
        alice.send("PRIVMSG #old :said before")
        alice.expect("PRIVMSG")
        alice.send("RENAME #old #new")
        alice.expect("RENAME")
        alice.send("PRIVMSG #new :said after")
        alice.expect("PRIVMSG")
        target, lines = read_batch(alice, "CHATHISTORY LATEST #new * 10")
        assert target == "#new"
        assert [m.params for m in lines if m.command == "PRIVMSG"] == [
            ("#new", "said before"),
            ("#new", "said after"),
        ]
        alice.close()
    with server_process(db) as server:
        alice = history_client(server.port, "alice", caps)
        alice.send("JOIN #new")
        alice.expect(n.RPL_ENDOFNAMES)
        _, lines = read_batch(alice, "CHATHISTORY LATEST #new * 10")
        assert [m.params[1] for m in lines if m.command == "PRIVMSG"] == [
            "said before",
            "said after",
        ]
        alice.send("JOIN #old")
        alice.expect(n.RPL_ENDOFNAMES)
        _, lines = read_batch(alice, "CHATHISTORY LATEST #old * 10")
        assert [m for m in lines if m.command == "PRIVMSG"] == []
        alice.close()

"""IRCv3 setname, invite-notify, no-implicit-names and cap-notify on the chat core."""

from __future__ import annotations

from easychat.proto import numerics as n
from tests.chatcore_harness import CoreDriver, commands, only


def with_caps(drv: CoreDriver, nick: str, caps: str, *rooms: str) -> int:
    """A registered client that enabled `caps`, in `rooms`, its inbox drained."""
    conn = drv.open()
    assert only(drv.send(conn, f"CAP REQ :{caps}"), "CAP").params[1] == "ACK"
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick} 0 * :{nick}")
    drv.send(conn, "CAP END")
    for room in rooms:
        drv.send(conn, f"JOIN {room}")
    drv.take(conn)
    return conn


def test_setname_changes_the_realname_and_tells_who_asked() -> None:
    """setname: the server sends `:<prefix> SETNAME :<realname>` to the client
    and to those sharing a channel with it, only if they enabled setname;
    WHOIS shows the new name."""
    drv = CoreDriver()
    alice = with_caps(drv, "alice", "setname")
    watcher = with_caps(drv, "watcher", "setname")
    plain = drv.register("plain")
    drv.take(alice)
    drv.take(watcher)
    echo = only(drv.send(alice, "SETNAME :Alice Liddell"), "SETNAME")
    assert (echo.source, echo.params) == ("alice!alice@127.0.0.1", ("Alice Liddell",))
    assert only(drv.take(watcher), "SETNAME").params == ("Alice Liddell",)
    assert drv.take(plain) == []
    whois = only(drv.send(plain, "WHOIS alice"), n.RPL_WHOISUSER)
    assert whois.params[-1] == "Alice Liddell"


def test_setname_refuses_an_empty_or_long_realname() -> None:
    """setname: "FAIL SETNAME INVALID_REALNAME" when the realname is refused."""
    drv = CoreDriver()
    alice = with_caps(drv, "alice", "setname")
    for line in ("SETNAME :", "SETNAME :" + "x" * 391):
        fail = only(drv.send(alice, line), "FAIL")
        assert fail.params[:2] == ("SETNAME", "INVALID_REALNAME")
    assert drv.core.clients[alice].realname == "alice"


def test_invite_notify_tells_the_room_and_only_its_ops_when_invite_only() -> None:
    """invite-notify: members who enabled it see `:<inviter> INVITE <target>
    <channel>`; in an invite-only room only its operators are told."""
    drv = CoreDriver()
    owner = with_caps(drv, "owner", "invite-notify", "#room")
    member = with_caps(drv, "member", "invite-notify", "#room")
    guest = drv.register("guest")
    drv.take(owner)
    drv.send(member, "INVITE guest #room")
    told = only(drv.take(owner), "INVITE")
    assert (told.source, told.params) == ("member!member@127.0.0.1", ("guest", "#room"))
    assert only(drv.take(guest), "INVITE").params == ("guest", "#room")
    assert commands(drv.take(member)) == []  # the inviter has its 341 already
    drv.send(owner, "MODE #room +i")
    drv.take(member)
    other = drv.register("other")
    drv.send(owner, "INVITE other #room")
    assert drv.take(member) == []  # not an operator of the +i room
    assert only(drv.take(other), "INVITE").params == ("other", "#room")


def test_no_implicit_names_leaves_names_out_of_join() -> None:
    """no-implicit-names: with it enabled, a JOIN is answered without
    RPL_NAMREPLY and RPL_ENDOFNAMES; NAMES still answers."""
    drv = CoreDriver()
    quiet = with_caps(drv, "quiet", "no-implicit-names")
    joined = commands(drv.send(quiet, "JOIN #room"))
    assert "JOIN" in joined
    assert n.RPL_NAMREPLY not in joined
    assert n.RPL_ENDOFNAMES not in joined
    assert n.RPL_NAMREPLY in commands(drv.send(quiet, "NAMES #room"))
    plain = drv.register("plain")
    assert n.RPL_NAMREPLY in commands(drv.send(plain, "JOIN #room"))


def test_the_new_capabilities_are_offered() -> None:
    drv = CoreDriver()
    conn = drv.open()
    offered = only(drv.send(conn, "CAP LS 302"), "CAP").params[-1].split()
    for cap in ("setname", "invite-notify", "no-implicit-names", "cap-notify"):
        assert cap in offered, cap

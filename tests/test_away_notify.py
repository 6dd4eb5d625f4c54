"""IRCv3 away-notify: AWAY changes reach the clients that share a room and ask for them."""

from __future__ import annotations

from easychat.proto import numerics as n
from tests.chatcore_harness import CoreDriver, commands, only


def notified(drv: CoreDriver, nick: str, *rooms: str) -> int:
    """A registered client with away-notify, in `rooms`, its inbox drained."""
    conn = drv.open()
    drv.send(conn, "CAP REQ :away-notify")
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick} 0 * :{nick}")
    drv.send(conn, "CAP END")
    for room in rooms:
        drv.send(conn, f"JOIN {room}")
    drv.take(conn)
    return conn


def test_away_and_back_reach_away_notify_peers_only() -> None:
    """away-notify: "The AWAY message is sent to clients that share a channel
    with the user" when they go away (`AWAY :<message>`) and when they come
    back (AWAY with no parameter); the user itself gets 305/306 as before,
    and a client without the capability is sent nothing."""
    drv = CoreDriver()
    watcher = notified(drv, "watcher")
    plain = drv.register("plain")
    alice = drv.register("alice")
    drv.take(watcher)
    assert commands(drv.send(alice, "AWAY :lunch")) == [n.RPL_NOWAWAY]
    away = only(drv.take(watcher), "AWAY")
    assert (away.source, away.params) == ("alice!alice@127.0.0.1", ("lunch",))
    drv.send(alice, "AWAY :lunch")  # the same state again: nobody is told
    assert drv.take(watcher) == []
    assert commands(drv.send(alice, "AWAY")) == [n.RPL_UNAWAY]
    back = only(drv.take(watcher), "AWAY")
    assert back.params == ()
    assert drv.take(plain) == []


def test_away_reaches_only_those_who_share_a_room() -> None:
    drv = CoreDriver()
    stranger = notified(drv, "stranger")
    drv.send(stranger, "PART #lobby")
    drv.take(stranger)
    alice = drv.register("alice")
    drv.send(alice, "AWAY :gone")
    assert drv.take(stranger) == []


def test_an_away_user_joining_is_announced_after_the_join() -> None:
    """away-notify: a user who is away and joins a room is followed, for the
    room's away-notify members, by an AWAY after the JOIN."""
    drv = CoreDriver()
    watcher = notified(drv, "watcher", "#room")
    alice = drv.register("alice")
    drv.send(alice, "AWAY :in a meeting")
    drv.take(watcher)
    drv.send(alice, "JOIN #room")
    got = drv.take(watcher)
    assert [m.command for m in got] == ["JOIN", "AWAY"]
    assert got[1].params == ("in a meeting",)


def test_away_notify_is_offered() -> None:
    drv = CoreDriver()
    conn = drv.open()
    ls = only(drv.send(conn, "CAP LS 302"), "CAP")
    assert "away-notify" in ls.params[-1].split()
    assert only(drv.send(conn, "CAP REQ :away-notify"), "CAP").params[1] == "ACK"

"""IRCv3 MONITOR: the state of a list of nicks, and notices when it changes."""

from __future__ import annotations

from easychat.chat.handlers.monitor import MONITOR_LIMIT
from easychat.proto import numerics as n
from tests.chatcore_harness import CoreDriver, commands, only
from tests.nolimits import unlimited


def test_monitor_add_answers_online_and_offline() -> None:
    """monitor: `MONITOR +` answers RPL_MONONLINE (730) with the full prefix of
    each target online and RPL_MONOFFLINE (731) for the others."""
    drv = CoreDriver(unlimited())
    drv.register("alice")
    watcher = drv.register("watcher")
    got = drv.send(watcher, "MONITOR + alice,bob")
    online = only(got, n.RPL_MONONLINE)
    assert online.params == ("watcher", "alice!alice@127.0.0.1")
    assert only(got, n.RPL_MONOFFLINE).params == ("watcher", "bob")


def test_monitor_tells_when_a_nick_comes_and_goes() -> None:
    """A monitored nick registering, changing nick and quitting: 730 and 731 follow."""
    drv = CoreDriver(unlimited())
    watcher = drv.register("watcher")
    drv.send(watcher, "MONITOR + bob,robert")
    drv.take(watcher)
    bob = drv.open()
    drv.send(bob, "NICK bob")
    drv.send(bob, "USER bob 0 * :Bob")
    assert only(drv.take(watcher), n.RPL_MONONLINE).params[-1] == "bob!bob@127.0.0.1"
    drv.send(bob, "NICK robert")
    got = [m for m in drv.take(watcher) if m.command != "NICK"]  # it shares #lobby too
    assert [(m.command, m.params[-1]) for m in got] == [
        (n.RPL_MONOFFLINE, "bob"),
        (n.RPL_MONONLINE, "robert!bob@127.0.0.1"),
    ]
    drv.send(bob, "NICK Robert")  # only the case: still the same nick, nothing to tell
    assert commands(drv.take(watcher)) == ["NICK"]
    drv.send(bob, "QUIT :bye")
    assert only(drv.take(watcher), n.RPL_MONOFFLINE).params[-1] == "Robert"
    assert not any(m.command == n.RPL_MONONLINE for m in drv.take(watcher))


def test_monitor_list_remove_clear_and_status() -> None:
    drv = CoreDriver(unlimited())
    watcher = drv.register("watcher")
    drv.send(watcher, "MONITOR + carol,dave,erin")
    drv.send(watcher, "MONITOR - dave")
    listed = drv.send(watcher, "MONITOR L")
    assert commands(listed) == [n.RPL_MONLIST, n.RPL_ENDOFMONLIST]
    assert sorted(listed[0].params[-1].split(",")) == ["carol", "erin"]
    drv.register("erin")
    drv.take(watcher)
    status = drv.send(watcher, "MONITOR S")
    assert only(status, n.RPL_MONONLINE).params[-1].startswith("erin!")
    assert only(status, n.RPL_MONOFFLINE).params[-1] == "carol"
    drv.send(watcher, "MONITOR C")
    assert commands(drv.send(watcher, "MONITOR L")) == [n.RPL_ENDOFMONLIST]
    carol = drv.open()
    drv.send(carol, "NICK carol")
    drv.send(carol, "USER carol 0 * :Carol")
    assert commands(drv.take(watcher)) == ["JOIN"]  # she joined #lobby; no 730


def test_monitor_list_full_is_734_naming_what_was_left_out() -> None:
    """monitor: ERR_MONLISTFULL (734, `<nick> <limit> <targets> :Monitor list is
    full`) when the list would grow past the limit in ISUPPORT `MONITOR`."""
    drv = CoreDriver(unlimited())
    watcher = drv.register("watcher")
    nicks = [f"n{i}" for i in range(MONITOR_LIMIT + 2)]
    got = drv.send(watcher, "MONITOR + " + ",".join(nicks))
    full = only(got, n.ERR_MONLISTFULL)
    assert full.params[1:3] == (str(MONITOR_LIMIT), ",".join(nicks[MONITOR_LIMIT:]))
    offline = [m for m in got if m.command == n.RPL_MONOFFLINE]
    assert sum(len(m.params[-1].split(",")) for m in offline) == MONITOR_LIMIT
    for line in offline:
        assert len(line.params[-1].encode()) <= 400


def test_a_watcher_leaving_leaves_nothing_behind() -> None:
    drv = CoreDriver(unlimited())
    watcher = drv.register("watcher")
    drv.send(watcher, "MONITOR + frank")
    drv.send(watcher, "QUIT")
    assert drv.core.monitors == {}
    drv.register("frank")  # nobody to tell, nothing sent to a closed connection


def test_monitor_is_in_isupport() -> None:
    drv = CoreDriver(unlimited())
    conn = drv.open()
    drv.send(conn, "NICK x")
    burst = drv.send(conn, "USER x 0 * :x")
    tokens = [p for m in burst if m.command == n.RPL_ISUPPORT for p in m.params]
    assert f"MONITOR={MONITOR_LIMIT}" in tokens


def test_extended_monitor_sends_away_and_setname_of_a_watched_nick() -> None:
    """extended-monitor: a client that MONITORs a nick and enabled
    extended-monitor gets that user's AWAY and SETNAME (with away-notify and
    setname) as if they shared a channel; without it, only 730/731."""
    drv = CoreDriver(unlimited())
    caps = "extended-monitor away-notify setname"
    conns: list[int] = []
    for nick, wanted in (("fan", caps), ("plainfan", "away-notify setname")):
        conn = drv.open()
        drv.send(conn, f"CAP REQ :{wanted}")
        drv.send(conn, f"NICK {nick}")
        drv.send(conn, f"USER {nick} 0 * :{nick}")
        drv.send(conn, "CAP END")
        drv.send(conn, "PART #lobby")  # no room shared with the star
        drv.send(conn, "MONITOR + star")
        conns.append(conn)
    fan, plainfan = conns
    star = drv.register("star", "#elsewhere")
    drv.send(star, "PART #lobby")
    drv.take(fan)
    drv.take(plainfan)
    drv.send(star, "AWAY :busy")
    assert only(drv.take(fan), "AWAY").params == ("busy",)
    drv.send(star, "SETNAME :A Star")
    assert only(drv.take(fan), "SETNAME").params == ("A Star",)
    assert drv.take(plainfan) == []

"""Chat-core tests for server queries: LUSERS, INFO, WHOWAS (no sockets)."""

from __future__ import annotations

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.nickhistory import NickHistory
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.chatcore_harness import CoreDriver, commands, only
from tests.nolimits import unlimited


@pytest.fixture
def drv() -> CoreDriver:
    """A core with no autojoin room."""
    return CoreDriver(CoreConfig(autojoin=()))


def user_counts(msgs: list[Message]) -> dict[str, tuple[str, ...]]:
    """RPL_LOCALUSERS and RPL_GLOBALUSERS of `msgs`: their parameters after the nick."""
    return {
        m.command: m.params[1:] for m in msgs if m.command in {n.RPL_LOCALUSERS, n.RPL_GLOBALUSERS}
    }


# -- LUSERS -------------------------------------------------------------------


def test_lusers_sends_local_and_global_users_with_maximum(drv: CoreDriver) -> None:
    """RPL_LOCALUSERS: "<u> and <m> are non-negative integers and represent the
    number of clients currently and the maximum number of clients that have
    been connected directly to this server at one time"; "The two optional
    parameters SHOULD be supplied". On one server the global figures are the
    same."""
    alice = drv.register("Alice")
    bob = drv.register("Bob")
    carol = drv.register("Carol")
    drv.send(carol, "QUIT")
    got = drv.send(alice, "LUSERS")
    assert commands(got)[-2:] == [n.RPL_LOCALUSERS, n.RPL_GLOBALUSERS]
    assert user_counts(got) == {
        n.RPL_LOCALUSERS: ("2", "3", "Current local users 2, max 3"),
        n.RPL_GLOBALUSERS: ("2", "3", "Current global users 2, max 3"),
    }
    drv.send(bob, "QUIT")
    assert user_counts(drv.send(alice, "LUSERS"))[n.RPL_LOCALUSERS][:2] == ("1", "3")


def test_welcome_burst_carries_local_and_global_users(drv: CoreDriver) -> None:
    """ "The server SHOULD then respond as though the client sent the LUSERS
    command and return the appropriate numerics": 265 and 266 come after 255
    and before the MOTD."""
    drv.register("Alice")
    conn = drv.open()
    drv.send(conn, "NICK Bob")
    burst = drv.send(conn, "USER bob 0 * :Bob")
    cmds = commands(burst)
    assert cmds.index(n.RPL_LUSERME) < cmds.index(n.RPL_LOCALUSERS)
    assert cmds.index(n.RPL_GLOBALUSERS) < cmds.index(n.ERR_NOMOTD)
    assert only(burst, n.RPL_GLOBALUSERS).params[1:3] == ("2", "2")


# -- INFO ---------------------------------------------------------------------


def test_info_is_371_lines_then_374(drv: CoreDriver) -> None:
    """ "Upon receiving an INFO command, the given server will respond with zero
    or more RPL_INFO replies, followed by one RPL_ENDOFINFO numeric." """
    alice = drv.register("Alice")
    got = drv.send(alice, "INFO")
    cmds = commands(got)
    assert cmds[-1] == n.RPL_ENDOFINFO
    assert set(cmds[:-1]) == {n.RPL_INFO}
    assert len(cmds) >= 2
    assert all(m.params[0] == "Alice" and len(m.params) == 2 for m in got)
    assert got[0].params[1].startswith("easychat-")
    assert got[-1].params[1] == "End of INFO list"


def test_info_before_registration_is_451(drv: CoreDriver) -> None:
    """INFO is for registered clients: "ERR_NOTREGISTERED (451) ... Returned
    when a client command cannot be parsed as they are not yet registered"."""
    conn = drv.open()
    assert commands(drv.send(conn, "INFO")) == [n.ERR_NOTREGISTERED]


# -- LINKS --------------------------------------------------------------------


def test_links_lists_this_server_then_365(drv: CoreDriver) -> None:
    """RFC 2812 LINKS: "a list of servers names, which match the mask" as
    RPL_LINKS (`<mask> <server> :<hopcount> <server info>`), then
    RPL_ENDOFLINKS; a mask that matches nothing gets only the end."""
    alice = drv.register("Alice")
    got = drv.send(alice, "LINKS")
    assert commands(got) == [n.RPL_LINKS, n.RPL_ENDOFLINKS]
    assert got[0].params[1:3] == ("easychat.local", "easychat.local")
    assert got[0].params[3].startswith("0 ")
    assert got[1].params[1:] == ("*", "End of LINKS list")
    assert commands(drv.send(alice, "LINKS *.LOCAL")) == [n.RPL_LINKS, n.RPL_ENDOFLINKS]
    assert commands(drv.send(alice, "LINKS other.example")) == [n.RPL_ENDOFLINKS]


# -- WHOWAS -------------------------------------------------------------------


def whowas(drv: CoreDriver, conn: int, line: str) -> list[tuple[str, ...]]:
    """The 314 entries (nick, user, host, "*", realname) of a WHOWAS; checks the framing."""
    got = drv.send(conn, line)
    assert commands(got)[-1] == n.RPL_ENDOFWHOWAS
    body = got[:-1]
    if not body or body[0].command == n.ERR_WASNOSUCHNICK:
        assert commands(got) == [n.ERR_WASNOSUCHNICK, n.RPL_ENDOFWHOWAS]
        return []
    assert commands(body) == [n.RPL_WHOWASUSER, n.RPL_WHOISSERVER] * (len(body) // 2)
    return [m.params[1:] for m in body if m.command == n.RPL_WHOWASUSER]


def test_whowas_remembers_nick_changes_and_quits_newest_first(drv: CoreDriver) -> None:
    """ "the server searches through its nickname history, looking for any nicks
    which are lexically the same (no wild card matching here). The history is
    searched backward, returning the most recent entry first." """
    alice = drv.register("Alice")
    first = drv.register("Dan")
    drv.send(first, "NICK Daniel")
    second = drv.open("10.0.0.2")
    drv.send(second, "NICK Dan")
    drv.send(second, "USER other 0 * :The Other Dan")
    drv.clock.advance(60)
    drv.send(second, "QUIT")
    assert whowas(drv, alice, "WHOWAS dAN") == [
        ("Dan", "other", "10.0.0.2", "*", "The Other Dan"),
        ("Dan", "dan", "127.0.0.1", "*", "Dan Test"),
    ]
    assert whowas(drv, alice, "WHOWAS D*") == []  # no wildcards
    got = drv.send(alice, "WHOWAS Dan")
    server = only(got[:2], n.RPL_WHOISSERVER)
    assert server.params[1:3] == ("Dan", drv.config.server_name)
    assert server.params[3] == "2023-11-14 22:14:20 UTC"  # when it was left


@pytest.mark.parametrize(
    ("count", "expected"),
    [("1", 1), ("2", 2), ("9", 3), ("0", 3), ("-1", 3), ("x", 3), ("99999999999999999999", 3)],
)
def test_whowas_count(drv: CoreDriver, count: str, expected: int) -> None:
    """ "If there are multiple entries, up to <count> replies will be returned
    (or all of them if no <count> parameter is given). If given, <count>
    SHOULD be a positive number. Otherwise, a full search is done." """
    alice = drv.register("Alice")
    for _ in range(3):
        conn = drv.register("Ghost")
        drv.send(conn, "QUIT")
    assert len(whowas(drv, alice, f"WHOWAS Ghost {count}")) == expected
    assert len(whowas(drv, alice, "WHOWAS Ghost")) == 3


def test_whowas_unknown_is_406_only_when_nothing_is_known(drv: CoreDriver) -> None:
    """ "Servers MUST reply with either ERR_WASNOSUCHNICK or a non-empty list of
    WHOWAS entries, both followed with RPL_ENDOFWHOWAS". A nick online now but
    never left has no history; an unregistered connection leaves none."""
    alice = drv.register("Alice")
    conn = drv.open()
    drv.send(conn, "NICK Never")
    drv.send(conn, "QUIT")
    assert whowas(drv, alice, "WHOWAS Alice") == []
    assert whowas(drv, alice, "WHOWAS Never") == []
    got = drv.send(alice, "WHOWAS Never")
    assert got[0].params[1:] == ("Never", "There was no such nickname")
    assert only(drv.send(alice, "WHOWAS"), n.ERR_NONICKNAMEGIVEN).params[0] == "Alice"


def test_nick_history_is_bounded() -> None:
    """NICK_HISTORY_SIZE entries are kept; past it the oldest go first."""
    drv = CoreDriver(unlimited(autojoin=()))  # five lines in a row
    drv.core.nick_history = NickHistory(size=3)
    alice = drv.register("Alice")
    for nick in ("One", "Two", "Three", "Four"):
        drv.send(alice, f"NICK {nick}")
    assert len(drv.core.nick_history) == 3
    assert whowas(drv, alice, "WHOWAS Alice") == []
    assert whowas(drv, alice, "WHOWAS One") == [("One", "alice", "127.0.0.1", "*", "Alice Test")]

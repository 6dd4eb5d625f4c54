"""Chat-core tests for server queries: LUSERS, INFO (no sockets)."""

from __future__ import annotations

import pytest

from easychat.chat.config import CoreConfig
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.chatcore_harness import CoreDriver, commands, only


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

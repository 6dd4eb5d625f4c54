"""Chat-core tests for server queries: LUSERS (no sockets)."""

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

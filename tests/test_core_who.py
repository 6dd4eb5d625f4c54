"""Chat-core tests for WHO: flags, invisible users and WHOX (no sockets)."""

from __future__ import annotations

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.identity.passwords import hash_password
from easychat.proto import numerics as n
from easychat.proto.message import Message
from tests.chatcore_harness import CoreDriver, commands, only

OPER_PASSWORD = "operator secret"
CONFIG = CoreConfig(autojoin=(), oper=(("root", hash_password(OPER_PASSWORD)),))
SERVER = CONFIG.server_name


@pytest.fixture
def drv() -> CoreDriver:
    """A core with an operator block and no autojoin room."""
    return CoreDriver(CONFIG)


def rows(msgs: list[Message], code: str = n.RPL_WHOREPLY) -> dict[str, tuple[str, ...]]:
    """The WHO replies of `msgs` by nick (352: params[5]), without the asker's nick."""
    return {m.params[5]: m.params[1:] for m in msgs if m.command == code}


def oper_up(drv: CoreDriver, conn: int) -> None:
    """Makes `conn` an IRC operator."""
    assert n.RPL_YOUREOPER in commands(drv.send(conn, f"OPER root :{OPER_PASSWORD}"))


def test_who_flags_mark_irc_operators(drv: CoreDriver) -> None:
    """RPL_WHOREPLY <flags>: "Away status: the letter H ... or the letter G
    ... Optionally, a literal asterisk character ('*', 0x2A) to indicate that
    the user is a server operator. Optionally, the highest channel membership
    prefix" (so `H*`, `G*`, `H*@`)."""
    admin = drv.register("Admin", "#room")
    bob = drv.register("Bob", "#room")
    oper_up(drv, admin)
    assert rows(drv.send(bob, "WHO #room"))["Admin"][5] == "H*@"
    assert rows(drv.send(bob, "WHO Admin"))["Admin"][5] == "H*"
    drv.send(admin, "AWAY :lunch")
    assert rows(drv.send(bob, "WHO adm*"))["Admin"][5] == "G*"
    assert rows(drv.send(bob, "WHO Bob"))["Bob"][5] == "H"


def test_invisible_user_seen_by_neighbours_and_themselves(drv: CoreDriver) -> None:
    """ "Visible users are users who either aren't invisible (user mode +i) or
    have a common channel with the requesting client." A +i user always sees
    themselves."""
    ghost = drv.register("Ghost")
    friend = drv.register("Friend")
    stranger = drv.register("Stranger")
    drv.send(ghost, "MODE Ghost +i")
    assert "Ghost" not in rows(drv.send(stranger, "WHO *"))
    assert "Ghost" not in rows(drv.send(stranger, "WHO Ghost"))
    assert "Ghost" in rows(drv.send(ghost, "WHO Ghost"))
    drv.send(ghost, "JOIN #den")
    drv.send(friend, "JOIN #den")
    assert "Ghost" in rows(drv.send(friend, "WHO gh*"))
    # In a channel's list, only to its members.
    assert "Ghost" not in rows(drv.send(stranger, "WHO #den"))
    assert set(rows(drv.send(friend, "WHO #den"))) == {"Ghost", "Friend"}


def test_whox_fields_come_in_spec_order_with_token(drv: CoreDriver) -> None:
    """ "Servers MUST send the fields in the order specified above" (t, c, u, i,
    h, s, n, f, d, l, a, o, r), whatever order they were asked in, with "the
    <token> specified by the client"; "Servers MUST NOT send RPL_WHOREPLY"."""
    drv.register("Alice", "#room")
    bob = drv.register("Bob", "#room")
    drv.clock.advance(7)
    for request in ("%tcuihsnfdlaor,123", "%roaldfnshiuct,123"):
        got = drv.send(bob, f"WHO #room {request}")
        assert n.RPL_WHOREPLY not in commands(got)
        assert commands(got)[-1] == n.RPL_ENDOFWHO
        replies = [m for m in got if m.command == n.RPL_WHOSPCRPL]
        alice_row = next(m for m in replies if m.params[7] == "Alice")
        assert alice_row.params == (
            "Bob",
            "123",
            "#room",
            "alice",
            "127.0.0.1",
            "127.0.0.1",
            SERVER,
            "Alice",
            "H@",
            "0",
            "7",
            "0",  # not logged in
            "n/a",
            "Alice Test",
        )


def test_whox_exactly_the_fields_asked(drv: CoreDriver) -> None:
    """ "Servers MUST include in their reply all of the standard fields
    requested by the client, and MUST NOT add any additional field not
    requested by the client. Servers MUST ignore any non-standard field they
    don't support." """
    drv.register("Alice")
    bob = drv.register("Bob")
    reply = only(drv.send(bob, "WHO Alice %tn,321"), n.RPL_WHOSPCRPL)
    assert reply.params == ("Bob", "321", "Alice")
    reply = only(drv.send(bob, "WHO Alice %nZa"), n.RPL_WHOSPCRPL)
    assert reply.params == ("Bob", "Alice", "0")
    reply = only(drv.send(bob, "WHO Alice %cf"), n.RPL_WHOSPCRPL)
    assert reply.params == ("Bob", "*", "H")


def test_whox_flags_show_operators(drv: CoreDriver) -> None:
    """WHOX `f` carries the same flags as RPL_WHOREPLY, `*` included."""
    admin = drv.register("Admin")
    bob = drv.register("Bob")
    oper_up(drv, admin)
    reply = only(drv.send(bob, "WHO Admin %nf"), n.RPL_WHOSPCRPL)
    assert reply.params == ("Bob", "Admin", "H*")


def test_whox_is_advertised(drv: CoreDriver) -> None:
    """ "Servers supporting this specification MUST include the WHOX token in
    RPL_ISUPPORT without any value." """
    conn = drv.open()
    drv.send(conn, "NICK alice")
    burst = drv.send(conn, "USER alice 0 * :Alice")
    tokens = [t for m in burst if m.command == n.RPL_ISUPPORT for t in m.params[1:-1]]
    assert "WHOX" in tokens


def test_who_with_a_second_parameter_not_whox_is_plain_who(drv: CoreDriver) -> None:
    """A second parameter without `%` (RFC 2812's `o`) still gets RPL_WHOREPLY."""
    drv.register("Alice")
    bob = drv.register("Bob")
    assert commands(drv.send(bob, "WHO Alice o")) == [n.RPL_WHOREPLY, n.RPL_ENDOFWHO]


def test_whox_placeholders_for_a_unix_socket_peer(drv: CoreDriver) -> None:
    """ "255.255.255.255 is used for [ip] when the server refuses to disclose
    the IP address" (a Unix socket peer has none; its host is `unix`), and
    "0 is used for [account] when the user is logged out"."""
    drv.apply(drv.core.connect(99, "", local=True, peer_user="dan"))
    drv.send(99, "NICK dan")
    drv.send(99, "USER dan 0 * :Dan")
    bob = drv.register("Bob")
    reply = only(drv.send(bob, "WHO dan %niha"), n.RPL_WHOSPCRPL)
    assert reply.params == ("Bob", "255.255.255.255", "unix", "dan", "dan")
    reply = only(drv.send(bob, "WHO Bob %ia"), n.RPL_WHOSPCRPL)
    assert reply.params == ("Bob", "127.0.0.1", "0")

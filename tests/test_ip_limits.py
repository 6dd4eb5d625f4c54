"""Limits per IP address: connections at once, connections per minute, failed registrations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.protection.iplimits import CONNECT_WINDOW, FAILURE_WINDOW
from tests.chatcore_harness import CoreDriver, commands
from tests.ircclient import IRCClient, RunningServer
from tests.serverproc import server_process
from tests.test_robustness import assert_serves

MakeServer = Callable[..., RunningServer]


def refusal(drv: CoreDriver, conn: int) -> str:
    """The ERROR reason a refused connection got (and checks it was closed)."""
    got = drv.take(conn)
    assert commands(got) == ["ERROR"], got
    assert conn in drv.closed
    return got[0].params[0]


def accepted(drv: CoreDriver, conn: int) -> bool:
    """Whether `conn` is open (it got nothing and was not closed)."""
    return conn not in drv.closed and conn in drv.core.clients


# -- core ---------------------------------------------------------------------------


def test_concurrent_connections_per_ip() -> None:
    """The 17th connection from one address at once is refused with ERROR;
    other addresses are not affected, and a closed connection frees a place."""
    drv = CoreDriver(CoreConfig(max_clients_per_ip=16))
    conns = [drv.open("192.0.2.1") for _ in range(16)]
    assert all(accepted(drv, c) for c in conns)
    extra = drv.open("192.0.2.1")
    assert refusal(drv, extra) == "Too many connections from your address (at most 16)"
    assert accepted(drv, drv.open("192.0.2.2"))
    drv.send(conns[0], "QUIT")
    assert accepted(drv, drv.open("192.0.2.1"))


def test_connections_per_minute_per_ip() -> None:
    """Past 20 new connections in a minute an address is refused until the
    oldest leaves the window; the ERROR says how long to wait."""
    drv = CoreDriver(CoreConfig(connects_per_ip=20))
    for _ in range(20):
        conn = drv.open("192.0.2.1")
        assert accepted(drv, conn)
        drv.send(conn, "QUIT")
    drv.clock.advance(15)
    refused = drv.open("192.0.2.1")
    assert refusal(drv, refused) == "Connecting too often from your address, try again in 45 s"
    assert accepted(drv, drv.open("192.0.2.2"))
    drv.clock.advance(45)
    assert accepted(drv, drv.open("192.0.2.1"))


def test_refused_connections_do_not_count() -> None:
    """Only admitted connections count, so a refused burst does not extend the wait."""
    drv = CoreDriver(CoreConfig(connects_per_ip=2))
    for _ in range(2):
        drv.send(drv.open("192.0.2.1"), "QUIT")
    for _ in range(50):
        assert not accepted(drv, drv.open("192.0.2.1"))
    drv.clock.advance(CONNECT_WINDOW)
    assert accepted(drv, drv.open("192.0.2.1"))


def test_failed_registrations_close_and_refuse_the_address() -> None:
    """The 10th failed registration step (refused NICK/USER) closes the connection
    with ERROR, and the address is refused until the window has passed."""
    drv = CoreDriver(CoreConfig(registration_failures_per_ip=10))
    conn = drv.open("192.0.2.1")
    for _ in range(9):
        assert commands(drv.send(conn, "NICK 1bad")) == ["432"]
    got = drv.send(conn, "NICK 2bad")
    assert commands(got) == ["432", "ERROR"]
    assert got[1].params[0] == (
        "Closing link: 192.0.2.1 (Too many failed registration attempts from your address)"
    )
    assert conn in drv.closed
    again = drv.open("192.0.2.1")
    assert refusal(drv, again).startswith("Too many failed registrations from your address")
    assert accepted(drv, drv.open("192.0.2.2"))
    drv.clock.advance(FAILURE_WINDOW)
    assert accepted(drv, drv.open("192.0.2.1"))


def test_registration_timeouts_count_as_failures() -> None:
    """Connections that never register count against their address."""
    drv = CoreDriver(CoreConfig(registration_failures_per_ip=3, registration_timeout=30.0))
    for _ in range(3):
        drv.open("192.0.2.1")
    drv.advance(30)
    assert len(drv.closed) == 3
    assert refusal(drv, drv.open("192.0.2.1")).startswith("Too many failed registrations")


def test_a_taken_nick_is_a_failure_but_a_registered_client_is_not_counted() -> None:
    """433 before registration counts; errors after registration never do."""
    drv = CoreDriver(
        CoreConfig(registration_failures_per_ip=2, autojoin=(), flood_rate=0, limits_exempt=())
    )
    alice = drv.register("Alice")
    for _ in range(20):
        assert commands(drv.send(alice, "NICK 1bad")) == ["432"]
    assert accepted(drv, alice)
    conn = drv.open()
    assert commands(drv.send(conn, "NICK Alice")) == ["433"]
    assert commands(drv.send(conn, "NICK Alice")) == ["433", "ERROR"]


@pytest.mark.parametrize(
    "field", ["max_clients_per_ip", "connects_per_ip", "registration_failures_per_ip"]
)
def test_zero_turns_each_limit_off(field: str) -> None:
    """0 turns a limit off: 100 connections, all failing to register, all admitted."""
    others_off = {"max_clients_per_ip": 0, "connects_per_ip": 0, "registration_failures_per_ip": 0}
    drv = CoreDriver(CoreConfig(**{**others_off, field: 0}))  # type: ignore[arg-type]
    for _ in range(100):
        conn = drv.open("192.0.2.1")
        assert accepted(drv, conn)
        drv.send(conn, "NICK 1bad")
    assert all(accepted(drv, c) for c in range(1, 101))


def test_forgotten_addresses_leave_no_state() -> None:
    """Once nothing is open and the windows have passed, an address is forgotten."""
    drv = CoreDriver(CoreConfig())
    for i in range(50):
        conn = drv.open(f"198.51.100.{i}")
        drv.send(conn, "NICK 1bad")
        drv.send(conn, "QUIT")
    assert len(drv.core.ip_limits) == 50
    drv.advance(FAILURE_WINDOW)
    assert len(drv.core.ip_limits) == 0


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.3.2.1", "0::1", "0::ffff:127.0.0.1", "192.0.2.9", "2001:db8::5"]
)
def test_exempt_addresses_skip_every_per_ip_limit(host: str) -> None:
    """Loopback (or a listed network) counts against no per-IP limit: on a
    shared host every user connects from 127.0.0.1. IPv4-mapped IPv6
    addresses match their IPv4 network."""
    drv = CoreDriver(
        CoreConfig(
            max_clients_per_ip=2,
            connects_per_ip=2,
            registration_failures_per_ip=2,
            limits_exempt=("127.0.0.0/8", "::1", "192.0.2.9", "2001:db8::/32"),
        )
    )
    for _ in range(30):
        conn = drv.open(host)
        assert accepted(drv, conn)
        drv.send(conn, "NICK 1bad")
        drv.send(conn, "NICK 2bad")
        assert accepted(drv, conn)
    assert len(drv.core.ip_limits) == 0  # nothing kept for exempt addresses


def test_unlisted_addresses_are_still_limited() -> None:
    """An exempt list does not exempt its neighbours, and an empty one
    exempts nothing, loopback included."""
    drv = CoreDriver(CoreConfig(max_clients_per_ip=1, limits_exempt=("192.0.2.9",)))
    drv.open("192.0.2.10")
    assert not accepted(drv, drv.open("192.0.2.10"))
    drv = CoreDriver(CoreConfig(max_clients_per_ip=1, limits_exempt=()))
    drv.open("127.0.0.1")
    assert not accepted(drv, drv.open("127.0.0.1"))


def test_flood_control_still_applies_to_exempt_addresses() -> None:
    """Exemption covers the per-IP limits only: flood control stays per client."""
    drv = CoreDriver(CoreConfig(flood_burst=5, flood_rate=2.0, flood_queue=0))
    alice = drv.register("alice")
    drv.register("bob")
    got = [m for i in range(30) for m in drv.send(alice, f"PRIVMSG bob :line {i}")]
    assert any(m.command == "FAIL" and "RATE_LIMITED" in m.params for m in got)


# -- sockets ------------------------------------------------------------------------


def test_socket_loopback_is_exempt_by_default(make_server: MakeServer) -> None:
    """The shared host: with the default limits (16 at once, 20 a minute),
    24 users on 127.0.0.1 all register."""
    assert CoreConfig().max_clients_per_ip == 16
    server = make_server(CoreConfig())
    clients = [server.client() for _ in range(24)]
    try:
        for i, client in enumerate(clients):
            assert client.register(f"user{i}")[0].command == "001"
    finally:
        for client in clients:
            client.close()


def test_socket_empty_exempt_list_limits_loopback(make_server: MakeServer) -> None:
    """With nothing exempt, the 17th connection from 127.0.0.1 is refused."""
    server = make_server(CoreConfig(limits_exempt=()))
    clients = [server.client() for _ in range(16)]
    try:
        for i, client in enumerate(clients):
            assert client.register(f"user{i}")[0].command == "001"
        got = server.client().expect_closed()
        assert [m.command for m in got] == ["ERROR"]
        assert got[0].params[-1] == "Too many connections from your address (at most 16)"
    finally:
        for client in clients:
            client.close()


def test_serve_limits_exempt_flag(tmp_path: Path) -> None:
    """`easychat serve --limits-exempt ''` exempts nothing: the 17th is refused."""
    flags = ("--max-clients-per-ip", "16", "--limits-exempt", "")
    with server_process(tmp_path / "h.db", *flags) as proc:
        clients = [IRCClient(proc.port) for _ in range(16)]
        try:
            for i, client in enumerate(clients):
                assert client.register(f"user{i}")[0].command == "001"
            got = IRCClient(proc.port).expect_closed()
            assert got[0].params[-1] == "Too many connections from your address (at most 16)"
        finally:
            for client in clients:
                client.close()


def test_socket_concurrent_limit_sends_error_and_closes(make_server: MakeServer) -> None:
    """Over a real socket, the refused connection reads `ERROR :<reason>`, then EOF."""
    server = make_server(CoreConfig(max_clients_per_ip=2, limits_exempt=()))
    first, second = server.client(), server.client()
    first.register("first")
    second.register("second")
    third = server.client()
    got = third.expect_closed()
    assert [m.command for m in got] == ["ERROR"]
    assert got[0].params[-1] == "Too many connections from your address (at most 2)"
    first.send("QUIT")
    first.expect_closed()
    assert server.client().register("fourth")[0].command == "001"


def test_socket_connections_per_minute(make_server: MakeServer) -> None:
    """Connection number 4 within a minute from 127.0.0.1 is refused with a wait."""
    server = make_server(CoreConfig(connects_per_ip=3, limits_exempt=()))
    for _ in range(3):
        client = server.client()
        client.send("QUIT")
        client.expect_closed()
    got = server.client().expect_closed()
    assert [m.command for m in got] == ["ERROR"]
    assert got[0].params[-1].startswith("Connecting too often from your address, try again in")


def test_socket_failed_registrations(make_server: MakeServer) -> None:
    """Two refused NICKs with a limit of 2 close the connection; the next is refused."""
    server = make_server(CoreConfig(registration_failures_per_ip=2, limits_exempt=()))
    client = server.client()
    client.send("NICK 1bad")
    client.send("NICK 2bad")
    got = client.expect_closed()
    assert [m.command for m in got] == ["432", "432", "ERROR"]
    again = server.client().expect_closed()
    assert [m.command for m in again] == ["ERROR"]
    assert again[-1].params[-1].startswith("Too many failed registrations")


def test_socket_limits_off_serve_many_from_one_address(make_server: MakeServer) -> None:
    """With every per-IP limit at 0, 40 clients from 127.0.0.1 register."""
    server = make_server(
        CoreConfig(max_clients_per_ip=0, connects_per_ip=0, registration_failures_per_ip=0)
    )
    clients = [server.client() for _ in range(40)]
    for i, client in enumerate(clients):
        assert client.register(f"user{i}")[0].command == "001"
    for client in clients:
        client.close()
    assert_serves(server.port)

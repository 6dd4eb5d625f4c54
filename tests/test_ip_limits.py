"""Limits per IP address: connections at once, connections per minute, failed registrations."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.iplimits import CONNECT_WINDOW, FAILURE_WINDOW
from tests.chatcore_harness import CoreDriver, commands
from tests.ircclient import RunningServer
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
    drv = CoreDriver(CoreConfig(registration_failures_per_ip=2, autojoin=(), flood_rate=0))
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


# -- sockets ------------------------------------------------------------------------


def test_socket_concurrent_limit_sends_error_and_closes(make_server: MakeServer) -> None:
    """Over a real socket, the refused connection reads `ERROR :<reason>`, then EOF."""
    server = make_server(CoreConfig(max_clients_per_ip=2))
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
    server = make_server(CoreConfig(connects_per_ip=3))
    for _ in range(3):
        client = server.client()
        client.send("QUIT")
        client.expect_closed()
    got = server.client().expect_closed()
    assert [m.command for m in got] == ["ERROR"]
    assert got[0].params[-1].startswith("Connecting too often from your address, try again in")


def test_socket_failed_registrations(make_server: MakeServer) -> None:
    """Two refused NICKs with a limit of 2 close the connection; the next is refused."""
    server = make_server(CoreConfig(registration_failures_per_ip=2))
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

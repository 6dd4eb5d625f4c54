"""The client over the Unix socket: `unix:/path` addresses, the default, the app chatting."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.client.events import Registered
from easychat.client.session.session import Session
from easychat.net.client import ClientConnection, ConnectError, default_server, parse_address
from easychat.net.tls import ClientTLS
from easychat.store.clientlog import log_path
from easychat.tui.app import ClientSettings, EasyChatApp
from tests.apphelpers import SIZE, Peer, has_text, log_in, send_text, wait_for
from tests.test_unix_identity import ME, UnixServer

# Seconds a test may wait for the server before failing.
WAIT = 10.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[UnixServer]:
    running = UnixServer(tmp_path / "irc.sock")
    yield running
    running.stop()


def test_a_unix_address_is_a_path_after_unix_colon() -> None:
    assert parse_address("unix:/run/easychat/irc.sock") == ("unix:/run/easychat/irc.sock", 0)
    assert parse_address("  unix:/tmp/a b/irc.sock ") == ("unix:/tmp/a b/irc.sock", 0)
    for bad in ("unix:", "unix:relative/irc.sock"):
        with pytest.raises(ValueError, match="unix:/"):
            parse_address(bad)


def test_join_defaults_to_a_socket_that_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert default_server(tls=False, system="/nonexistent/irc.sock") == "127.0.0.1:6667"
    path = tmp_path / "easychat" / "irc.sock"
    path.parent.mkdir()
    path.write_text("not a socket")
    assert default_server(tls=False, system="/nonexistent/irc.sock") == "127.0.0.1:6667"
    path.unlink()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    try:
        assert default_server(tls=False, system="/nonexistent/irc.sock") == f"unix:{path}"
        assert default_server(tls=True, system="/nonexistent/irc.sock") == "127.0.0.1:6697"
        monkeypatch.delenv("XDG_RUNTIME_DIR")
        # No personal socket: a host-wide server's socket, when there.
        assert default_server(tls=False, system=str(path)) == f"unix:{path}"
    finally:
        listener.close()


def test_each_unix_socket_has_its_own_local_log(tmp_path: Path) -> None:
    first = log_path(tmp_path, "unix:/run/user/1000/easychat/irc.sock", 0)
    second = log_path(tmp_path, "unix:/run/easychat/irc.sock", 0)
    assert first.parent == second.parent == tmp_path
    assert first != second
    assert first.name == "unix_run_user_1000_easychat_irc.sock.sqlite3"


async def test_a_connection_over_the_unix_socket_registers(server: UnixServer) -> None:
    connection = await ClientConnection.open(f"unix:{server.path}", 0)
    session = Session("Local")
    try:
        connection.send(session.start())
        async with asyncio.timeout(WAIT):
            async for msg in connection.messages():
                events = session.feed(msg)
                connection.send(session.take_outgoing())
                if any(isinstance(event, Registered) for event in events):
                    break
        assert session.account == ME
    finally:
        await connection.close()


async def test_connect_errors_name_the_socket(tmp_path: Path) -> None:
    missing = tmp_path / "none.sock"
    with pytest.raises(ConnectError, match=f"No server at unix:{missing}"):
        await ClientConnection.open(f"unix:{missing}", 0)
    with pytest.raises(ConnectError, match="TLS"):
        await ClientConnection.open(f"unix:{missing}", 0, tls=ClientTLS())


async def test_the_app_chats_over_the_unix_socket(server: UnixServer, tmp_path: Path) -> None:
    doe = Peer(server.port, "Doe")
    await doe.register()
    settings = ClientSettings(nick="Local", server=f"unix:{server.path}", log_dir=tmp_path)
    app = EasyChatApp(settings)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await log_in(pilot, app)
            assert app.session is not None
            assert app.session.account == ME
            await send_text(pilot, "hello over the socket")
            msg = await doe.privmsg("#lobby", "hello over the socket")
            assert msg.source == f"Local!{ME[:18]}@unix"
            await doe.send("PRIVMSG #lobby :hello back over TCP")
            lobby = screen.conversations.current
            await wait_for(pilot, lambda: has_text(lobby, "hello back over TCP"))
        logs = list(tmp_path.glob("unix_*.sqlite3"))
        assert len(logs) == 1
    finally:
        doe.close()

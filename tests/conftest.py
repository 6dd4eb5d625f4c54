"""Shared fixtures: a live server on a loopback port and clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from easychat.chat.config import CoreConfig
from tests.ircclient import IRCClient, RunningServer

if TYPE_CHECKING:
    from tests.apphelpers import Peer


@pytest.fixture
def make_server() -> Iterator[Callable[..., RunningServer]]:
    """Starts servers with the given CoreConfig; stops them after the test."""
    servers: list[RunningServer] = []

    def start(config: CoreConfig | None = None, **kwargs: Any) -> RunningServer:
        server = RunningServer(config, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., RunningServer]) -> RunningServer:
    """A server on its defaults (autojoin #lobby)."""
    return make_server()


@pytest.fixture
def connect(server: RunningServer) -> Iterator[Callable[[], IRCClient]]:
    """Opens raw connections to `server`; closes them after the test."""
    clients: list[IRCClient] = []

    def open_client() -> IRCClient:
        client = server.client()
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


@pytest.fixture
def peers(server: RunningServer) -> Iterator[Callable[[str], Peer]]:
    """Opens other people's connections to `server` (app tests); closes them after the test."""
    from tests.apphelpers import Peer  # Textual: loaded only by the app tests

    opened: list[Peer] = []

    def open_peer(nick: str) -> Peer:
        peer = Peer(server.port, nick)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        peer.close()

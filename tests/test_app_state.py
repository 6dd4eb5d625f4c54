"""App tests for state that must be right: nicks, rooms, read positions across reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from easychat.client.events import LineKind
from tests.apphelpers import (
    SIZE,
    Peer,
    has_text,
    log_in,
    make_app,
    send_text,
    wait_for,
)
from tests.ircclient import RunningServer

# Longest wait for a reconnect: the first backoff step is about a second.
RECONNECT = 10.0


@pytest.fixture
def peers(server: RunningServer) -> Iterator[Callable[[str], Peer]]:
    """Opens other people's connections to `server`; closes them after the test."""
    opened: list[Peer] = []

    def open_peer(nick: str) -> Peer:
        peer = Peer(server.port, nick)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        peer.close()


async def test_refused_nick_is_not_used_on_reconnect(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Item 15: after `/nick Doe` fails with 433, a reconnect registers as John, not Doe."""
    first = make_server()
    port = first.port
    doe = Peer(port, "Doe")
    await doe.register()
    app = make_app(port, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await log_in(pilot, app)
            lobby = screen.conversations.current
            await send_text(pilot, "/nick Doe")
            await wait_for(pilot, lambda: has_text(lobby, "already in use"), what="the 433")
            await asyncio.to_thread(first.stop)
            doe.close()  # the real Doe is away when John comes back
            await wait_for(pilot, lambda: has_text(lobby, "Reconnecting"), what="the drop")
            make_server(port=port)
            await wait_for(pilot, lambda: has_text(lobby, "Reconnected"), timeout=RECONNECT)
            assert app.session is not None
            assert app.session.nick == "John"
            assert screen.nick == "John"
    finally:
        doe.close()


async def test_accepted_nick_change_is_announced_and_kept(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Item 15: an accepted /nick is said in the chat and is the nick a reconnect asks for."""
    first = make_server()
    port = first.port
    app = make_app(port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await send_text(pilot, "/nick Johnny")
        await wait_for(pilot, lambda: screen.nick == "Johnny", what="the new nick")
        assert has_text(lobby, "You are now known as Johnny")
        await asyncio.to_thread(first.stop)
        await wait_for(pilot, lambda: has_text(lobby, "Reconnecting"), what="the drop")
        make_server(port=port)
        await wait_for(pilot, lambda: has_text(lobby, "Reconnected"), timeout=RECONNECT)
        assert app.session is not None
        assert app.session.nick == "Johnny"
        assert next(line.kind for line in lobby.lines if "Johnny" in line.text) is LineKind.EVENT

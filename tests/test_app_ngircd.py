"""The client against ngircd, a real IRC server nobody here wrote."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from easychat.client.events import LineKind
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.screens.chat import ChatScreen
from tests.ircclient import IRCClient
from tests.ngircd import ngircd

__all__ = ["ngircd"]  # the fixture, imported so pytest sees it here

TIMEOUT = 10.0


async def wait_for(pilot: object, what: str, predicate: Callable[[], bool]) -> None:
    """Lets the app run until `predicate()` holds, or fails saying `what`."""
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)  # type: ignore[attr-defined]


async def test_login_send_receive_against_ngircd(ngircd: int, tmp_path: Path) -> None:
    """Log in to ngircd, join a room, send a message and receive a reply."""
    app = EasyChatApp(ClientSettings(nick="John", server=f"127.0.0.1:{ngircd}", log_dir=tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, "the chat screen", lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        texts = [line.text for line in chat.conversations.current.lines]
        assert any("Welcome to the Internet Relay Network" in t for t in texts)

        chat.prefill("/join #lobby")
        await pilot.press("enter")
        await wait_for(pilot, "#lobby", lambda: chat.conversations.current.name == "#lobby")

        doe = IRCClient(ngircd)
        try:
            await asyncio.to_thread(doe.register, "Doe", False)
            doe.send("JOIN #lobby")
            await asyncio.to_thread(doe.expect, "366")
            await wait_for(
                pilot,
                "Doe's join",
                lambda: any(m.nick == "Doe" for m in app.session.members("#lobby")),  # type: ignore[union-attr]
            )

            chat.prefill("Hello Doe, this is John")
            await pilot.press("enter")
            got = await asyncio.to_thread(doe.expect, "PRIVMSG")
            assert got.nick == "John"
            assert got.params == ("#lobby", "Hello Doe, this is John")

            doe.send("PRIVMSG #lobby :Fine. Let's go to San Francisco")
            lobby = chat.conversations.get("#lobby")
            assert lobby is not None
            await wait_for(
                pilot,
                "Doe's message",
                lambda: any(
                    line.kind is LineKind.MESSAGE
                    and line.sender == "Doe"
                    and line.text == "Fine. Let's go to San Francisco"
                    for line in lobby.lines
                ),
            )
        finally:
            doe.close()

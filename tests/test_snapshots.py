"""Snapshots of the main screens (pytest-textual-snapshot); look at the SVG before updating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from easychat.client.conversations import ConversationKind
from easychat.client.events import Line, LineKind
from easychat.client.session.session import Member
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.screens.chat import ChatScreen

SIZE = (100, 30)
SnapCompare = Callable[..., bool]
T0 = 1_790_000_000.0


def settings() -> ClientSettings:
    return ClientSettings(nick="John", server="127.0.0.1:6667", log_enabled=False)


def still(app: EasyChatApp) -> None:
    """No blinking cursor: the same screen renders the same SVG every time."""
    for field in app.screen.query(Input):
        field.cursor_blink = False


async def quiet(pilot: Pilot[Any]) -> None:
    still(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()


def test_login_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(EasyChatApp(settings()), terminal_size=SIZE, run_before=quiet)


def test_login_screen_with_an_error(snap_compare: SnapCompare) -> None:
    async def refused(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EasyChatApp)
        app.login.show_error("Connection refused by 127.0.0.1:6667: is the server running?")
        await quiet(pilot)

    assert snap_compare(EasyChatApp(settings()), terminal_size=SIZE, run_before=refused)


def test_chat_screen_with_messages(snap_compare: SnapCompare) -> None:
    async def chatting(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EasyChatApp)
        screen = ChatScreen("127.0.0.1:6667", "John", timestamps=False)
        await app.push_screen(screen)
        screen.open_conversation("#lobby", ConversationKind.ROOM, [], focus=True)
        screen.open_conversation("#dev", ConversationKind.ROOM, [], focus=False)
        lines = [
            (LineKind.INFO, "", "Welcome to Easy Chat! You are customer number 1", False, False),
            (LineKind.EVENT, "John", "You joined #lobby", False, False),
            (LineKind.EVENT, "Doe", "Doe joined #lobby", False, False),
            (LineKind.MESSAGE, "Doe", "Hello John, how are you?", False, True),
            (LineKind.MESSAGE, "John", "Fine. Let's go to San Francisco", True, False),
            (LineKind.ACTION, "Doe", "packs a [bold]suitcase[/bold]", False, False),
        ]
        for i, (kind, sender, text, own, mention) in enumerate(lines):
            screen.add_line(Line("#lobby", kind, sender, text, T0 + i, own, mention))
        screen.add_line(Line("#dev", LineKind.MESSAGE, "Roe", "build is green", T0 + 9))
        screen.set_members("#lobby", [Member("John", "@"), Member("Doe")])
        screen.set_topic("#lobby", "Everyone lands here")
        await quiet(pilot)

    assert snap_compare(EasyChatApp(settings()), terminal_size=SIZE, run_before=chatting)

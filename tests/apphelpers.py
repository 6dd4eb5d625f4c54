"""Provides helpers for the Textual app tests: waiting on the UI, logging in, a peer client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList, Static

from easychat.client.conversations import Conversation
from easychat.proto.message import Message, parse
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.login import LoginScreen
from easychat.tui.widgets.log import ChatLog
from tests.ircclient import IRCClient

# Terminal size for every app test: wide enough for the side lists and the input bar.
SIZE = (120, 36)

# Longest wait for anything the app does against a loopback server.
WAIT = 5.0


async def wait_for(
    pilot: Pilot[None], predicate: Callable[[], object], timeout: float = WAIT, what: str = ""
) -> None:
    """Lets the app run until `predicate()` is true; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            name = what or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(f"timed out after {timeout} s waiting for {name}")
        await pilot.pause(0.02)


def make_app(port: int, log_dir: Path, nick: str = "John") -> EasyChatApp:
    """An app with its login fields filled for a server on 127.0.0.1:`port`."""
    return EasyChatApp(ClientSettings(nick=nick, server=f"127.0.0.1:{port}", log_dir=log_dir))


def login_screen(app: EasyChatApp) -> LoginScreen:
    """The active screen, which must be the login screen."""
    screen = app.screen
    assert isinstance(screen, LoginScreen), f"expected the login screen, got {screen!r}"
    return screen


def chat_screen(app: EasyChatApp) -> ChatScreen:
    """The active screen, which must be the chat screen."""
    screen = app.screen
    assert isinstance(screen, ChatScreen), f"expected the chat screen, got {screen!r}"
    return screen


def login_error(app: EasyChatApp) -> str:
    """The text of the login screen's error line."""
    return str(login_screen(app).query_one("#login-error", Static).render())


def field(app: EasyChatApp, selector: str) -> Input:
    """An input of the active screen."""
    found: Input = app.screen.query_one(selector, Input)
    return found


def button(app: EasyChatApp, selector: str) -> Button:
    """A button of the active screen."""
    found: Button = app.screen.query_one(selector, Button)
    return found


def texts(conv: Conversation) -> list[str]:
    """The texts of a conversation's lines, oldest first."""
    return [line.text for line in conv.lines]


def has_text(conv: Conversation, text: str) -> bool:
    """Whether some line of `conv` contains `text`."""
    return any(text in line.text for line in conv.lines)


def list_entries(screen: ChatScreen, selector: str) -> list[str]:
    """The entries of a side list (`#conversations` or `#members`) as shown."""
    side = screen.query_one(selector, OptionList)
    return [str(side.get_option_at_index(i).prompt) for i in range(side.option_count)]


def log_text(screen: ChatScreen) -> list[str]:
    """The rows of the message log at its width, as plain text (wrapped lines: several)."""
    log = screen.query_one("#log", ChatLog)
    return log.rows_text()


async def log_in(pilot: Pilot[None], app: EasyChatApp) -> ChatScreen:
    """Clicks Login and waits for the chat screen with #lobby open and current."""
    await pilot.click("#login")
    return await in_lobby(pilot, app)


async def in_lobby(pilot: Pilot[None], app: EasyChatApp) -> ChatScreen:
    """Waits for the chat screen with #lobby open, current and its member list known."""
    await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
    screen = chat_screen(app)

    def in_lobby() -> bool:
        room = app.session.room("#lobby") if app.session is not None else None
        return (
            screen.conversations.current.name == "#lobby" and room is not None and room.names_done
        )

    await wait_for(pilot, in_lobby, what="#lobby to open")
    return screen


async def send_text(pilot: Pilot[None], text: str, via: str = "enter") -> None:
    """Puts `text` in the message field and sends it with Enter or the Send button."""
    message = pilot.app.screen.query_one("#message", Input)
    message.focus()
    message.value = text
    message.cursor_position = len(text)
    if via == "enter":
        await pilot.press("enter")
    else:
        await pilot.click("#send")
    await pilot.pause()


class Peer:
    """Another person: a blocking IRCClient driven from async tests through threads."""

    def __init__(self, port: int, nick: str) -> None:
        self.client = IRCClient(port)
        self.nick = nick

    async def register(self) -> None:
        """Registers and waits for the autojoin of #lobby."""
        await asyncio.to_thread(self.client.register, self.nick)

    async def send(self, line: str) -> None:
        """Sends one raw line."""
        await asyncio.to_thread(self.client.send, line)

    async def expect(
        self,
        command: str | tuple[str, ...],
        where: Callable[[Message], bool] | None = None,
        timeout: float = WAIT,
    ) -> Message:
        """Waits (in a thread) for a message; see IRCClient.expect."""
        return await asyncio.to_thread(self.client.expect, command, where, timeout)

    async def privmsg(self, target: str, text: str, timeout: float = WAIT) -> Message:
        """Waits for a PRIVMSG to `target` whose text contains `text`."""
        return await self.expect(
            "PRIVMSG", lambda m: m.params[0] == target and text in m.params[-1], timeout
        )

    async def raw_privmsgs(
        self, target: str, count: int, timeout: float = WAIT
    ) -> list[tuple[bytes, Message]]:
        """The next `count` PRIVMSGs to `target`, each with its raw line as received."""
        return await asyncio.to_thread(self._raw_privmsgs, target, count, timeout)

    def _raw_privmsgs(self, target: str, count: int, timeout: float) -> list[tuple[bytes, Message]]:
        deadline = time.monotonic() + timeout
        found: list[tuple[bytes, Message]] = []
        while len(found) < count:
            line = self.client.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise ConnectionError(f"closed after {len(found)} of {count} PRIVMSGs")
            msg = parse(line.decode(), strict=False)
            if msg.command == "PRIVMSG" and msg.params[0] == target:
                found.append((line + b"\r\n", msg))
        return found

    def close(self) -> None:
        """Closes the connection."""
        self.client.close()

"""The message log in the real app: wrapping at the current width, re-wrapping, its cost."""

from __future__ import annotations

import time

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.scroll_view import ScrollView

from easychat.client.conversations import ConversationKind
from easychat.client.events import Line, LineKind
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.chat import ChatScreen

# Forty numbered words: far wider than any log at 80 or 120 columns.
WORDS = [f"w{i:02d}" for i in range(40)]
LONG = " ".join(WORDS)


def settings() -> ClientSettings:
    return ClientSettings(nick="John", server="127.0.0.1:6667", log_enabled=False)


async def chat(pilot: Pilot[None], history: list[Line] | None = None) -> ChatScreen:
    """A chat screen on the app with #lobby open and current."""
    app = pilot.app
    assert isinstance(app, EasyChatApp)
    screen = ChatScreen("127.0.0.1:6667", "John")
    await app.push_screen(screen)
    screen.open_conversation("#lobby", ConversationKind.ROOM, history or [], focus=True)
    await pilot.pause()
    return screen


def log_of(screen: ChatScreen) -> ScrollView:
    log = screen.query_one("#log")
    assert isinstance(log, ScrollView)
    return log


def visible(screen: ChatScreen) -> list[str]:
    """The rows the log shows on screen now, as plain text, right spaces trimmed."""
    log = log_of(screen)
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


def line(text: str, sender: str = "Doe", when: float | None = None) -> Line:
    return Line("#lobby", LineKind.MESSAGE, sender, text, time.time() if when is None else when)


def assert_wrapped(screen: ChatScreen, prefix_len: int) -> None:
    """The long line shows whole: every word, in order, within the log, continuation indented."""
    log = log_of(screen)
    width = log.scrollable_content_region.width
    rows = visible(screen)
    start = next(i for i, row in enumerate(rows) if "<Doe> w00" in row)
    shown: list[str] = []
    for i, row in enumerate(rows[start:]):
        if i and not row.startswith(" " * prefix_len):
            break
        assert cell_len(row) <= width, (row, width)
        if i:
            assert row[prefix_len] != " ", f"continuation not aligned under the text: {row!r}"
        shown.extend(row[prefix_len:].split())
    assert shown == WORDS, rows
    assert len(rows[start:]) > 1
    assert log.virtual_size.width <= width  # nothing to scroll sideways
    assert not log.show_horizontal_scrollbar


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_a_long_line_wraps_whole_with_a_hanging_indent(size: tuple[int, int]) -> None:
    """Item 9: every word of a long line is on screen, continuation rows under the text."""
    app = EasyChatApp(settings())
    async with app.run_test(size=size) as pilot:
        screen = await chat(pilot)
        screen.add_line(line(LONG))
        await pilot.pause()
        assert_wrapped(screen, len("12:34 <Doe> "))


async def test_a_resize_rewraps_live_and_history_lines() -> None:
    """Item 9: after a resize, both history and live lines wrap at the new width."""
    app = EasyChatApp(settings())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await chat(pilot, history=[line(LONG, when=time.time() - 60)])
        assert_wrapped(screen, len("12:34 <Doe> "))
        wide_rows = len(visible(screen))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert_wrapped(screen, len("12:34 <Doe> "))
        screen.add_line(line("after the resize"))
        await pilot.pause()
        assert any("<Doe> after the resize" in row for row in visible(screen))
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert_wrapped(screen, len("12:34 <Doe> "))
        assert len(visible(screen)) == wide_rows

"""The message log in the real app: wrapping at the current width, re-wrapping, its cost."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.geometry import Offset
from textual.pilot import Pilot
from textual.scroll_view import ScrollView
from textual.selection import Selection

from easychat.client import conversations
from easychat.client.conversations import ConversationKind
from easychat.client.events import Line, LineKind
from easychat.tui.app import HISTORY_PAGE, ClientSettings, EasyChatApp
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.widgets.log import FLUSH_DELAY, MAX_ENTRIES, ChatLog
from tests.apphelpers import SIZE, Peer, log_in, make_app, wait_for
from tests.ircclient import RunningServer
from tests.nolimits import unlimited

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


def log_widget(screen: ChatScreen) -> ChatLog:
    return screen.query_one("#log", ChatLog)


async def test_a_burst_wraps_only_what_is_in_view_and_holds_at_most_the_cap() -> None:
    """Item 11: 20,000 lines cost one layout, wrap a screenful, and are capped in memory."""
    app = EasyChatApp(settings())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await chat(pilot)
        log = log_widget(screen)
        height = log.scrollable_content_region.height
        wraps, flushes = log.wraps, log.flushes
        for i in range(20_000):
            screen.add_line(line(f"burst {i}"))
        await pilot.pause(FLUSH_DELAY * 3)
        assert visible(screen)[-1].endswith("<Doe> burst 19999")
        assert log.flushes - flushes == 1  # one frame drew the whole burst
        assert log.wraps - wraps <= 2 * height  # not 20,000
        assert log.line_count <= MAX_ENTRIES
        # More lines, a frame at a time: each frame wraps about what it shows.
        for chunk in range(10):
            wraps = log.wraps
            for i in range(100):
                screen.add_line(line(f"more {chunk} {i}"))
            await pilot.pause(FLUSH_DELAY * 3)
            assert log.wraps - wraps <= 2 * height
            assert visible(screen)[-1].endswith(f"<Doe> more {chunk} 99")
        assert log.line_count <= MAX_ENTRIES


async def test_a_scrolled_up_log_stays_put_and_follows_again_at_the_bottom() -> None:
    """Item 11: new lines do not move a view the user scrolled up; at the bottom it follows."""
    app = EasyChatApp(settings())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await chat(pilot)
        before = MAX_ENTRIES // 2
        for i in range(before):
            screen.add_line(line(f"before {i}"))
        await pilot.pause(FLUSH_DELAY * 3)
        log = log_widget(screen)
        log.focus()
        await pilot.press("pageup", "pageup")
        await pilot.pause()
        shown = visible(screen)
        assert not any(f"before {before - 1}" in row for row in shown)
        # Enough to push the oldest lines (not those in view) out of the log.
        for i in range(MAX_ENTRIES - before + 100):
            screen.add_line(line(f"after {i}"))
        await pilot.pause(FLUSH_DELAY * 3)
        assert visible(screen) == shown
        assert log.line_count < MAX_ENTRIES
        await pilot.press("end")
        await pilot.pause(FLUSH_DELAY * 3)
        screen.add_line(line("newest"))
        await pilot.pause(FLUSH_DELAY * 3)
        assert visible(screen)[-1].endswith("<Doe> newest")


async def test_lines_dropped_from_memory_page_back_from_the_local_log(
    make_server: Callable[..., RunningServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 11: past the in-memory cap, scrolling to the top reloads lines from the local log.

    The server keeps no history here, so only the local log can have them.
    """
    monkeypatch.setattr(conversations, "SCROLLBACK_LINES", 30)
    server = make_server(unlimited())
    doe = Peer(server.port, "Doe")
    try:
        await doe.register()
        app = make_app(server.port, tmp_path / "logs")
        async with app.run_test(size=SIZE) as pilot:
            screen = await log_in(pilot, app)
            lobby = screen.conversations.current
            said = [f"n {i:03d}" for i in range(HISTORY_PAGE + 40)]
            for text in said:
                await doe.send(f"PRIVMSG #lobby :{text}")
            await wait_for(pilot, lambda: lobby.lines[-1].text == said[-1], what="the last line")
            assert len(lobby.lines) == 30  # the older ones left memory
            log = log_widget(screen)
            log.focus()

            def shown() -> list[str]:
                return [x.text for x in [*lobby.history, *lobby.lines] if x.sender == "Doe"]

            for _ in range(20):
                if shown() == said:
                    break
                await pilot.press("home")
                await pilot.pause(FLUSH_DELAY * 3)
            assert shown() == said
            assert any(row.endswith("<Doe> n 000") for row in log.rows_text())
    finally:
        doe.close()


async def test_a_day_changed_line_divides_history_of_another_day() -> None:
    """Item 22: yesterday's lines show their date; a "Day changed" line comes before today's."""
    now = time.time()
    yesterday = now - 86400
    app = EasyChatApp(settings())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await chat(pilot, history=[line("from yesterday", when=yesterday)])
        screen.add_line(line("from today", when=now))
        await pilot.pause(FLUSH_DELAY * 3)
        rows = log_widget(screen).rows_text()
        old = next(i for i, row in enumerate(rows) if row.endswith("<Doe> from yesterday"))
        assert rows[old].startswith(time.strftime("%m-%d ", time.localtime(yesterday)))
        new = next(i for i, row in enumerate(rows) if row.endswith("<Doe> from today"))
        changed = time.strftime("Day changed to %d %b %Y", time.localtime(now))
        assert changed in rows[old:new]
        assert rows[new].startswith(time.strftime("%H:%M <Doe>", time.localtime(now)))


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_wide_characters_and_emoji_wrap_inside_the_border(size: tuple[int, int]) -> None:
    """Item 23: CJK and emoji (two cells each) never push a row past the log's edge."""
    app = EasyChatApp(settings())
    async with app.run_test(size=size) as pilot:
        screen = await chat(pilot)
        text = "x" + "漢字😀" * 40  # odd start: a wide character would straddle the edge
        screen.add_line(line(text))
        screen.add_line(line("after"))
        await pilot.pause(FLUSH_DELAY * 3)
        log = log_widget(screen)
        width = log.scrollable_content_region.width
        for y in range(log.scrollable_content_region.height):
            assert log.render_line(y).cell_length == width
        rows = visible(screen)
        start = next(i for i, row in enumerate(rows) if "<Doe> x" in row)
        end = next(i for i, row in enumerate(rows) if "<Doe> after" in row)
        prefix = len("12:34 <Doe> ")
        assert "".join(row[prefix:] for row in rows[start:end]) == text
        assert all(cell_len(row) <= width for row in rows)


async def test_formatting_and_links_reach_the_screen() -> None:
    """Item 23: a bold run is drawn bold, a URL carries its link, the codes are gone."""
    app = EasyChatApp(settings())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await chat(pilot)
        screen.add_line(line("\x02loud\x02 quiet https://example.org/x"))
        await pilot.pause(FLUSH_DELAY * 3)
        log = log_widget(screen)
        rows = visible(screen)
        y = next(i for i, row in enumerate(rows) if "<Doe> loud quiet" in row)
        segments = list(log.render_line(y))
        loud = next(s for s in segments if "loud" in s.text)
        quiet = next(s for s in segments if "quiet" in s.text)
        url = next(s for s in segments if "example.org" in s.text)
        assert loud.style is not None
        assert loud.style.bold
        assert quiet.style is None or not quiet.style.bold
        assert url.style is not None
        assert url.style.link == "https://example.org/x"


async def test_clicking_a_link_opens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 23: a click on a URL asks the app to open it (the browser is replaced here)."""
    opened: list[str] = []
    monkeypatch.setattr(EasyChatApp, "open_url", lambda self, url, **_: opened.append(url))
    app = EasyChatApp(settings())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await chat(pilot)
        screen.add_line(line("look https://example.org/x here"))
        await pilot.pause(FLUSH_DELAY * 3)
        log = log_widget(screen)
        rows = visible(screen)
        y = next(i for i, row in enumerate(rows) if "https://" in row)
        x = rows[y].index("https://") + 3
        offset = log.scrollable_content_region.offset - log.region.offset
        await pilot.click("#log", offset=(offset.x + x, offset.y + y))
        await pilot.pause()
        assert opened == ["https://example.org/x"]


async def test_page_up_to_the_top_and_page_down_back_to_the_bottom() -> None:
    """PageUp/PageDown (from the message field) walk the whole log, wrapped lines included."""
    app = EasyChatApp(settings())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await chat(pilot)
        for i in range(20):  # about ten pages
            screen.add_line(line(f"short {i}"))
            screen.add_line(line(f"long {i} {LONG}"))
        await pilot.pause(FLUSH_DELAY * 3)
        log = log_widget(screen)
        pages = 0
        while log.scroll_y > 0:
            await pilot.press("pageup")
            await pilot.pause()
            pages += 1
            assert pages < 200
        assert any("<Doe> short 0" in row for row in visible(screen))
        for _ in range(pages + 1):
            await pilot.press("pagedown")
            await pilot.pause()
        assert visible(screen)[-1].endswith(WORDS[-1])
        assert log.scroll_y == log.max_scroll_y
        screen.add_line(line("newest"))
        await pilot.pause(FLUSH_DELAY * 3)
        assert visible(screen)[-1].endswith("<Doe> newest")


async def test_selected_text_is_highlighted_and_copied() -> None:
    """Dragging over the log selects its text (what Textual copies) and shows the selection."""
    app = EasyChatApp(settings())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await chat(pilot)
        screen.add_line(line("copy this please"))
        await pilot.pause(FLUSH_DELAY * 3)
        log = log_widget(screen)
        rows = log.rows_text()
        row = next(i for i, text in enumerate(rows) if text.endswith("<Doe> copy this please"))
        start = rows[row].index("this")
        chosen = Selection(Offset(start, row), Offset(start + len("this"), row))
        extracted = log.get_selection(chosen)
        assert extracted is not None
        assert extracted[0] == "this"
        screen.selections = {log: chosen}
        await pilot.pause()
        y = next(i for i, text in enumerate(visible(screen)) if "copy this" in text)
        selected = app.screen.get_component_rich_style("screen--selection")
        segments = list(log.render_line(y))
        marked = "".join(
            s.text for s in segments if s.style and s.style.bgcolor == selected.bgcolor
        )
        assert marked == "this"

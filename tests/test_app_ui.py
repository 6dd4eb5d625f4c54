"""App tests of the chat screen's layout, dialogs and keys, against a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual._xterm_parser import XTermParser
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, OptionList, Static, TextArea

from easychat.cli.commands import build_parser
from easychat.cli.join import JOIN_OPTIONS, client_settings
from easychat.cli.settings import resolve
from easychat.client.conversations import Conversation, ConversationKind, Paging
from easychat.client.session.session import Member
from easychat.store.history import SQLiteHistory
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.keys import read_esc_digit_as_alt
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.dialogs import LeaveDialog, PasteDialog
from easychat.tui.screens.login import LoginScreen
from easychat.tui.screens.scrollback import Place
from easychat.tui.widgets.input import PASTE_CONFIRM_LINES
from easychat.tui.widgets.log import ChatLog
from tests.apphelpers import SIZE, Peer, field, log_in, make_app, send_text, wait_for
from tests.ircclient import RunningServer


@pytest.fixture
def history_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server keeping history in tmp_path (so it offers draft/chathistory)."""
    store = SQLiteHistory(tmp_path / "history.sqlite3")
    server = RunningServer(history=store)
    yield server
    server.stop()
    store.close()


async def dialog(pilot: Pilot[None], kind: type[Screen[Any]]) -> None:
    """Waits until a dialog of `kind` is on top and laid out (its buttons can be clicked)."""

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, kind) and all(b.region.area > 0 for b in screen.query(Button))

    await wait_for(pilot, shown, what=kind.__name__)


async def test_long_paste_asks_before_sending(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """A paste of more than PASTE_CONFIRM_LINES lines asks first, as irssi does.

    Cancel keeps the field as it was and sends nothing; Send sends every
    line (also after editing them in the dialog), in order.
    """
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    lines = [f"line {i}" for i in range(12)]
    assert len(lines) > PASTE_CONFIRM_LINES
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, app)
        message = field(app, "#message")
        message.value = "kept"
        message.cursor_position = 4
        message.post_message(events.Paste("\n".join(lines)))
        await dialog(pilot, PasteDialog)
        assert str(app.screen.query_one("#paste-question", Static).render()) == (
            "Send 12 lines to #lobby?"
        )
        await pilot.click("#paste-cancel")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat")
        assert field(app, "#message").value == "kept"

        message = field(app, "#message")
        message.value = ""
        message.post_message(events.Paste("\n".join(lines)))
        await dialog(pilot, PasteDialog)
        question = app.screen.query_one("#paste-question", Static)
        edited = [*lines[:-1], "line 11, edited"]
        app.screen.query_one("#paste-text", TextArea).text = "\n".join(edited)
        await pilot.pause()
        assert str(question.render()) == "Send 12 lines to #lobby?"
        await pilot.click("#paste-send")
        received = await doe.raw_privmsgs("#lobby", len(lines))
        assert [msg.params[1] for _, msg in received] == edited
        assert field(app, "#message").value == ""


def join_settings(argv: list[str], environ: dict[str, str]) -> dict[str, Any]:
    return resolve(build_parser().parse_args(["join", *argv]), JOIN_OPTIONS, environ)


def test_no_mouse_setting(tmp_path: Path) -> None:
    """--no-mouse, EASYCHAT_NO_MOUSE and `no-mouse` in the TOML file; the mouse is on by default."""
    assert join_settings([], {})["no_mouse"] is False
    assert join_settings(["--no-mouse"], {})["no_mouse"] is True
    assert join_settings([], {"EASYCHAT_NO_MOUSE": "1"})["no_mouse"] is True
    toml = tmp_path / "client.toml"
    toml.write_text("no-mouse = true\n")
    assert join_settings(["--config", str(toml)], {})["no_mouse"] is True
    assert join_settings(["--config", str(toml)], {"EASYCHAT_NO_MOUSE": "0"})["no_mouse"] is False
    args = build_parser().parse_args(["join", "--no-mouse"])
    assert client_settings(resolve(args, JOIN_OPTIONS, {}), args).mouse is False
    args = build_parser().parse_args(["join"])
    assert client_settings(resolve(args, JOIN_OPTIONS, {}), args).mouse is True


async def test_home_in_an_empty_field_goes_to_the_top_of_the_log(
    history_server: RunningServer, tmp_path: Path
) -> None:
    """Home in the empty field, or Ctrl+Home anywhere, scrolls the log to its top.

    Reaching the top asks for the page before, as PageUp does; Home in a
    field with text moves the cursor to its start.
    """
    app = make_app(history_server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        loading: list[str] = []  # conversations that started loading earlier lines
        show_paging = screen.show_paging

        def record(conv: Conversation, place: Place) -> None:
            if conv.paging is Paging.LOADING:
                loading.append(conv.name)
            show_paging(conv, place)

        screen.show_paging = record  # type: ignore[method-assign]
        for i in range(80):
            screen.show_info(f"filler {i}")
        log = screen.query_one("#log", ChatLog)
        await wait_for(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y)
        message = field(app, "#message")
        message.value = "some text"
        await pilot.press("home")
        await wait_for(pilot, lambda: message.cursor_position == 0, what="the start of the text")
        assert log.scroll_y == log.max_scroll_y  # the field's Home, not the log's
        message.value = ""
        await pilot.press("home")
        await wait_for(pilot, lambda: log.scroll_y == 0, what="the top (Home)")
        await wait_for(pilot, lambda: loading == ["#lobby"], what="a request for earlier lines")
        log.scroll_end(animate=False)
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y, what="the end")
        message.value = "some text"
        await pilot.press("ctrl+home")
        await wait_for(pilot, lambda: log.scroll_y == 0, what="the top (Ctrl+Home)")
        assert message.value == "some text"


def look(widget: Widget) -> tuple[object, ...]:
    """What tells a focused widget apart beyond a tint: its border and text style."""
    styles = widget.styles
    return (
        styles.border_top,
        styles.border_bottom,
        styles.border_left,
        styles.border_right,
        styles.text_style,
    )


async def test_focus_is_always_visible(server: RunningServer, tmp_path: Path) -> None:
    """Every widget Tab reaches looks different (border or text style) while it has the focus."""
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        chain = list(screen.focus_chain)
        assert {w.id for w in chain} >= {"conversations", "members", "leave", "message", "send"}
        for widget in chain:
            screen.set_focus(None)
            await pilot.pause()
            unfocused = look(widget)
            widget.focus()
            await pilot.pause()
            assert look(widget) != unfocused, f"focus on #{widget.id} does not show"


async def test_leave_from_the_keyboard_asks_first(server: RunningServer, tmp_path: Path) -> None:
    """Shift+Tab to Leave and Enter asks before disconnecting; No stays, Yes leaves."""
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, app)
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "leave")
        await pilot.press("enter")
        await dialog(pilot, LeaveDialog)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat again")
        assert app.connection is not None
        await pilot.press("enter")
        await dialog(pilot, LeaveDialog)
        await pilot.click("#leave-yes")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        assert app.connection is None


async def small_log_in(pilot: Pilot[None], app: EasyChatApp) -> ChatScreen:
    """log_in once the login form has taken its compact shape (after the first refresh)."""
    await pilot.pause()
    return await log_in(pilot, app)


def shown(screen: ChatScreen, selector: str) -> bool:
    """Whether a widget of the screen takes room on it."""
    widget = screen.query_one(selector)
    return widget.display and widget.region.width > 0


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((120, 36), (True, True, 120 - 22 - 20)),
        ((100, 30), (True, True, 100 - 22 - 20)),
        ((80, 24), (True, False, 80 - 16)),
        ((60, 20), (False, False, 60)),
    ],
)
async def test_side_lists_shrink_and_hide_on_small_terminals(
    server: RunningServer, tmp_path: Path, size: tuple[int, int], expected: tuple[bool, bool, int]
) -> None:
    """At 80 columns the conversation list narrows and the members hide; at 60 both hide.

    `expected`: (conversations shown, members shown, the log's width).
    """
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await small_log_in(pilot, app)
        conversations, members, log_width = expected

        def laid_out() -> bool:
            return (
                shown(screen, "#conversations") is conversations
                and shown(screen, "#members") is members
                and screen.query_one("#log").outer_size.width == log_width
            )

        await wait_for(pilot, laid_out, what=f"the layout for {size}")


async def test_side_lists_toggle_with_f2_and_f3(server: RunningServer, tmp_path: Path) -> None:
    """F2 shows or hides the conversations, F3 the members, whatever the width says."""
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await small_log_in(pilot, app)
        await pilot.press("f2")
        await wait_for(pilot, lambda: shown(screen, "#conversations"), what="conversations")
        await pilot.press("f3")
        await wait_for(pilot, lambda: shown(screen, "#members"), what="members")
        assert screen.query_one("#log").outer_size.width >= 60 - 16 - 14
        await pilot.press("f2", "f3")
        await wait_for(
            pilot,
            lambda: not shown(screen, "#conversations") and not shown(screen, "#members"),
            what="both hidden",
        )
        assert field(app, "#message").value == ""


async def test_hidden_conversation_list_shows_unread_in_the_topic_bar(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """With the list hidden, conversations with news show as [N:name count] (N for Alt+N)."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await small_log_in(pilot, app)
        activity = screen.query_one("#activity", Static)
        await send_text(pilot, "/join #dev")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#dev", what="#dev")
        await pilot.press("alt+1")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#lobby", what="lobby")
        await doe.send("JOIN #dev")
        await doe.send("PRIVMSG #dev :news")
        await doe.send("PRIVMSG #dev :more news")
        await wait_for(pilot, lambda: str(activity.render()) == "[2:#dev 2]", what="[2:#dev 2]")
        assert activity.display
        await pilot.press("alt+2")
        await wait_for(pilot, lambda: not activity.display, what="the news read")
        await pilot.press("f2")
        await pilot.press("alt+1")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#lobby", what="lobby")
        await doe.send("PRIVMSG #dev :even more")
        conv_list = screen.query_one("#conversations")
        await wait_for(pilot, lambda: "#dev 1" in str(conv_list.get_option_at_index(1).prompt))  # type: ignore[attr-defined]
        assert not activity.display  # the list says it


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_login_form_fits_with_an_error(tmp_path: Path, size: tuple[int, int]) -> None:
    """At 80x24 (and 60x20) the error and the Login button are both on the screen."""
    app = make_app(1, tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.login.show_error(
            "A nickname starts with a letter and holds only letters, digits and - _ [ ] { } | ^ `"
        )
        await pilot.pause()
        width, height = size
        visible = Region(0, 0, width, height - 1)  # above the footer
        login = app.login.query_one("#login", Button)
        error = app.login.query_one("#login-error", Static)
        assert visible.contains_region(login.region), (login.region, visible)
        assert visible.contains_region(error.region), (error.region, visible)
        assert error.region.height >= 2  # the whole sentence, wrapped
        assert not login.region.overlaps(error.region)


async def test_long_nicks_take_one_line_each(tmp_path: Path) -> None:
    """A nick wider than the member list is cut with an ellipsis, never wrapped."""
    app = EasyChatApp(ClientSettings(nick="John", log_enabled=False))
    long_nick = "Averyveryverylongnickname_30ch"
    assert len(long_nick) == 30
    async with app.run_test(size=SIZE) as pilot:
        screen = ChatScreen("127.0.0.1:6667", "John")
        await app.push_screen(screen)
        screen.open_conversation("#lobby", ConversationKind.ROOM, [], focus=True)
        screen.open_conversation("#" + long_nick[:25], ConversationKind.ROOM, [], focus=False)
        members = [Member("John", "@"), Member(long_nick), Member("Doe")]
        screen.set_members("#lobby", members)
        await pilot.pause()
        for selector, count in (("#members", len(members)), ("#conversations", 3)):
            widget = screen.query_one(selector, OptionList)
            assert widget.option_count == count
            assert widget.virtual_size.height == count, f"{selector}: an entry wrapped"
        member_list = screen.query_one("#members", OptionList)
        rows = [
            strip.text.strip("│ ")
            for strip in member_list.render_lines(Region(0, 0, member_list.outer_size.width, 5))
        ]
        assert any(row.startswith("Avery") and row.endswith("…") for row in rows), rows


async def test_keys_posted_together_apply_in_order(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Keys that reach the app in one go, as the terminal driver posts a burst, act in order.

    The tmux tests show the same with a real terminal (test_tui_terminal.py).
    """
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, app)
        message = field(app, "#message")

        def burst(*keys: str) -> None:
            for key in keys:
                character = key if len(key) == 1 else None
                app.post_message(events.Key("space" if key == " " else key, character))

        burst("x", "y", "ctrl+a", "z")
        await wait_for(pilot, lambda: message.value == "zxy", what="zxy")
        burst("ctrl+e", "ctrl+u", "a", "b", "c")
        await wait_for(pilot, lambda: message.value == "abc", what="abc")
        burst("ctrl+u", *"one", "enter", *"two", "enter")
        first = await doe.privmsg("#lobby", "")
        second = await doe.privmsg("#lobby", "")
        assert [first.params[1], second.params[1]] == ["one", "two"]
        await wait_for(pilot, lambda: message.value == "", what="the empty field")


def test_esc_digit_is_read_as_alt_digit() -> None:
    """The bytes tmux and SSH terminals send for Alt+2, Alt+1, h, i in one read."""
    read_esc_digit_as_alt()
    keys = [
        (event.key, event.character)
        for event in XTermParser().feed("\x1b2\x1b1hi")
        if isinstance(event, events.Key)
    ]
    assert keys == [("alt+2", None), ("alt+1", None), ("h", "h"), ("i", "i")]

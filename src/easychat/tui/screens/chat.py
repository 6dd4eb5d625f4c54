"""Provides the chat screen: conversations, message log, members, and the input bar."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, OptionList, Static

from easychat.client.conversations import Conversation, ConversationKind, Conversations
from easychat.client.events import Line, LineKind
from easychat.client.session.session import Member
from easychat.proto.names import casefold
from easychat.tui.screens.dialogs import LeaveDialog, PasteDialog, line_count
from easychat.tui.screens.layout import BREAKPOINTS, activity, lists_shown, members_wanted
from easychat.tui.screens.scrollback import Place, draw, write_line
from easychat.tui.widgets.input import PASTE_CONFIRM_LINES, ChatInput, LeaveButton
from easychat.tui.widgets.lists import ConversationList, MemberList
from easychat.tui.widgets.log import ChatLog


class ChatScreen(Screen[None]):
    """The conversation view: side list, log, members; Leave, input and Send below."""

    # -narrow / -medium / -wide set the side lists' widths (easychat.tcss).
    # Not ClassVar-annotated: Textual declares it `ClassVar[...] | None`, which
    # mypy reads as an instance variable that a ClassVar may not override.
    HORIZONTAL_BREAKPOINTS = BREAKPOINTS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "step(1)", "Next conversation"),
        Binding("f2", "toggle_list('conversations')", "Conversation list", show=False),
        Binding("f3", "toggle_list('members')", "Member list", show=False),
        Binding("ctrl+p", "step(-1)", "Previous conversation"),
        *[Binding(f"alt+{i}", f"jump({i})", f"Conversation {i}", show=False) for i in range(1, 10)],
        # The message field has the focus: PageUp/PageDown scroll the log.
        Binding("pageup", "log_page(-1)", "Scroll up", show=False),
        Binding("pagedown", "log_page(1)", "Scroll down", show=False),
        # Home reaches here from an empty message field (with text it is the
        # start of the line there); Ctrl+Home works either way.
        Binding("home,ctrl+home", "log_top", "Top of the log", show=False),
    ]

    @dataclass
    class Typed(Message):
        """The user sent `text` (a message or a /command) in `conversation`."""

        text: str
        conversation: str

    class LeaveRequested(Message):
        """The user pressed Leave."""

    @dataclass
    class EarlierWanted(Message):
        """The user scrolled to the top of `conversation`: load the page before."""

        conversation: str

    def __init__(
        self, server_name: str, nick: str, *, timestamps: bool = True, warning: str = ""
    ) -> None:
        super().__init__()
        self.warning = warning  # shown above the log for as long as the screen lives
        self.conversations = Conversations(server_name)
        self.nick = nick
        self.timestamps = timestamps
        self.members: dict[str, list[Member]] = {}
        self.topics: dict[str, str] = {}
        self._composed = False  # widgets exist; until then only the model changes
        self._wait_until = 0.0
        self._wait_timer: Timer | None = None
        # F2 / F3: a side list shown (True) or hidden (False) whatever the
        # width; None follows the width.
        self.list_shown: dict[str, bool | None] = {"conversations": None, "members": None}
        self.lag = ""  # "lag 0.12 s", shown at the end of the title

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield ConversationList(id="conversations")
            with Vertical(id="center"):
                with Horizontal(id="topic-bar"):
                    yield Static("", id="topic", markup=False)
                    yield Static("", id="activity", markup=False)
                yield Static("", id="banner", markup=False)
                warning = Static(self.warning, id="security-warning", markup=False)
                warning.set_class(bool(self.warning), "visible")
                yield warning
                yield ChatLog(id="log")
            yield MemberList(id="members")
        with Horizontal(id="input-bar"):
            yield LeaveButton("Leave", id="leave", variant="error")
            yield ChatInput(placeholder="Message (/help for commands)", id="message")
            yield Button("Send", id="send", variant="primary")
        yield Footer()

    @property
    def ready(self) -> bool:
        """Whether the widgets are there to draw on.

        Not before they are mounted, and not once the screen's message loop
        has stopped (Leave, or the app exiting): Textual then removes the
        widgets while lines from the server may still arrive.
        """
        return self._composed and self.is_running

    def on_mount(self) -> None:
        self._composed = True
        self.query_one("#message", ChatInput).focus()
        self.refresh_all()

    # -- updates from the app ----------------------------------------------

    def add_line(self, line: Line) -> Conversation:
        """Shows a line in its conversation."""
        conv = self.conversations.add(line)
        if not self.ready:
            return conv
        if conv is self.conversations.current:
            write_line(self.query_one("#log", ChatLog), line, timestamps=self.timestamps)
        else:
            self.refresh_sidebar()
        return conv

    def open_conversation(
        self, name: str, kind: ConversationKind, history: list[Line], *, focus: bool
    ) -> Conversation:
        """Opens (or reactivates) a conversation; `history` comes from the local log."""
        existing = self.conversations.get(name)
        conv = self.conversations.open(name, kind)
        if existing is None:
            conv.history = history
        if focus:
            self.switch_to(conv)
        else:
            self.refresh_sidebar()
        return conv

    def set_members(self, channel: str, members: list[Member]) -> None:
        """Updates a room's member list (and nick completion)."""
        self.members[casefold(channel)] = members
        if casefold(self.conversations.current.name) == casefold(channel):
            self.refresh_members()

    def close_conversation(self, name: str) -> None:
        """Closes the conversation `name` (not the server window) and forgets its members."""
        self.conversations.close(name)
        self.members.pop(casefold(name), None)
        self.topics.pop(casefold(name), None)
        self.refresh_all()

    def set_topic(self, channel: str, topic: str) -> None:
        """Updates a room's topic."""
        self.topics[casefold(channel)] = topic
        self.refresh_topic()

    def set_lag(self, seconds: float, *, answered: bool = True) -> None:
        """Shows the server's lag in the title (at least `seconds` while unanswered)."""
        self.lag = f"lag {seconds:.2f} s" if answered else f"lag ≥ {seconds:.0f} s"
        self.refresh_topic()

    def set_banner(self, text: str) -> None:
        """Shows (or, with "", hides) the connection banner."""
        if not self.ready:
            return
        banner = self.query_one("#banner", Static)
        banner.update(text)
        banner.set_class(bool(text), "visible")

    def show_wait(self, seconds: float) -> None:
        """Says in the input bar how long the server is holding our lines back."""
        if not self.ready:
            return
        self._wait_until = time.monotonic() + max(seconds, 1.0)
        if self._wait_timer is None:
            self._wait_timer = self.set_interval(0.5, self._update_wait)
        self._update_wait()

    def _update_wait(self) -> None:
        field = self.query_one("#message", ChatInput)
        left = self._wait_until - time.monotonic()
        if left <= 0:
            field.border_subtitle = ""
            if self._wait_timer is not None:
                self._wait_timer.stop()
                self._wait_timer = None
            return
        field.border_subtitle = f"sending too fast: next line in {math.ceil(left)} s"

    def switch_to(self, conv: Conversation) -> None:
        """Makes `conv` current and redraws the log for it."""
        self.conversations.switch(conv)
        self.refresh_all()

    # -- drawing -------------------------------------------------------------

    def refresh_all(self) -> None:
        """Redraws everything for the current conversation."""
        if not self.ready:
            return
        self.redraw_log()
        self.refresh_sidebar()
        self.refresh_members()
        self.refresh_topic()

    def redraw_log(self, place: Place = "end") -> None:
        """Redraws the log of the current conversation, scrolled to `place`."""
        if not self.ready:
            return
        log = self.query_one("#log", ChatLog)
        draw(log, self.conversations.current, place, timestamps=self.timestamps)

    def show_paging(self, conv: Conversation, place: Place) -> None:
        """Redraws `conv`'s log after its paging state or earlier lines changed."""
        if conv is self.conversations.current:
            self.redraw_log(place)
        else:
            self.refresh_sidebar()

    def refresh_sidebar(self) -> None:
        """Redraws the conversation list."""
        if not self.ready:
            return
        self.query_one(ConversationList).show(
            self.conversations.ordered(), self.conversations.current
        )
        self.refresh_activity()

    def refresh_members(self) -> None:
        """Redraws the member list for the current conversation."""
        if not self.ready:
            return
        conv = self.conversations.current
        members = self.members.get(casefold(conv.name), [])
        member_list = self.query_one(MemberList)
        self.place_side_lists()
        member_list.show(members)
        self.query_one("#message", ChatInput).completions = [m.nick for m in members] or (
            [conv.name] if conv.kind is ConversationKind.PRIVATE else []
        )
        self.query_one("#message", ChatInput).rooms = [
            c.name for c in self.conversations.ordered() if c.kind is ConversationKind.ROOM
        ]

    def refresh_topic(self) -> None:
        """Redraws the topic bar."""
        if not self.ready:
            return
        conv = self.conversations.current
        topic = self.topics.get(casefold(conv.name), "")
        text = f"{conv.name} — {topic}" if topic else conv.name
        if self.lag:
            text += f" · {self.lag}"
        self.query_one("#topic", Static).update(text)

    # -- side lists on small terminals ---------------------------------------------

    def on_resize(self) -> None:
        self.place_side_lists()

    def place_side_lists(self) -> None:
        """Shows or hides the side lists for the width, F2 / F3 and the conversation."""
        if not self.ready:
            return
        room = self.conversations.current.kind is ConversationKind.ROOM
        conversations, members = lists_shown(self.size.width, self.list_shown, room=room)
        self.query_one(ConversationList).display = conversations
        self.query_one(MemberList).display = members
        self.refresh_activity()

    def action_toggle_list(self, which: str) -> None:
        """F2 / F3: shows the conversation / member list if hidden, else hides it."""
        if which == "conversations":
            shown = self.query_one(ConversationList).display
        else:
            shown = members_wanted(self.size.width, self.list_shown["members"])
        self.list_shown[which] = not shown
        self.place_side_lists()

    def refresh_activity(self) -> None:
        """With the conversation list hidden, names the others with news in the topic bar."""
        if not self.ready:
            return
        news = ""
        if not self.query_one(ConversationList).display:
            news = activity(self.conversations.ordered(), self.conversations.current)
        field = self.query_one("#activity", Static)
        field.update(news)
        field.display = bool(news)

    # -- user input ------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.send_input(event.value)  # the field has emptied itself already

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.send_input()
        elif event.button.id == "leave":
            self.leave_pressed(isinstance(event.button, LeaveButton) and event.button.by_key)

    def on_chat_input_multiline_pasted(self, event: ChatInput.MultilinePasted) -> None:
        event.stop()
        if line_count(event.text) <= PASTE_CONFIRM_LINES:
            self.send_input(event.text)
            return
        target = self.conversations.current.name

        def answered(text: str | None) -> None:
            field = self.query_one("#message", ChatInput)
            if text is not None:
                self.send_input(text)
            elif not field.value:  # cancelled: the field as it was
                field.value = event.previous
                field.cursor_position = len(event.previous)
            field.focus()

        self.app.push_screen(PasteDialog(event.text, target), answered)

    def send_input(self, text: str | None = None) -> None:
        """Hands `text` (which the field has let go), or the field's text, to the app.

        Without `text` (the Send button) the field is emptied here.
        """
        field = self.query_one("#message", ChatInput)
        if text is None:
            text = field.value
            if text.strip():
                field.value = ""
        if not text.strip():
            return
        field.remember(text)
        self.post_message(self.Typed(text, self.conversations.current.name))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if isinstance(event.option_list, ConversationList):
            event.stop()
            conv = self.conversations.ordered()[event.option_index]
            self.switch_to(conv)
            self.query_one("#message", ChatInput).focus()

    def on_chat_log_reached_top(self, event: ChatLog.ReachedTop) -> None:
        event.stop()
        conv = self.conversations.current
        if conv.kind is not ConversationKind.SERVER:
            self.post_message(self.EarlierWanted(conv.name))

    def action_log_page(self, direction: int) -> None:
        """PageUp (-1) / PageDown (1) in the message field scroll the log."""
        log = self.query_one("#log", ChatLog)
        if direction < 0:
            log.action_page_up()
        elif log.allow_vertical_scroll:
            log.action_page_down()

    def leave_pressed(self, by_key: bool) -> None:
        """Leave was pressed: from the keyboard it asks first, a click leaves at once."""
        if not by_key:
            self.post_message(self.LeaveRequested())
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.post_message(self.LeaveRequested())

        self.app.push_screen(LeaveDialog(self.conversations.server.name), answered)

    def action_log_top(self) -> None:
        """Home (empty field) / Ctrl+Home: the log's top, which loads the page before."""
        self.query_one("#log", ChatLog).action_scroll_home()

    def action_step(self, delta: int) -> None:
        """Switches to the next (1) or previous (-1) conversation."""
        self.switch_to(self.conversations.step(delta))

    def action_jump(self, number: int) -> None:
        """Switches to conversation `number` (1-based) in the side list."""
        order = self.conversations.ordered()
        if 1 <= number <= len(order):
            self.switch_to(order[number - 1])

    def prefill(self, text: str) -> None:
        """Puts `text` in the message field, ready to complete."""
        field = self.query_one("#message", ChatInput)
        field.value = text
        field.cursor_position = len(text)
        field.focus()

    def show_info(self, text: str, kind: LineKind = LineKind.INFO) -> None:
        """Shows a local message (help, errors) in the current conversation."""
        self.add_line(Line(None, kind, "", text, time.time()))

"""Provides the chat screen: conversations, message log, members, and the input bar."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, OptionList, Static

from easychat.client.conversations import Conversation, ConversationKind, Conversations, Paging
from easychat.client.events import Line, LineKind
from easychat.client.session.session import Member
from easychat.proto.names import casefold
from easychat.tui.render import day_changed, render_entry
from easychat.tui.screens.dialogs import LeaveDialog, PasteDialog, line_count
from easychat.tui.widgets.input import (
    PASTE_CONFIRM_LINES,
    ChatInput,
    ConversationList,
    LeaveButton,
    MemberList,
)
from easychat.tui.widgets.log import ChatLog

# What the top of the log says while paging back through the server's history.
LOADING_EARLIER = "──── loading earlier messages… ────"
NO_EARLIER = "──── no earlier messages ────"
SEPARATOR = "──── earlier messages above ────"
# Where the user stopped reading last time: what follows arrived while away.
NEW_MESSAGES = "──── new messages ────"

# Terminal widths (columns) below which a side list hides by itself (F2 /
# F3 show it again). Both lists take 42 columns; from 100 columns that
# leaves the log 58, enough for a timestamp, a nick and a sentence. Below
# 100 the members go (irssi shows none at all; /names lists them) and the
# conversation list narrows to 16 (80 columns: a 64-column log). Below 70
# it goes too, so a 60-column terminal gives the log every column; the
# topic bar then shows which conversations have news.
MEMBERS_MIN_WIDTH = 100
CONVERSATIONS_MIN_WIDTH = 70

# Where the log is scrolled after a redraw: at the newest line, at the top,
# or kept on the lines that were in view (lines were added above them).
Place = Literal["end", "top", "keep"]


class ChatScreen(Screen[None]):
    """The conversation view: side list, log, members; Leave, input and Send below."""

    # -narrow / -medium / -wide set the side lists' widths (easychat.tcss).
    # Not ClassVar-annotated: Textual declares it `ClassVar[...] | None`, which
    # mypy reads as an instance variable that a ClassVar may not override.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-narrow"),
        (CONVERSATIONS_MIN_WIDTH, "-medium"),
        (MEMBERS_MIN_WIDTH, "-wide"),
    ]

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
        self.ready = False  # widgets exist; until then only the model changes
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

    def on_unmount(self) -> None:
        self.ready = False  # events still in flight find no widgets to draw on

    def on_mount(self) -> None:
        self.ready = True
        self.query_one("#message", ChatInput).focus()
        self.refresh_all()

    # -- updates from the app ----------------------------------------------

    def add_line(self, line: Line) -> Conversation:
        """Shows a line in its conversation."""
        conv = self.conversations.add(line)
        if not self.ready:
            return conv
        if conv is self.conversations.current:
            self._write_line(self.query_one("#log", ChatLog), line)
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
        """Redraws the log of the current conversation, scrolled to `place`.

        Above the earlier lines it says whether earlier ones are loading
        or there are none; a separator divides them from this session's.
        """
        if not self.ready:
            return
        conv = self.conversations.current
        log = self.query_one("#log", ChatLog)
        anchor = log.view_anchor() if place == "keep" else None
        log.clear()
        if conv.paging is not Paging.IDLE:
            marker = LOADING_EARLIER if conv.paging is Paging.LOADING else NO_EARLIER
            log.write(Text(marker, style="dim italic"))
        after = conv.new_after
        marked = False
        for line in conv.history:
            if after is not None and not marked and line.time > after:
                # What arrived while away is new, not "earlier messages".
                log.write(Text(NEW_MESSAGES, style="bold yellow"))
                marked = True
            self._write_line(log, line)
        if conv.history and not marked:
            log.write(Text(SEPARATOR, style="dim"))
        for line in conv.lines:
            self._write_line(log, line)
        if place == "top":
            log.show_top()
        elif anchor is not None:
            log.restore_view(anchor)

    def _write_line(self, log: ChatLog, line: Line) -> None:
        """Writes a line to the log, after a "Day changed" line if it starts another day."""
        changed = day_changed(log.last_time, line.time)
        if changed is not None:
            log.write(changed)
        log.last_time = line.time
        log.write(*render_entry(line, timestamps=self.timestamps))

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
        width = self.size.width
        conversations = self.list_shown["conversations"]
        if conversations is None:
            conversations = width >= CONVERSATIONS_MIN_WIDTH
        members = self.list_shown["members"]
        if members is None:
            members = width >= MEMBERS_MIN_WIDTH
        self.query_one(ConversationList).display = conversations
        room = self.conversations.current.kind is ConversationKind.ROOM
        self.query_one(MemberList).display = members and room
        self.refresh_activity()

    def action_toggle_list(self, which: str) -> None:
        """F2 / F3: shows the conversation / member list if hidden, else hides it."""
        widget = self.query_one(ConversationList if which == "conversations" else MemberList)
        shown = widget.display if which == "conversations" else self._members_wanted()
        self.list_shown[which] = not shown
        self.place_side_lists()

    def _members_wanted(self) -> bool:
        """Whether the member list is meant to show (in a room it then does)."""
        wanted = self.list_shown["members"]
        return self.size.width >= MEMBERS_MIN_WIDTH if wanted is None else wanted

    def refresh_activity(self) -> None:
        """With the conversation list hidden, names the others with news in the topic bar.

        `[2:#dev 3]`: conversation 2 (Alt+2) has 3 unread lines; `@` marks a mention.
        """
        if not self.ready:
            return
        parts = []
        if not self.query_one(ConversationList).display:
            for number, conv in enumerate(self.conversations.ordered(), 1):
                if conv is self.conversations.current or not (conv.unread or conv.mentioned):
                    continue
                news = f" {conv.unread}" if conv.unread else ""
                parts.append(f"[{number}:{conv.name}{news}{' @' if conv.mentioned else ''}]")
        activity = self.query_one("#activity", Static)
        activity.update(" ".join(parts))
        activity.display = bool(parts)

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

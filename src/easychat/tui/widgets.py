"""Provides the chat screen's widgets: the message input, the message log, the side lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, OptionList, RichLog
from textual.widgets.option_list import Option

from easychat.client.conversations import Conversation, ConversationKind
from easychat.client.session import Member
from easychat.proto.names import casefold


class ChatLog(RichLog):
    """The message log; scrolling up to its top asks for earlier lines.

    It posts `ReachedTop` when the user scrolls (wheel, Up, PageUp, Home)
    until the top is reached, or tries to scroll up while already there,
    including when the log is too short to scroll at all. Scrolling by the
    program (redraws, new lines) never posts it.
    """

    class ReachedTop(Message):
        """The user scrolled to the top of the log."""

    _user_scroll = False  # an upward scroll by the user is under way

    def _upward(self) -> bool:
        """Before an upward scroll: at the top already, posts ReachedTop (True)."""
        if self.scroll_y <= 0:
            self.post_message(self.ReachedTop())
            return True
        self._user_scroll = True
        return False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # User scrolls here jump (no animation), so the flag is spent on the
        # one change they cause.
        if self._user_scroll:
            self._user_scroll = False
            if new_value <= 0 < old_value:
                self.post_message(self.ReachedTop())

    def clear(self) -> ChatLog:
        self._user_scroll = False  # a redraw jumps to the top without the user
        super().clear()
        return self

    def action_scroll_up(self) -> None:
        if not self._upward():
            self.scroll_up(animate=False)

    def action_page_up(self) -> None:
        if not self._upward():
            self.scroll_page_up(animate=False)

    def action_scroll_home(self) -> None:
        if not self._upward():
            self.scroll_home(animate=False)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if event.ctrl or event.shift:  # sideways
            super()._on_mouse_scroll_up(event)
        elif self._upward():
            event.stop()
        else:
            super()._on_mouse_scroll_up(event)


# Inputs remembered for Up/Down recall.
INPUT_HISTORY = 200


class ChatInput(Input):
    """The message field: Up/Down recall earlier input, Tab completes nicks.

    A one-line field cannot show a pasted text of several lines (Input keeps
    only the first), so such a paste is sent at once, as if typed and Enter
    pressed: the field's text with the paste at the cursor.
    """

    @dataclass
    class MultilinePasted(Message):
        """Text of several lines was pasted; `text` is the field's whole new text."""

        text: str

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous input", show=False),
        Binding("down", "history(1)", "Next input", show=False),
        Binding("tab", "complete", "Complete nick", show=False, priority=True),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.completions: list[str] = []
        self.history: list[str] = []
        self._history_index = 0
        # (value after the last completion, word start, matches, index shown)
        self._completing: tuple[str, int, list[str], int] | None = None

    def _on_paste(self, event: events.Paste) -> None:
        if "\n" not in event.text and "\r" not in event.text:
            return  # Input inserts a single line itself
        event.prevent_default()
        event.stop()
        start, end = sorted(self.selection)
        self.post_message(self.MultilinePasted(self.value[:start] + event.text + self.value[end:]))

    def remember(self, text: str) -> None:
        """Adds a sent line to the history."""
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-INPUT_HISTORY]
        self._history_index = len(self.history)

    def action_history(self, delta: int) -> None:
        """Shows the previous (-1) or next (+1) remembered input."""
        if not self.history:
            return
        index = max(0, min(len(self.history), self._history_index + delta))
        self._history_index = index
        self.value = self.history[index] if index < len(self.history) else ""
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        """Completes the nick before the cursor; Tab again cycles the matches.

        At the start of the line the nick gets `: ` (addressing someone),
        elsewhere a space.
        """
        cursor = self.cursor_position
        state = self._completing
        if state is not None and self.value == state[0]:
            _, start, matches, index = state
            index = (index + 1) % len(matches)
        else:
            before = self.value[:cursor]
            start = len(before) - len(before.split(" ")[-1])
            word = before[start:]
            if not word:
                return
            folded = casefold(word)
            matches = [nick for nick in self.completions if casefold(nick).startswith(folded)]
            if not matches:
                return
            index = 0
        completion = matches[index] + (": " if start == 0 else " ")
        self.value = self.value[:start] + completion + self.value[cursor:]
        self.cursor_position = start + len(completion)
        self._completing = (self.value, start, matches, index)


class ConversationList(OptionList):
    """The side list of open conversations with unread counts and mentions."""

    def show(self, conversations: list[Conversation], current: Conversation) -> None:
        """Redraws the list for these conversations."""
        options = []
        for conv in conversations:
            label = Text(conv.name, style="bold" if conv is current else "")
            if conv.kind is ConversationKind.SERVER:
                label.stylize("italic")
            if not conv.active:
                label.stylize("dim")
            if conv.left:
                label.append(" (left)", style="dim")
            if conv.unread:
                label.append(f" {conv.unread}", style="bold yellow")
            if conv.mentioned:
                label.append(" @", style="bold red")
            options.append(Option(label, id=casefold(conv.name)))
        highlighted = conversations.index(current) if current in conversations else None
        self.clear_options()
        self.add_options(options)
        self.highlighted = highlighted


class MemberList(OptionList):
    """The members of the current room, operators first and marked."""

    def show(self, members: list[Member]) -> None:
        """Redraws the list."""
        self.clear_options()
        options = []
        for m in members:
            label = Text(m.prefixes[:1] + m.nick, style="bold" if m.prefixes else "")
            if m.away:
                label.stylize("dim")
                label.append(" (away)", style="dim italic")
            options.append(Option(label))
        self.add_options(options)

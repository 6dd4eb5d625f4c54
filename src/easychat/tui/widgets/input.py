"""Provides the chat screen's input bar: the message field (recall, completion, paste) and Leave."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Button, Input

from easychat.client.input.commands import COMMAND_HELP
from easychat.proto.names import casefold

# Inputs remembered for Up/Down recall.
INPUT_HISTORY = 200

# A paste of more lines than this asks before it is sent: a few lines are
# a quote, more are usually a mistake in a room full of people (irssi's
# paste_verify_line_count is 5 too).
PASTE_CONFIRM_LINES = 5


class ChatInput(Input):
    """The message field: Up/Down recall earlier input, Tab completes nicks, commands, rooms.

    Keys act in the order they arrive, also when many come in one read (a
    slow SSH link, tmux send-keys): Textual runs a focused widget's key
    bindings only after the key has bubbled through every parent's queue
    to the App, by which time the keys that came with it are already typed
    (`xy`, Ctrl+A, `z` gave `xyz`). So this field runs the binding of each
    key itself, as the key arrives. Enter hands the text over and empties
    the field at once, so what is typed after it starts the next line.

    A one-line field cannot show a pasted text of several lines (Input keeps
    only the first), so such a paste leaves the field at once: the field's
    text with the paste at the cursor goes up in `MultilinePasted`.
    """

    @dataclass
    class MultilinePasted(Message):
        """Text of several lines was pasted: `text` is the field's whole new text.

        The field is empty now; `previous` is what it held before the paste.
        """

        text: str
        previous: str = ""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous input", show=False),
        Binding("down", "history(1)", "Next input", show=False),
        Binding("tab", "complete", "Complete", show=False),
        # Home in an empty field is the log's Home (the screen's binding).
        Binding("home", "home_or_log", "Go to start", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.completions: list[str] = []
        # What Tab completes after "/" at the start of the line: every command /help lists.
        self.commands = [usage.split()[0] for usage, _ in COMMAND_HELP]
        # Rooms Tab completes for a word starting with "#": the open ones, then
        # those of the last /list.
        self.rooms: list[str] = []
        self.listed_rooms: list[str] = []
        self.history: list[str] = []
        self._history_index = 0
        # (value after the last completion, word start, matches, index shown)
        self._completing: tuple[str, int, list[str], int] | None = None

    async def _on_key(self, event: events.Key) -> None:
        # The App's own lookup (from this field up to the App, the first
        # binding whose action runs wins), as it would do once the key had
        # bubbled up; Textual is pinned, so this private method stays put.
        # Priority bindings ran in the App before the key came here.
        if await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()

    async def action_submit(self) -> None:
        """Enter: posts Submitted with the text and empties the field (not for blanks)."""
        text = self.value
        if not text.strip():
            return
        self.value = ""
        self.post_message(self.Submitted(self, text))

    def _on_paste(self, event: events.Paste) -> None:
        if "\n" not in event.text and "\r" not in event.text:
            return  # Input inserts a single line itself
        event.prevent_default()
        event.stop()
        start, end = sorted(self.selection)
        previous = self.value
        self.value = ""
        self.post_message(
            self.MultilinePasted(previous[:start] + event.text + previous[end:], previous)
        )

    def action_home_or_log(self) -> None:
        """Home: the start of the text; in an empty field, passes Home on to the screen."""
        if not self.value:
            raise SkipAction  # the next binding of Home runs: the log's top
        self.action_home()

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

    def _candidates(self, word: str, start: int) -> list[str]:
        """What `word` may complete to: a command, a room, or a nick."""
        if start == 0 and word.startswith("/"):
            pool: list[str] = list(self.commands)
        elif word.startswith(("#", "&")):
            pool = list(dict.fromkeys([*self.rooms, *self.listed_rooms]))
        else:
            pool = self.completions
        folded = casefold(word)
        return [name for name in pool if casefold(name).startswith(folded)]

    def action_complete(self) -> None:
        """Completes the word before the cursor; Tab again cycles the matches.

        `/` at the start of the line completes a command, `#` a room, any
        other word a nick. A nick at the start of the line gets `: `
        (addressing someone), everything else a space.
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
            matches = self._candidates(word, start)
            if not matches:
                return
            index = 0
        nick = not matches[index].startswith(("/", "#", "&"))
        completion = matches[index] + (": " if start == 0 and nick else " ")
        self.value = self.value[:start] + completion + self.value[cursor:]
        self.cursor_position = start + len(completion)
        self._completing = (self.value, start, matches, index)


class LeaveButton(Button):
    """Leave; `by_key` says whether the last press came from the keyboard, not a click.

    A key press may be a slip (Enter after Shift+Tab went one too far), so
    the chat screen asks first; a click is deliberate.
    """

    by_key = False

    def action_press(self) -> None:
        self.by_key = True
        super().action_press()

    async def _on_click(self, event: events.Click) -> None:
        self.by_key = False  # Button's own handler, next in the MRO, presses

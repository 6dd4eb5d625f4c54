"""Provides the chat screen's questions: sending a long paste, leaving the server."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


def line_count(text: str) -> int:
    """How many chat lines `text` becomes (blank lines are not sent)."""
    return sum(1 for line in text.splitlines() if line.strip())


class PasteDialog(ModalScreen[str | None]):
    """ "Send 12 lines to #lobby?": the pasted text, editable, with Send and Cancel.

    Dismissed with the text to send (as edited), or None for Cancel / Escape.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "send", "Send"),
    ]

    def __init__(self, text: str, target: str) -> None:
        super().__init__()
        self.text = text
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical(id="paste-box", classes="dialog"):
            yield Static(self._question(self.text), id="paste-question", markup=False)
            yield TextArea(self.text, id="paste-text", soft_wrap=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send", id="paste-send", variant="primary")
                yield Button("Cancel", id="paste-cancel")

    def on_mount(self) -> None:
        self.query_one("#paste-send", Button).focus()

    def _question(self, text: str) -> str:
        return f"Send {line_count(text)} lines to {self.target}?"

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.query_one("#paste-question", Static).update(self._question(event.text_area.text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "paste-send":
            self.action_send()
        else:
            self.action_cancel()

    def action_send(self) -> None:
        """Sends the text as it now reads."""
        self.dismiss(self.query_one("#paste-text", TextArea).text)

    def action_cancel(self) -> None:
        """Sends nothing."""
        self.dismiss(None)


class LeaveDialog(ModalScreen[bool]):
    """ "Leave 127.0.0.1:6667?": Leave and Stay; dismissed with True to disconnect."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "stay", "Stay")]

    def __init__(self, server: str) -> None:
        super().__init__()
        self.server = server

    def compose(self) -> ComposeResult:
        with Vertical(id="leave-box", classes="dialog"):
            yield Static(
                f"Disconnect from {self.server} and go back to the login screen?",
                id="leave-question",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Leave", id="leave-yes", variant="error")
                yield Button("Stay", id="leave-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#leave-no", Button).focus()  # Enter again does no harm

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "leave-yes")

    def action_stay(self) -> None:
        """Keeps the connection."""
        self.dismiss(False)

"""Provides the rooms screen of /list: the server's rooms, a filter, Enter joins."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from easychat.client.events import ListedRoom
from easychat.proto.names import casefold
from easychat.tui.render import clean

# Rows the table holds at once: DataTable builds every row it is given, and a
# big network lists tens of thousands of rooms; typing in the filter finds
# the rest.
MAX_SHOWN_ROOMS = 1000

# Characters of a topic shown in the table; the whole topic is in the room.
TOPIC_WIDTH = 200

LOADING = "Asking the server for its rooms…"


class RoomsScreen(Screen[str | None]):
    """The server's rooms (name, users, topic), most populated first.

    Typing filters by name and topic; Up/Down move the highlight from the
    filter field; Enter joins the highlighted room (the screen closes with
    its name); Escape closes without joining.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("down", "move(1)", "Next room", show=False),
        Binding("up", "move(-1)", "Previous room", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
    ]

    def __init__(self, filter_text: str = "") -> None:
        super().__init__()
        self.rooms: tuple[ListedRoom, ...] | None = None  # None until the server answers
        self.truncated = False
        self.shown: list[ListedRoom] = []
        self._initial_filter = filter_text

    def compose(self) -> ComposeResult:
        with Vertical(id="rooms-box"):
            yield Static("Rooms", id="rooms-title")
            yield Input(
                self._initial_filter, placeholder="Filter by name or topic", id="rooms-filter"
            )
            table: DataTable[Text] = DataTable(
                id="rooms-table", cursor_type="row", zebra_stripes=True
            )
            yield table
            yield Static(LOADING, id="rooms-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#rooms-table", DataTable)
        table.add_column("Room", key="room")
        table.add_column("Users", key="users")
        table.add_column("Topic", key="topic")
        self.query_one("#rooms-filter", Input).focus()
        if self.rooms is not None:
            self._refill()

    def show(self, rooms: tuple[ListedRoom, ...], truncated: bool = False) -> None:
        """Shows the server's answer to LIST."""
        self.rooms = tuple(sorted(rooms, key=lambda r: (-r.users, casefold(r.name))))
        self.truncated = truncated
        if self.is_mounted:
            self._refill()

    def _refill(self) -> None:
        rooms = self.rooms or ()
        wanted = casefold(self.query_one("#rooms-filter", Input).value.strip())
        matching = [
            room
            for room in rooms
            if not wanted or wanted in casefold(room.name) or wanted in casefold(room.topic)
        ]
        self.shown = matching[:MAX_SHOWN_ROOMS]
        table = self.query_one("#rooms-table", DataTable)
        table.clear()
        for room in self.shown:
            # Names and topics are the server's (and other people's) text:
            # plain Text, formatting and control characters removed.
            table.add_row(
                Text(clean(room.name)),
                Text(str(room.users), justify="right"),
                Text(clean(room.topic)[:TOPIC_WIDTH], no_wrap=True, overflow="ellipsis"),
            )
        if self.shown:
            table.move_cursor(row=0)
        self.query_one("#rooms-status", Static).update(self._status(len(rooms), len(matching)))

    def _status(self, total: int, matching: int) -> str:
        if total == 0:
            return "The server has no rooms to list. Escape closes."
        what = f"{matching} of {total} rooms" if matching != total else f"{total} rooms"
        if matching > len(self.shown):
            what += f", the first {len(self.shown)} shown: type to narrow"
        if self.truncated:
            what += " (the server listed more than are kept)"
        return f"{what} · Enter joins · Escape closes"

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.rooms is not None:
            self._refill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._join(self.query_one("#rooms-table", DataTable).cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._join(event.cursor_row)

    def _join(self, row: int) -> None:
        if 0 <= row < len(self.shown):
            self.dismiss(self.shown[row].name)

    def action_move(self, delta: int) -> None:
        """Moves the highlighted row while the filter field has the focus."""
        table = self.query_one("#rooms-table", DataTable)
        if self.shown:
            row = max(0, min(len(self.shown) - 1, table.cursor_row + delta))
            table.move_cursor(row=row)

    def action_close(self) -> None:
        """Escape: back to the chat without joining."""
        self.dismiss(None)

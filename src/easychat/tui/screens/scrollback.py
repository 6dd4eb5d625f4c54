"""Provides a conversation drawn into the chat log: earlier lines, their markers, day changes."""

from __future__ import annotations

from typing import Literal

from rich.text import Text

from easychat.client.conversations import Conversation, Paging
from easychat.client.events import Line
from easychat.tui.render import day_changed, render_entry
from easychat.tui.widgets.log import ChatLog

# What the top of the log says while paging back through the server's history.
LOADING_EARLIER = "──── loading earlier messages… ────"
NO_EARLIER = "──── no earlier messages ────"
SEPARATOR = "──── earlier messages above ────"
# Where the user stopped reading last time: what follows arrived while away.
NEW_MESSAGES = "──── new messages ────"

# Where the log is scrolled after a redraw: at the newest line, at the top,
# or kept on the lines that were in view (lines were added above them).
Place = Literal["end", "top", "keep"]


def draw(log: ChatLog, conv: Conversation, place: Place, *, timestamps: bool) -> None:
    """Redraws `log` with `conv`'s lines, scrolled to `place`.

    Above the earlier lines it says whether earlier ones are loading
    or there are none; a separator divides them from this session's.
    """
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
        write_line(log, line, timestamps=timestamps)
    if conv.history and not marked:
        log.write(Text(SEPARATOR, style="dim"))
    for line in conv.lines:
        write_line(log, line, timestamps=timestamps)
    if place == "top":
        log.show_top()
    elif anchor is not None:
        log.restore_view(anchor)


def write_line(log: ChatLog, line: Line, *, timestamps: bool) -> None:
    """Writes a line to the log, after a "Day changed" line if it starts another day."""
    changed = day_changed(log.last_time, line.time)
    if changed is not None:
        log.write(changed)
    log.last_time = line.time
    log.write(*render_entry(line, timestamps=timestamps))

"""Provides how a chat line looks: time (and date), coloured nick, formatted text, never markup."""

from __future__ import annotations

import time
import zlib

from rich.text import Text

from easychat.client.events import Line, LineKind
from easychat.proto.names import casefold
from easychat.tui.formatting import irc_text, plain

# Nick colours: distinct on dark and light themes; a nick keeps its colour
# across runs because the index comes from a CRC of the folded nick.
NICK_COLOURS = (
    "#e06c75",
    "#98c379",
    "#e5c07b",
    "#61afef",
    "#c678dd",
    "#56b6c2",
    "#d19a66",
    "#ff79c6",
    "#8be9fd",
    "#50fa7b",
    "#bd93f9",
    "#f1fa8c",
)


def nick_colour(nick: str) -> str:
    """The stable colour of `nick`."""
    return NICK_COLOURS[zlib.crc32(casefold(nick).encode()) % len(NICK_COLOURS)]


def clean(text: str) -> str:
    """`text` without IRC formatting codes or control characters."""
    return plain(text)


def _day(when: float) -> tuple[int, int, int]:
    local = time.localtime(when)
    return local.tm_year, local.tm_mon, local.tm_mday


def day_changed(previous: float | None, current: float) -> Text | None:
    """The "Day changed" line between lines at `previous` and `current`, if their days differ.

    As irssi prints it: local days, "Day changed to 03 Dec 2026".
    """
    if previous is None or _day(previous) == _day(current):
        return None
    return Text(time.strftime("Day changed to %d %b %Y", time.localtime(current)), style="dim")


def stamp(when: float, now: float | None = None) -> str:
    """The time of a line: "14:03 ", or "12-01 14:03 " for a line before today."""
    local = time.localtime(when)
    today = _day(time.time() if now is None else now)
    if (local.tm_year, local.tm_mon, local.tm_mday) == today:
        return time.strftime("%H:%M ", local)
    return time.strftime("%m-%d %H:%M ", local)


def render_line(line: Line, *, timestamps: bool = True) -> Text:
    """The line as rich Text; chat text is plain text, so `[bold]` stays literal."""
    return render_entry(line, timestamps=timestamps)[0]


def render_entry(
    line: Line, *, timestamps: bool = True, now: float | None = None
) -> tuple[Text, int]:
    """The line as rich Text and the length of its prefix (time, nick).

    The prefix's width is the hanging indent of the line's continuation
    rows, so wrapped text lines up under the text as in irssi and weechat.
    IRC formatting in the text shows as styles and URLs as links; the text
    is never parsed as markup.

    Args:
        line: The line.
        timestamps: Whether to start with its time (and date, before today).
        now: The time "today" is taken from (default: the clock).
    """
    out = Text(no_wrap=False)
    if timestamps:
        out.append(stamp(line.time, now), style="dim")
    if line.own and line.kind in {LineKind.MESSAGE, LineKind.ACTION}:
        out.append("▶ ", style="bold")
    nick_style = f"bold {nick_colour(line.sender)}"
    body_style = ""
    if line.kind is LineKind.MESSAGE:
        out.append(f"<{line.sender}>", style=nick_style)
        out.append(" ")
    elif line.kind is LineKind.ACTION:
        out.append("* ", style="italic")
        out.append(line.sender, style=nick_style)
        out.append(" ")
        body_style = "italic"
    elif line.kind is LineKind.NOTICE:
        out.append(f"-{line.sender}-", style=nick_style)
        out.append(" ")
    elif line.kind is LineKind.EVENT:
        out.append("· ", style="dim")
        body_style = "dim"
    elif line.kind is LineKind.DELETED:  # who and when stay; the text is gone
        out.append(f"<{line.sender}>", style=nick_style)
        out.append(" ")
        body_style = "dim italic"
    elif line.kind is LineKind.ERROR:
        out.append("! ", style="bold red")
        body_style = "bold red"
    else:
        body_style = "cyan"
    prefix = len(out)
    out.append_text(irc_text(line.text, body_style))
    if line.mention:
        out.stylize("on #4b3b00")
    return out, prefix

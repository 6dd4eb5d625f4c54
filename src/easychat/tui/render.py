"""Provides how a chat line looks: time, coloured nick, text, never markup."""

from __future__ import annotations

import re
import time
import zlib

from rich.text import Text

from easychat.client.events import Line, LineKind
from easychat.proto.names import casefold

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

# IRC formatting codes (bold, colour, reset, reverse, italic, ...): removed so
# that a message cannot restyle the terminal.
_FORMATTING = re.compile(
    r"\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]|\x04[0-9a-fA-F]{0,6}"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def nick_colour(nick: str) -> str:
    """The stable colour of `nick`."""
    return NICK_COLOURS[zlib.crc32(casefold(nick).encode()) % len(NICK_COLOURS)]


def clean(text: str) -> str:
    """`text` without IRC formatting codes or control characters."""
    return _CONTROL.sub("", _FORMATTING.sub("", text))


def render_line(line: Line, *, timestamps: bool = True) -> Text:
    """The line as rich Text; chat text is plain text, so `[bold]` stays literal."""
    return render_entry(line, timestamps=timestamps)[0]


def render_entry(line: Line, *, timestamps: bool = True) -> tuple[Text, int]:
    """The line as rich Text and the length of its prefix (time, nick).

    The prefix's width is the hanging indent of the line's continuation
    rows, so wrapped text lines up under the text as in irssi and weechat.
    """
    out = Text(no_wrap=False)
    if timestamps:
        out.append(time.strftime("%H:%M ", time.localtime(line.time)), style="dim")
    text = clean(line.text)
    nick_style = f"bold {nick_colour(line.sender)}"
    if line.kind is LineKind.MESSAGE:
        if line.own:
            out.append("▶ ", style="bold")
        out.append(f"<{line.sender}>", style=nick_style)
        out.append(" ")
        prefix = len(out)
        out.append(text)
    elif line.kind is LineKind.ACTION:
        out.append("* ", style="italic")
        out.append(line.sender, style=nick_style)
        out.append(" ")
        prefix = len(out)
        out.append(text, style="italic")
    elif line.kind is LineKind.NOTICE:
        out.append(f"-{line.sender}-", style=nick_style)
        out.append(" ")
        prefix = len(out)
        out.append(text)
    elif line.kind is LineKind.EVENT:
        out.append("· ", style="dim")
        prefix = len(out)
        out.append(text, style="dim")
    elif line.kind is LineKind.ERROR:
        out.append("! ", style="bold red")
        prefix = len(out)
        out.append(text, style="bold red")
    else:
        prefix = len(out)
        out.append(text, style="cyan")
    if line.mention:
        out.stylize("on #4b3b00")
    return out, prefix

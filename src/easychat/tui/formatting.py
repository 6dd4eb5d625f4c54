"""Provides IRC formatting codes as rich styles, and URLs as links; text is never markup."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rich.style import Style
from rich.text import Text

# The 16 standard colours and the 83 extended ones (16-98) of
# modern.ircdocs.horse/formatting; 99 is "the default colour".
COLOURS = (
    # 0-15
    "#ffffff", "#000000", "#00007f", "#009300", "#ff0000", "#7f0000", "#9c009c", "#fc7f00",
    "#ffff00", "#00fc00", "#009393", "#00ffff", "#0000fc", "#ff00ff", "#7f7f7f", "#d2d2d2",
    # 16-27
    "#470000", "#472100", "#474700", "#324700", "#004700", "#00472c",
    "#004747", "#002747", "#000047", "#2e0047", "#470047", "#47002a",
    # 28-39
    "#740000", "#743a00", "#747400", "#517400", "#007400", "#007449",
    "#007474", "#004074", "#000074", "#4b0074", "#740074", "#740045",
    # 40-51
    "#b50000", "#b56300", "#b5b500", "#7db500", "#00b500", "#00b571",
    "#00b5b5", "#0063b5", "#0000b5", "#7500b5", "#b500b5", "#b5006b",
    # 52-63
    "#ff0000", "#ff8c00", "#ffff00", "#b2ff00", "#00ff00", "#00ffa0",
    "#00ffff", "#008cff", "#0000ff", "#a500ff", "#ff00ff", "#ff0098",
    # 64-75
    "#ff5959", "#ffb459", "#ffff71", "#cfff60", "#6fff6f", "#65ffc9",
    "#6dffff", "#59b4ff", "#5959ff", "#c459ff", "#ff66ff", "#ff59bc",
    # 76-87
    "#ff9c9c", "#ffd39c", "#ffff9c", "#e2ff9c", "#9cff9c", "#9cffdb",
    "#9cffff", "#9cd3ff", "#9c9cff", "#dc9cff", "#ff9cff", "#ff94d3",
    # 88-98
    "#000000", "#131313", "#282828", "#363636", "#4d4d4d", "#656565",
    "#818181", "#9f9f9f", "#bcbcbc", "#e2e2e2", "#ffffff",
)  # fmt: skip

# A formatting code: colour (\x03 with up to two digits, a comma and two
# more), hex colour (\x04), or a one-byte toggle or reset.
_CODE = re.compile(
    r"\x03(?:(\d{1,2})(?:,(\d{1,2}))?)?"
    r"|\x04(?:([0-9a-fA-F]{6})(?:,([0-9a-fA-F]{6}))?)?"
    r"|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)
# Other control characters: dropped, so a message cannot drive the terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HAS_CODE = re.compile(r"[\x00-\x1f\x7f]")
# An http(s) URL, without the punctuation that usually ends a sentence after it.
_URL = re.compile(r"https?://[^\s<>\"'`]+")
_URL_TAIL = ".,;:!?'\")]}>"

_TOGGLES = {
    "\x02": "bold",
    "\x1d": "italic",
    "\x1f": "underline",
    "\x1e": "strike",
    "\x16": "reverse",
}
# Monospace (\x11) has no terminal equivalent: the text already is.
_IGNORED = "\x11"


@dataclass(frozen=True, slots=True)
class _State:
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    reverse: bool = False
    fg: str | None = None
    bg: str | None = None

    def style(self) -> Style:
        return Style(
            bold=self.bold or None,
            italic=self.italic or None,
            underline=self.underline or None,
            strike=self.strike or None,
            reverse=self.reverse or None,
            color=self.fg,
            bgcolor=self.bg,
        )


def _colour(code: str | None) -> str | None:
    if code is None:
        return None
    number = int(code)
    return COLOURS[number] if number < len(COLOURS) else None  # 99 and above: default


def _format(state: _State, match: re.Match[str]) -> _State:
    """The state after one formatting code."""
    code = match.group(0)
    if code in _TOGGLES:
        name = _TOGGLES[code]
        flipped: dict[str, bool] = {name: not getattr(state, name)}
        return replace(state, **flipped)  # type: ignore[arg-type]
    if code == "\x0f":
        return _State()
    if code == _IGNORED:
        return state
    if code[0] == "\x03":
        fg, bg = match.group(1), match.group(2)
        if fg is None:
            return replace(state, fg=None, bg=None)
        return replace(state, fg=_colour(fg), bg=_colour(bg) if bg is not None else state.bg)
    fg, bg = match.group(3), match.group(4)
    if fg is None:
        return replace(state, fg=None, bg=None)
    return replace(state, fg=f"#{fg.lower()}", bg=f"#{bg.lower()}" if bg else state.bg)


def irc_text(raw: str, style: Style | str = "") -> Text:
    """`raw` chat text as rich Text: its IRC formatting as styles, URLs as links.

    The text is appended as plain strings, never parsed as rich markup.

    Args:
        raw: The text as received, with IRC formatting codes.
        style: The style under the formatting (e.g. italic for an action).
    """
    out = Text(style=style)
    if _HAS_CODE.search(raw) is None:
        out.append(raw)
    else:
        state, at = _State(), 0
        for match in _CODE.finditer(raw):
            _append(out, raw[at : match.start()], state)
            state, at = _format(state, match), match.end()
        _append(out, raw[at:], state)
    _link(out)
    return out


def _append(out: Text, piece: str, state: _State) -> None:
    piece = _CONTROL.sub("", piece.replace("\t", " "))
    if piece:
        out.append(piece, state.style() if state != _State() else None)


def _link(out: Text) -> None:
    """Styles each URL in `out` as a link (OSC 8 in terminals that support it)."""
    plain = out.plain
    if "://" not in plain:
        return
    for match in _URL.finditer(plain):
        url = match.group(0).rstrip(_URL_TAIL)
        out.stylize(Style(link=url, underline=True), match.start(), match.start() + len(url))


def plain(raw: str) -> str:
    """`raw` without formatting codes or control characters."""
    return _CONTROL.sub("", _CODE.sub("", raw))

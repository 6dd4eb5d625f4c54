"""Provides the terminal key fixes: ESC followed by a digit is Alt+digit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.keys import Keys

# The top-row keys whose ESC-prefixed form means Alt+key.
ALT_DIGITS = "1234567890"


@dataclass(frozen=True, slots=True)
class AltKey:
    """Stands in for a `Keys` member in Textual's key table; its parser reads only `value`."""

    value: str


def read_esc_digit_as_alt() -> None:
    """Makes Textual's input parser read ESC + digit as Alt+digit (idempotent).

    Textual's table maps ESC + a top-row key to the character macOS's
    Option key types there (ESC 2 becomes `™`), because WezTerm on macOS
    sends that. Everywhere else (tmux, xterm's metaSendsEscape,
    gnome-terminal, a console over SSH) the same bytes mean Alt+key, and
    the chat screen's Alt+1…9 must work there. Mapped to the key `alt+2`
    (with no character, so no field types it), the parser reports it as
    soon as the two bytes are read, also within a burst such as Alt+2
    Alt+1 (an unknown ESC sequence followed by ESC would come out as `^2`).
    Option+digit on a Mac terminal that sends the character itself still
    types it.
    """
    table = ANSI_SEQUENCES_KEYS
    assert isinstance(table, dict), "Textual's key table is a dict (Textual is pinned)"
    for digit in ALT_DIGITS:
        table[f"\x1b{digit}"] = (cast("Keys", AltKey(f"alt+{digit}")),)

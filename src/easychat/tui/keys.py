"""Provides the terminal key fixes: ESC followed by a digit is Alt+digit."""

from __future__ import annotations

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

# ESC + a top-row key, which Textual reads as the character macOS's Option
# key types there (ESC 2 becomes `™`): that is what WezTerm on macOS sends.
# Everywhere else (tmux, xterm's metaSendsEscape, gnome-terminal, a console
# over SSH) the same bytes mean Alt+key, and the chat screen's Alt+1…9 must
# work there. Without these entries Textual's parser treats ESC + digit as
# it treats ESC + letter: the key with Alt. Option+digit on a Mac terminal
# that sends the character itself still types it.
ALT_PREFIXED_KEYS = tuple(f"\x1b{key}" for key in "1234567890")


def read_esc_digit_as_alt() -> None:
    """Makes Textual's input parser read ESC + digit as Alt+digit (idempotent)."""
    table = ANSI_SEQUENCES_KEYS
    assert isinstance(table, dict), "Textual's key table is a dict (Textual is pinned)"
    for sequence in ALT_PREFIXED_KEYS:
        table.pop(sequence, None)

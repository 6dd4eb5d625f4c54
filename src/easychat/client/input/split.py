"""Provides the splitting of typed or pasted text into lines the server can relay."""

from __future__ import annotations

import re

from easychat.proto.limits import MAX_LINE_BYTES

# The longest username a server relays in `nick!user@host`: USERLEN, 18 on our
# server (and advertised in its 005); we assume it for every server.
WORST_CASE_USER_BYTES = 18

# The longest host a server relays in `nick!user@host`: HOSTLEN is 63 in the
# hybrid/ratbox/charybdis family (the longest DNS label), and servers that show
# a cloak or an address stay within it.
WORST_CASE_HOST_BYTES = 63

# What `/me` adds around its text: "\x01ACTION " before it and "\x01" after it.
CTCP_ACTION_OVERHEAD = len("\x01ACTION \x01")

# IRC ends a message at CR or LF; the split happens at any of these.
_NEWLINES = re.compile(r"\r\n|\r|\n")


def _width(char: str) -> int:
    """The bytes UTF-8 needs for one character (a lone surrogate counts as 3)."""
    code = ord(char)
    if code < 0x80:
        return 1
    if code < 0x800:
        return 2
    if code < 0x10000:
        return 3
    return 4


def _split_line(line: str, max_bytes: int) -> list[str]:
    pieces: list[str] = []
    start = 0
    while start < len(line):
        end = start
        used = 0
        while end < len(line) and used + _width(line[end]) <= max_bytes:
            used += _width(line[end])
            end += 1
        if end == len(line):
            pieces.append(line[start:])
            break
        if end == start:
            # One character wider than the budget: alone in its piece rather
            # than lost (the server cuts it).
            pieces.append(line[start])
            start += 1
            continue
        # The last space that keeps the piece within the budget; a space at
        # `end` itself qualifies, since it is consumed, not sent.
        cut = line.rfind(" ", start + 1, end + 1)
        if cut == -1:
            pieces.append(line[start:end])
            start = end
        else:
            pieces.append(line[start:cut])
            start = cut + 1
    return pieces


def split_message(text: str, max_bytes: int) -> list[str]:
    """Splits typed or pasted text into pieces that fit one IRC message each.

    The text is first split at its line breaks (CRLF, LF, CR); empty lines are
    dropped, since IRC cannot send them, and NUL characters are removed. Each
    line becomes pieces of at most `max_bytes` bytes in UTF-8, broken at the
    last space that fits (that one space is consumed), else between two
    characters. Joining the pieces with the consumed spaces and line breaks
    gives back the text. A single character wider than `max_bytes` (only
    possible below 4) forms a piece of its own.

    Args:
        text: What the user typed or pasted.
        max_bytes: The bytes available for one piece, e.g. from `text_budget`.

    Returns:
        The non-empty pieces, in order.

    Raises:
        ValueError: If `max_bytes` is less than 1.
    """
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
    pieces: list[str] = []
    for line in _NEWLINES.split(text.replace("\0", "")):
        pieces.extend(_split_line(line, max_bytes))
    return pieces


def text_budget(nick: str, target: str, command: str = "PRIVMSG") -> int:
    """The bytes left for the text of a message that the server relays.

    The relayed line is `:nick!user@host COMMAND target :text` plus CRLF and
    must fit `MAX_LINE_BYTES`; the user and host are assumed to be as long as
    `WORST_CASE_USER_BYTES` and `WORST_CASE_HOST_BYTES`.

    Args:
        nick: The own nickname.
        target: The room or nick the message goes to.
        command: The command that carries the text (PRIVMSG, NOTICE, ...).

    Returns:
        The budget in bytes, never less than 1.
    """
    overhead = len(
        f":{nick}!{'u' * WORST_CASE_USER_BYTES}@{'h' * WORST_CASE_HOST_BYTES}"
        f" {command} {target} :\r\n".encode()
    )
    return max(1, MAX_LINE_BYTES - overhead)

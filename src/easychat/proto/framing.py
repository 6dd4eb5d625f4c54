"""Provides line framing: bytes in, complete IRC lines out, with a size limit."""

from __future__ import annotations

import re
from typing import Final

from easychat.proto.limits import MAX_FRAME_BYTES

# Modern IRC ends lines with CRLF; peers in the field also send a lone LF or a
# lone CR, so each of them ends a line. Empty lines are ignored.
_EOL = re.compile(rb"\r\n|\r|\n")


class _TooLong:
    """Marks a line that exceeded the frame limit and was dropped."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TOO_LONG"


TOO_LONG: Final = _TooLong()


class LineBuffer:
    """Splits a byte stream into lines.

    `feed` returns each complete line (bytes, without its terminator) and
    TOO_LONG in place of any line longer than `max_bytes`, whose bytes are
    discarded up to its terminator. Memory held is bounded by `max_bytes`.
    """

    __slots__ = ("_buf", "_discarding", "max_bytes")

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_bytes = max_bytes
        self._buf = b""
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | _TooLong]:
        """Adds received bytes and returns the lines they complete."""
        out: list[bytes | _TooLong] = []
        if self._discarding:
            match = _EOL.search(data)
            if match is None:
                return out
            data = data[match.end() :]
            self._discarding = False
        buf = self._buf + data if self._buf else data
        # Nearly every peer ends every line with CRLF: then a plain split
        # does what the regex does, at about half the cost.
        crlf = buf.count(b"\r\n")
        if buf.count(b"\r") == crlf and buf.count(b"\n") == crlf:
            parts = buf.split(b"\r\n")
        else:
            parts = _EOL.split(buf)
        rest = parts.pop()
        if parts and max(map(len, parts)) > self.max_bytes:
            out.extend(TOO_LONG if len(part) > self.max_bytes else part for part in parts if part)
        else:
            out.extend(filter(None, parts))
        if len(rest) > self.max_bytes:
            out.append(TOO_LONG)
            rest = b""
            self._discarding = True
        self._buf = rest
        return out

    @property
    def pending(self) -> int:
        """How many bytes of an incomplete line are held."""
        return len(self._buf)

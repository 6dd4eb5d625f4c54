"""Provides the console's view of relayed messages: lines up to a rate, then a summary a second.

The chat core notes each relayed message as a plain tuple (see
`ChatCore.relayed`); once per loop turn this module turns the turn's notes
into console lines, the seed's `<nick> #room: text`, formatted from the
bytes the fast path already has: no logging record, no per-line clock read
or time formatting (one timestamp a second). Beyond `rate` lines a second in
one room the rest are only counted, and a line a second says how many
there were. A private message shows as `<nick> -> peer (private)`: its text
never reaches this module.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from enum import Enum

from easychat.chat.actions import Relayed
from easychat.net.console import Console

# Message lines shown per room per second before the rest are summarised. 20
# a second is what a person can still follow scrolling by; beyond it the
# console only needs to say that a room is busy and how busy.
DEFAULT_RATE = 20

# The key that private messages are counted under, beside the rooms.
PRIVATE = "private"

# Control characters (C0, DEL and C1 in UTF-8) in chat text are shown as '?':
# text is untrusted, and an escape sequence must not reach the operator's
# terminal.
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]")


class MessageLogMode(Enum):
    """What the console shows of relayed messages (`--log-messages`)."""

    OFF = "off"  # nothing
    SUMMARY = "summary"  # a count per room per second
    ON = "on"  # each line, up to the rate; then a count per second


def log_mode(text: str) -> MessageLogMode:
    """The `--log-messages` value: off, summary or on."""
    try:
        return MessageLogMode(text.strip().lower())
    except ValueError:
        raise ValueError("must be off, summary or on") from None


def plain_prefix(wall: float) -> bytes:
    """The seed's plain log prefix: `2026-01-31 12:00:00 INFO    `."""
    return time.strftime("%Y-%m-%d %H:%M:%S INFO    ", time.localtime(wall)).encode()


def rich_prefix(wall: float) -> bytes:
    """The prefix rich's log handler shows on a terminal: `[2026-01-31 12:00:00] INFO     `.

    In rich's colours (dim cyan time, blue level), so message lines look
    like the log records around them.
    """
    stamp = time.strftime("[%Y-%m-%d %H:%M:%S]", time.localtime(wall))
    return f"\x1b[2;36m{stamp}\x1b[0m \x1b[34mINFO    \x1b[0m ".encode()


class MessageLog:
    """Writes the turn's relayed messages to the console under the rate rule."""

    def __init__(
        self,
        console: Console,
        mode: MessageLogMode = MessageLogMode.ON,
        rate: int = DEFAULT_RATE,
        *,
        prefix: Callable[[float], bytes] = plain_prefix,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.console = console
        self.rate = rate if mode is MessageLogMode.ON else 0
        self.prefix = prefix
        self.clock = clock
        self._second = int(clock())
        self._head = prefix(self._second)
        self._counts: dict[str, int] = {}  # messages per room (or PRIVATE) this second

    def turn(self, relayed: list[Relayed]) -> None:
        """Shows or counts the turn's relayed messages and empties `relayed`."""
        now = int(self.clock())
        if now != self._second:
            self._summarise()
            self._second = now
            self._head = self.prefix(now)
        if not relayed:
            return
        counts = self._counts
        rate = self.rate
        write = self.console.write
        for nick, target, text in relayed:
            key = target if text is not None else PRIVATE
            seen = counts.get(key, 0) + 1
            counts[key] = seen
            if seen > rate:
                continue
            if text is None:
                line = b"<%s> -> %s (private)" % (nick.encode(), target.encode())
            else:
                line = b"<%s> %s: %s" % (nick.encode(), target.encode(), text)
            if _CONTROL.search(line):
                line = _CONTROL.sub(b"?", line)
            write(self._head + line + b"\n")
        relayed.clear()

    def close(self, relayed: list[Relayed]) -> None:
        """The last turn's messages, and the counts of the second the server stops in."""
        self.turn(relayed)
        self._summarise()

    def _summarise(self) -> None:
        """A line for each room that had more messages in the past second than were shown."""
        rate = self.rate
        for key, count in self._counts.items():
            if count <= rate:
                continue
            shown = f", {rate:,} of them shown" if rate else ""
            text = f"{key}: {count:,} messages in the last second{shown}\n"
            self.console.write(self.prefix(self._second) + text.encode())
        self._counts = {}

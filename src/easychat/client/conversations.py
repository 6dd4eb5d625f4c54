"""Provides the open conversations (rooms, private, server) with lines and unread counts."""

from __future__ import annotations

import enum
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from easychat.client.events import SERVER_CONVERSATION, Line, LineKind
from easychat.proto.names import casefold

# Lines kept in memory per conversation; older ones stay in the local log.
SCROLLBACK_LINES = 2000

# What counts as unread: what people said. Joins, quits, mode changes and the
# server's own text are not (irssi's and weechat's "activity" levels).
UNREAD_KINDS = frozenset({LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE})


class ConversationKind(enum.Enum):
    """What a conversation is with."""

    SERVER = "server"
    ROOM = "room"
    PRIVATE = "private"


class Paging(enum.Enum):
    """Where loading earlier lines from the server stands."""

    IDLE = "idle"
    LOADING = "loading"  # a request for the page before is out
    EXHAUSTED = "exhausted"  # the server had nothing earlier


def _key(line: Line) -> tuple[str, ...]:
    """What makes two lines the same: the msgid, else time, sender and text."""
    if line.msgid:
        return ("id", line.msgid)
    return ("line", repr(line.time), line.sender, line.text)


def _by_time(old: Iterable[Line], new: list[Line]) -> Iterator[Line]:
    """`old` and `new` interleaved by time; on a tie, `old` first (as after an AFTER)."""
    return heapq.merge(old, new, key=lambda line: line.time)


@dataclass(slots=True, eq=False)
class Conversation:
    """One entry of the side list and its lines."""

    name: str
    kind: ConversationKind
    lines: deque[Line] = field(default_factory=lambda: deque(maxlen=SCROLLBACK_LINES))
    unread: int = 0
    mentioned: bool = False
    active: bool = True  # False once we left the room or lost the connection
    left: bool = False  # we parted or were kicked: shown as "(left)" until rejoined
    # Earlier lines, shown above the separator: from the local log and the
    # server's history, oldest first.
    history: list[Line] = field(default_factory=list)
    paging: Paging = Paging.IDLE
    # Whether this run has lines of it from the server (live or fetched), so
    # a rejoin can ask for what came after the newest of them.
    synced: bool = False
    # Lines fell out of memory (past SCROLLBACK_LINES): the ones before the
    # oldest held are paged back from the local log before the server.
    earlier_in_log: bool = False
    # The time of the newest line the user has seen (remembered between runs).
    read_time: float = 0.0
    # Where the user stopped reading when they came back (a previous run):
    # later lines are new, under a marker, until they switch away.
    new_after: float | None = None
    # The newest time the server has this conversation read up to
    # (draft/read-marker, client/readmarkers.py): what we sent or were told.
    marked: float = 0.0

    def newest_time(self) -> float:
        """The time of the newest line held, 0 when there are none."""
        newest = self.lines[-1] if self.lines else (self.history[-1] if self.history else None)
        return newest.time if newest is not None else 0.0

    def count_new(self, lines: Iterable[Line]) -> None:
        """Counts, as unread, the lines said after `new_after` by others."""
        if self.new_after is None:
            return
        after = self.new_after
        new = [
            line
            for line in lines
            if line.time > after and not line.own and line.kind in UNREAD_KINDS
        ]
        self.unread += len(new)
        private = self.kind is ConversationKind.PRIVATE and bool(new)
        self.mentioned = self.mentioned or private or any(line.mention for line in new)

    def _all(self) -> Iterator[Line]:
        return itertools.chain(self.history, self.lines)

    def merge(self, fetched: Iterable[Line]) -> list[Line]:
        """Adds lines from the server's history that are not shown yet.

        A line is the same as a shown one when their msgids match (lines
        without a msgid: same time, sender and text). Lines older than the
        first live line go above the separator; newer ones (missed while
        disconnected) go among the live lines, in time order.

        Returns:
            The lines added, oldest first.
        """
        known = {_key(line) for line in self._all()}
        added: list[Line] = []
        for line in sorted(fetched, key=lambda line: line.time):
            key = _key(line)
            if key not in known:
                known.add(key)
                added.append(line)
        if not added:
            return []
        boundary = self.lines[0].time if self.lines else float("inf")
        older = [line for line in added if line.time <= boundary]
        newer = [line for line in added if line.time > boundary]
        if older and self.history and older[-1].time <= self.history[0].time:
            # A page from before everything shown (BEFORE): it goes on top
            # whole, also above lines of the same millisecond.
            self.history = older + self.history
        elif older:
            self.history = list(_by_time(self.history, older))
        if newer:
            self.lines = deque(_by_time(self.lines, newer), maxlen=SCROLLBACK_LINES)
        return added

    def replace_line(self, msgid: str, change: Callable[[Line], Line]) -> Line | None:
        """Replaces the line with this msgid by `change(line)`; returns the new line, or None."""
        for lines in (self.lines, self.history):
            for index, line in enumerate(lines):
                if line.msgid == msgid:
                    lines[index] = new = change(line)
                    return new
        return None

    def last_message(self, is_sender: Callable[[Line], bool]) -> Line | None:
        """The newest message (with a msgid, not deleted) of a sender `is_sender` accepts."""
        every = itertools.chain(reversed(self.lines), reversed(self.history))
        return next(
            (
                line
                for line in every
                if line.msgid and line.kind in UNREAD_KINDS and is_sender(line)
            ),
            None,
        )

    def oldest_msgid(self) -> str | None:
        """The msgid of the oldest line that has one: where the page before starts."""
        return next((line.msgid for line in self._all() if line.msgid), None)

    def newest_msgid(self) -> str | None:
        """The msgid of the newest line that has one: where a catch-up starts."""
        every = itertools.chain(reversed(self.lines), reversed(self.history))
        return next((line.msgid for line in every if line.msgid), None)


class Conversations:
    """The ordered list of conversations and which one is current.

    Rooms come first in the order they were joined (so `#lobby` leads),
    then private conversations, then the server's own.
    """

    def __init__(self, server_name: str, fold: Callable[[str], str] = casefold) -> None:
        self.fold = fold
        self._items: dict[str, Conversation] = {}
        self.server = self.open(server_name, ConversationKind.SERVER)
        self.current: Conversation = self.server

    def ordered(self) -> list[Conversation]:
        """Rooms, then private conversations, then the server."""
        rank = {ConversationKind.ROOM: 0, ConversationKind.PRIVATE: 1, ConversationKind.SERVER: 2}
        return sorted(self._items.values(), key=lambda c: rank[c.kind])

    def get(self, name: str) -> Conversation | None:
        """The conversation called `name` (compared case-insensitively)."""
        return self._items.get(self.fold(name))

    def open(self, name: str, kind: ConversationKind) -> Conversation:
        """The conversation `name`, created at the end of its group if new."""
        conv = self.get(name)
        if conv is None:
            conv = Conversation(name, kind)
            self._items[self.fold(name)] = conv
        conv.active = True
        conv.left = False
        return conv

    def close(self, name: str) -> None:
        """Removes a conversation; the current one falls back to a neighbour."""
        conv = self.get(name)
        if conv is None or conv is self.server:
            return
        order = self.ordered()
        index = order.index(conv)
        del self._items[self.fold(name)]
        if self.current is conv:
            rest = self.ordered()
            self.switch(rest[min(index, len(rest) - 1)])

    def rename(self, old: str, new: str) -> None:
        """A private conversation follows its peer's nick change."""
        conv = self.get(old)
        if conv is None or conv.kind is not ConversationKind.PRIVATE:
            return
        other = self.get(new)
        if other is not None and other is not conv:
            return  # already talking to `new`: keep both
        conv.name = new
        # Rebuild rather than delete and re-add, so the conversation keeps
        # its place in the side list (and a change of case still renames).
        self._items = {
            (self.fold(new) if item is conv else key): item for key, item in self._items.items()
        }

    def add(self, line: Line) -> Conversation:
        """Files a line in its conversation (None: the current one)."""
        if line.conversation is None:
            conv = self.current
        elif line.conversation == SERVER_CONVERSATION:
            conv = self.server
        else:
            conv = self.get(line.conversation) or self.open(
                line.conversation, ConversationKind.PRIVATE
            )
        if len(conv.lines) == conv.lines.maxlen:
            # The oldest line leaves memory: what is above it now comes
            # from the local log, with no gap before the history shown.
            conv.earlier_in_log = True
            conv.history = []
            conv.paging = Paging.IDLE
        conv.lines.append(line)
        conv.synced = conv.synced or line.msgid is not None
        if conv is self.current:
            conv.read_time = max(conv.read_time, line.time)
        if conv is not self.current and not line.own and line.kind in UNREAD_KINDS:
            conv.unread += 1
            # Someone talking to us alone is as urgent as a mention.
            private = conv.kind is ConversationKind.PRIVATE
            conv.mentioned = conv.mentioned or line.mention or private
        return conv

    def switch(self, conv: Conversation) -> None:
        """Makes `conv` current and marks it read."""
        old = self.current
        if old is not conv:
            old.read_time = max(old.read_time, old.newest_time())
            old.new_after = None  # read: the marker has done its job
        conv.read_time = max(conv.read_time, conv.newest_time())
        self.current = conv
        conv.unread = 0
        conv.mentioned = False

    def step(self, delta: int) -> Conversation:
        """The conversation `delta` places after the current one, wrapping."""
        order = self.ordered()
        index = order.index(self.current)
        return order[(index + delta) % len(order)]

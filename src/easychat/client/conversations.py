"""Provides the open conversations (rooms, private, server) with lines and unread counts."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from easychat.client.events import SERVER_CONVERSATION, Line
from easychat.proto.names import casefold

# Lines kept in memory per conversation; older ones stay in the local log.
SCROLLBACK_LINES = 2000


class ConversationKind(enum.Enum):
    """What a conversation is with."""

    SERVER = "server"
    ROOM = "room"
    PRIVATE = "private"


@dataclass(slots=True, eq=False)
class Conversation:
    """One entry of the side list and its lines."""

    name: str
    kind: ConversationKind
    lines: deque[Line] = field(default_factory=lambda: deque(maxlen=SCROLLBACK_LINES))
    unread: int = 0
    mentioned: bool = False
    active: bool = True  # False once we left the room or lost the connection
    history: list[Line] = field(default_factory=list)  # from the local log, shown above


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
        conv.lines.append(line)
        if conv is not self.current and not line.own:
            conv.unread += 1
            conv.mentioned = conv.mentioned or line.mention
        return conv

    def switch(self, conv: Conversation) -> None:
        """Makes `conv` current and marks it read."""
        self.current = conv
        conv.unread = 0
        conv.mentioned = False

    def step(self, delta: int) -> Conversation:
        """The conversation `delta` places after the current one, wrapping."""
        order = self.ordered()
        index = order.index(self.current)
        return order[(index + delta) % len(order)]

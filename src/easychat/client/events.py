"""Provides the events the client session reports: values the UI renders."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LineKind(enum.Enum):
    """How a line in a conversation is shown."""

    MESSAGE = "message"
    ACTION = "action"
    NOTICE = "notice"
    EVENT = "event"  # joins, parts, quits, nick and mode changes: dim one-liners
    INFO = "info"  # server text: welcome, MOTD, WHOIS, NAMES
    ERROR = "error"  # error numerics and failures
    DELETED = "deleted"  # a message its sender or an operator deleted (REDACT)


# The conversation of server status lines (the welcome burst, LUSERS, MOTD),
# which are not answers to anything the user did. Not a valid IRC name.
SERVER_CONVERSATION = "\0server"


@dataclass(frozen=True, slots=True)
class Line:
    """One displayable line.

    `conversation` is a room or a nick; None means "wherever the user is",
    and SERVER_CONVERSATION the server's own status window. `presence`
    marks someone else's join, part or quit, which a filter may hide.
    """

    conversation: str | None
    kind: LineKind
    sender: str
    text: str
    time: float
    own: bool = False
    mention: bool = False
    msgid: str | None = None
    presence: bool = False


@dataclass(frozen=True, slots=True)
class Registered:
    """The server accepted us; `welcome` is the text of its 001."""

    nick: str
    welcome: str


@dataclass(frozen=True, slots=True)
class RegistrationFailed:
    """The server refused us before 001 (nick in use, server full, ...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Joined:
    """We are now in `channel`."""

    channel: str


@dataclass(frozen=True, slots=True)
class Left:
    """We are no longer in `channel` (parted or kicked)."""

    channel: str
    reason: str


@dataclass(frozen=True, slots=True)
class MembersChanged:
    """The member list of `channel` changed."""

    channel: str


@dataclass(frozen=True, slots=True)
class TopicChanged:
    """The topic of `channel` is now `topic`."""

    channel: str
    topic: str


@dataclass(frozen=True, slots=True)
class NickChanged:
    """Our own nick changed from `old` to `new`."""

    old: str
    new: str


@dataclass(frozen=True, slots=True)
class PeerRenamed:
    """Someone else changed nick from `old` to `new` (private chats follow)."""

    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ServerClosed:
    """The server sent ERROR: it is closing the connection, for `reason`."""

    reason: str


@dataclass(frozen=True, slots=True)
class HistoryBatch:
    """A `chathistory` batch ended: the server's stored lines of `target`.

    `lines` are in time order and carry the server's msgid and time;
    `request` is the CHATHISTORY subcommand this answers ("LATEST",
    "BEFORE", "AFTER"), or None for a batch the client did not ask for.
    """

    target: str
    lines: tuple[Line, ...]
    request: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimited:
    """The server is holding back our lines (`FAIL <cmd> RATE_LIMITED`).

    `wait` is the number of seconds it said to wait, 0 when it did not say.
    """

    command: str
    wait: float


@dataclass(frozen=True, slots=True)
class HistoryFailed:
    """The server refused a CHATHISTORY request (`FAIL CHATHISTORY ...`).

    `target` is None when the reply did not name one.
    """

    target: str | None
    request: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ListedRoom:
    """One room of the server's LIST answer."""

    name: str
    users: int
    topic: str


@dataclass(frozen=True, slots=True)
class RoomList:
    """The server's answer to LIST; `truncated` if it had more rooms than kept."""

    rooms: tuple[ListedRoom, ...]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Redacted:
    """A message was deleted (IRCv3 REDACT): `msgid` of `conversation`, by `by`."""

    conversation: str
    msgid: str
    by: str
    reason: str | None
    time: float


@dataclass(frozen=True, slots=True)
class Lag:
    """Our PING took `seconds` to come back (or, with `answered` False, has waited that long)."""

    seconds: float
    answered: bool = True


@dataclass(frozen=True, slots=True)
class ReadMarker:
    """The user's account has read `target` up to the message of time `seen` (draft/read-marker).

    From the server on JOIN, on asking, and whenever one of the account's
    clients (this one too) marks the conversation read.
    """

    target: str
    seen: float


Event = (
    Line
    | Registered
    | RegistrationFailed
    | Joined
    | Left
    | MembersChanged
    | TopicChanged
    | NickChanged
    | PeerRenamed
    | ServerClosed
    | HistoryBatch
    | HistoryFailed
    | RateLimited
    | RoomList
    | Redacted
    | Lag
    | ReadMarker
)

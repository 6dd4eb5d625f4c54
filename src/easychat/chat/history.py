"""Provides the chat core's view of message history: records, selectors and the store interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from easychat.proto.message import Message


class HistoryWriteError(Exception):
    """The store could not make a turn's records durable."""


@dataclass(frozen=True, slots=True)
class Record:
    """One stored message or room event.

    `target` is the history key: a casefolded room name, or for a private
    conversation the two casefolded nicks joined by a NUL (sorted), so both
    participants find the same history and nobody else can name it.
    """

    msgid: str
    time_ms: int
    target: str
    message: Message  # as relayed, without tags
    tags: dict[str, str] = field(default_factory=dict)  # client-only tags (+foo)
    seq: int = 0  # the store's order; set on records read back


@dataclass(frozen=True, slots=True)
class Selector:
    """A point in a target's history: a msgid, or a time in milliseconds."""

    msgid: str | None = None
    time_ms: int | None = None


class HistoryStore(Protocol):
    """What the chat core needs from a history store (SQLite, later Redis).

    Writes are buffered: `append` adds to the current transaction, which
    `commit` makes durable. The server commits once per loop turn, before
    that turn's output is sent. Reads see everything appended so far.
    Every query returns records in ascending time order.
    """

    def append(self, record: Record) -> None:
        """Adds a record to the current transaction."""

    def append_line(self, msgid: str, time_ms: int, target: str, command: str, line: str) -> None:
        """`append` for a message already formatted, as relayed without tags."""

    def commit(self, *, sync: bool = True) -> None:
        """Makes everything appended durable; with `sync=False`, committed but
        not yet on disk until `sync` (see `syncs`)."""

    @property
    def syncs(self) -> bool:
        """Whether `commit(sync=False)` leaves work for `sync` (a file; not memory)."""

    def sync(self) -> None:
        """Makes what was committed durable (an fsync); may run on another thread."""

    # `messages_only` keeps PRIVMSG, NOTICE and TAGMSG and drops room events
    # (for clients without draft/event-playback), inside the limit.

    def latest(
        self,
        target: str,
        limit: int,
        after: Selector | None = None,
        *,
        messages_only: bool = False,
    ) -> list[Record]:
        """The last `limit` records, optionally only those after `after`."""

    def before(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records just before `point` (exclusive)."""

    def after(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records just after `point` (exclusive)."""

    def around(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records centred on `point`."""

    def between(
        self,
        target: str,
        start: Selector,
        end: Selector,
        limit: int,
        *,
        messages_only: bool = False,
    ) -> list[Record]:
        """Up to `limit` records strictly between two points, from `start` on."""

    def targets(
        self, keys: list[str], start_ms: int, end_ms: int, limit: int
    ) -> list[tuple[str, int]]:
        """Of `keys`, those with records in the time range, with their latest time."""

    def redact(self, target: str, msgid: str, time_ms: int, source: str) -> bool:
        """Removes one record (IRCv3 message redaction) in the current transaction,
        noting who (`source`) and when; False when `target` has no such msgid."""

    def private_keys(self, nick_key: str) -> list[str]:
        """The private-conversation keys that involve this casefolded nick."""

    def prune(self, before_ms: int) -> int:
        """Deletes records older than `before_ms`; returns how many."""

    def forget(self, target: str) -> int:
        """Deletes every record of one target (a dropped room); returns how many."""

    def rename(self, target: str, new: str) -> int:
        """Moves every record of one target to another key (a renamed room); returns how many."""

    def last_time_ms(self) -> int:
        """The time of the newest record (0 when empty)."""


def private_key(a: str, b: str) -> str:
    """The history key of the private conversation between two casefolded nicks."""
    return f"{a}\0{b}" if a <= b else f"{b}\0{a}"

"""Provides how the chat core stamps, tags, stores and addresses what it sends."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from easychat.chat.actions import Action, Send
from easychat.chat.history import HistoryStore, Record
from easychat.chat.identity.accounts import AccountStore, extended_join, source_account
from easychat.chat.state import Channel, Client
from easychat.proto.message import Message
from easychat.proto.servertime import format_time

if TYPE_CHECKING:
    from easychat.chat.core import ChatCore

# What decides the tags a client gets: server-time, message-tags,
# account-tag, extended-join.
CapsClass = tuple[bool, bool, bool, bool]


def caps_class(client: Client) -> CapsClass:
    """The client's capability class (see `CapsClass`)."""
    caps = client.caps
    return (
        "server-time" in caps,
        "message-tags" in caps,
        "account-tag" in caps,
        "extended-join" in caps,
    )


class Delivery:
    """ChatCore's output side: msgids and times, tags per capability class,
    room broadcasts the shell can coalesce, and history records.

    ChatCore creates the state declared here.
    """

    clock: Callable[[], float]
    history: HistoryStore | None
    accounts: AccountStore | None
    _out: list[Action]
    _last_ms: int
    _batches: int
    _msgid_prefix: str
    _msgid_seq: int
    _uncommitted: bool
    _history_read: bool

    def _core(self) -> ChatCore:
        return cast("ChatCore", self)

    def stamp(self) -> tuple[str, int]:
        """A new msgid and the current time in ms (never earlier than the last)."""
        # Once per relayed message: plain comparisons and one format call.
        now_ms = int(self.clock() * 1000)
        if now_ms < self._last_ms:
            now_ms = self._last_ms
        else:
            self._last_ms = now_ms
        seq = self._msgid_seq + 1
        self._msgid_seq = seq
        return self._msgid_prefix + format(seq, "x"), now_ms

    def stamped_since(self, msgid: str, seq: int) -> bool:
        """Whether `msgid` was stamped by this server run at or after counter value `seq`.

        Exact where times are not: several messages share a millisecond.
        A msgid of an earlier run (another prefix) or of another server is
        never since.
        """
        prefix = self._msgid_prefix
        if not msgid.startswith(prefix):
            return False
        try:
            return int(msgid[len(prefix) :], 16) >= seq
        except ValueError:
            return False

    def new_batch(self) -> str:
        """A reference for a BATCH, unique on this server."""
        self._batches += 1
        return f"b{self._batches}"

    def tags_for(
        self, msgid: str, time_ms: int, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The tags of a stamped message: time, msgid and client-only tags."""
        tags = {"time": format_time(time_ms), "msgid": msgid}
        if extra:
            tags.update(extra)
        return tags

    def deliver(self, clients: Iterable[Client], msg: Message, tags: dict[str, str]) -> None:
        """Sends `msg` to each client with the tags its capabilities allow.

        `server-time` gets the `time` tag; `message-tags` gets the rest
        (msgid, client-only tags, batch). Recipients with the same
        capabilities share one Send, so the line is encoded once per group.
        `account-tag` adds the sender's `account`; `extended-join` gets
        JOIN with the account and real name.
        """
        groups: dict[CapsClass, list[int]] = {}
        for client in clients:
            groups.setdefault(caps_class(client), []).append(client.id)
        account = source_account(self._core(), msg) if self._core().has_accounts else None
        for key, ids in groups.items():
            self._out.append(Send(tuple(ids), self._variant(key, msg, tags, account)))

    def broadcast(
        self, channel: Channel, sender: Client, msg: Message, tags: dict[str, str], *, echo: bool
    ) -> None:
        """Sends a message to a whole room (the sender only with `echo`).

        When every member has the same capabilities, this is one Send to the
        room's cached member tuple with the sender excluded, which lets the
        shell coalesce a turn's messages to the room into one chunk per member.
        """
        ids, key = self.audience(channel)
        if key is None:
            recipients = [m for m in channel.members if echo or m is not sender]
            self.deliver(recipients, msg, tags)
            return
        account = source_account(self._core(), msg) if self._core().has_accounts else None
        variant = self._variant(key, msg, tags, account)
        self._out.append(Send(ids, variant, None if echo else sender.id))

    def audience(self, channel: Channel) -> tuple[tuple[int, ...], CapsClass | None]:
        """The room's member ids (one tuple while membership lasts) and their
        common capability class, or None when members differ."""
        cached = channel.audience
        if cached is None:
            ids = tuple(member.id for member in channel.members)
            keys = {caps_class(member) for member in channel.members}
            cached = (ids, keys.pop() if len(keys) == 1 else None)
            channel.audience = cached
        return cached

    def _variant(
        self, key: CapsClass, msg: Message, tags: dict[str, str], account: str | None
    ) -> Message:
        """`msg` with the tags (and JOIN form) one capability class gets."""
        with_time, with_tags, with_account, extended = key
        if with_tags:
            chosen = tags if with_time else {k: v for k, v in tags.items() if k != "time"}
        elif with_time and "time" in tags:
            chosen = {"time": tags["time"]}
            if "batch" in tags:
                chosen["batch"] = tags["batch"]
        else:
            chosen = {"batch": tags["batch"]} if "batch" in tags else {}
        if with_account and account is not None:
            chosen = {**chosen, "account": account}
        out = extended_join(self._core(), msg) if extended else msg
        return replace(out, tags=chosen) if chosen else out

    def read_history(self) -> HistoryStore | None:
        """The history store, for a read whose answer is sent this turn.

        A read may return what an earlier turn committed but whose fsync
        has not ended yet; the turn that read is then held like one that
        stored (see `ChatCore.end_turn`), so nobody is shown a message that
        a crash could still take back.
        """
        if self.history is not None:
            self._history_read = True
        return self.history

    def record(
        self, key: str, msg: Message, msgid: str, time_ms: int, tags: dict[str, str] | None = None
    ) -> None:
        """Stores a message or event under a history key (if history is on)."""
        if self.history is not None:
            self.history.append(Record(msgid, time_ms, key, msg, tags or {}))
            self._uncommitted = True

    def record_line(self, key: str, command: str, line: str, msgid: str, time_ms: int) -> None:
        """`record` for a message already formatted (no tags): the fast path's."""
        if self.history is not None:
            self.history.append_line(msgid, time_ms, key, command, line)
            self._uncommitted = True

    def unrecord(self, key: str, msgid: str, time_ms: int, source: str) -> bool:
        """Removes a stored message (a redaction by `source`) in this turn's transaction.

        Committed with the turn, before its output is sent, like a record.
        """
        if self.history is None or not self.history.redact(key, msgid, time_ms, source):
            return False
        self._uncommitted = True
        return True

    def event(
        self, channels: Iterable[Channel], recipients: Iterable[Client], msg: Message
    ) -> None:
        """A room event (JOIN, PART, KICK, QUIT, NICK, TOPIC): stamped, stored, sent."""
        msgid, time_ms = self.stamp()
        for channel in channels:
            self.record(channel.folded, msg, msgid, time_ms)
        self.deliver(recipients, msg, self.tags_for(msgid, time_ms))

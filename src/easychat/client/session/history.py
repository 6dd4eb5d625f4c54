"""Provides the client Session's chathistory: requests, batches of past lines, FAIL replies."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from easychat.client.events import (
    Event,
    HistoryBatch,
    HistoryFailed,
    Line,
    LineKind,
    RateLimited,
)
from easychat.proto.message import Message

if TYPE_CHECKING:
    from easychat.client.session.rooms import Room

# The IRCv3 chathistory capability (still a draft: the name carries the prefix).
HISTORY_CAP = "draft/chathistory"

# The batch type a CHATHISTORY reply comes in (ratified, so unprefixed).
HISTORY_BATCH = "chathistory"

# CHATHISTORY subcommands, to read the context of a `FAIL CHATHISTORY` reply.
_HISTORY_SUBCOMMANDS = {"LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS"}

# Batches open at once. A server needs one or two (a chathistory batch,
# perhaps nested in another); past this, a `BATCH +` is ignored and its
# lines are shown as live lines, so a broken server cannot grow our memory.
MAX_OPEN_BATCHES = 16

# Lines kept from one chathistory batch. We ask for a page of at most
# HISTORY_PAGE lines (app) and the server clamps to its own CHATHISTORY
# limit; a batch past this is a misbehaving server: the rest is dropped.
MAX_BATCH_LINES = 5000

# CHATHISTORY requests awaiting their batch or FAIL. Each request gets
# exactly one reply, in order; past this many the oldest is forgotten.
MAX_PENDING_HISTORY = 64

# A msgid usable in a `msgid=` selector: one middle parameter.
_SELECTOR_VALUE = re.compile(r"[^\s\x00]+\Z")

# The wait in a RATE_LIMITED description ("... retry in 3 s", "... in 0.5 s").
_WAIT = re.compile(r"\bin (\d+(?:\.\d+)?) ?s\b")


@dataclass(slots=True)
class _Batch:
    """An open IRCv3 batch: its type, its first parameter and, for chathistory, its lines."""

    kind: str
    target: str
    lines: list[Line] = field(default_factory=list)


class HistoryMixin:
    """The Session's side of chathistory: what it asks for and what comes back.

    Mixed into `Session`, which owns the attributes declared here and
    creates `_batches` and `_history_pending` empty.
    """

    caps: set[str]
    isupport: dict[str, str]
    _batches: dict[str, _Batch]
    # (target, subcommand) of each CHATHISTORY sent and not yet answered.
    _history_pending: deque[tuple[str, str]]

    if TYPE_CHECKING:

        def same(self, a: str, b: str) -> bool: ...

        def room(self, name: str) -> Room | None: ...

        def _line(self, msg: Message, conv: str | None, kind: LineKind, text: str) -> Line: ...

        def _message(self, msg: Message, kind: LineKind) -> list[Event]: ...

    @property
    def supports_history(self) -> bool:
        """Whether the server acked chathistory (and the batches it answers in)."""
        return HISTORY_CAP in self.caps and "batch" in self.caps

    @property
    def history_limit(self) -> int:
        """The most lines one CHATHISTORY request may ask for (ISUPPORT); 0: no limit."""
        value = self.isupport.get("CHATHISTORY", "")
        return int(value) if value.isascii() and value.isdigit() else 0

    def history_latest(self, target: str, limit: int) -> list[Message]:
        """`CHATHISTORY LATEST <target> * <limit>`: the newest lines of `target`.

        Returns no message when the server does not support chathistory.
        """
        return self._history_request("LATEST", target, "*", limit)

    def history_before(self, target: str, msgid: str, limit: int) -> list[Message]:
        """`CHATHISTORY BEFORE <target> msgid=<id> <limit>`: the page before `msgid`."""
        return self._history_request("BEFORE", target, f"msgid={msgid}", limit, msgid)

    def history_after(self, target: str, msgid: str, limit: int) -> list[Message]:
        """`CHATHISTORY AFTER <target> msgid=<id> <limit>`: what came after `msgid`."""
        return self._history_request("AFTER", target, f"msgid={msgid}", limit, msgid)

    def _history_request(
        self, sub: str, target: str, selector: str, limit: int, msgid: str | None = None
    ) -> list[Message]:
        if not self.supports_history or not target or " " in target:
            return []
        if msgid is not None and not _SELECTOR_VALUE.match(msgid):
            return []  # a msgid that cannot travel as one parameter
        most = self.history_limit
        count = max(1, min(limit, most) if most else limit)
        self._history_pending.append((target, sub))
        return [Message("CHATHISTORY", (sub, target, selector, str(count)))]

    def _answered(self, target: str | None, sub: str | None) -> str | None:
        """Forgets the oldest pending request matching `target` and `sub`; its subcommand."""
        for i, (want, kind) in enumerate(self._history_pending):
            if (target is None or self.same(want, target)) and (sub is None or kind == sub):
                del self._history_pending[i]
                return kind
        return None

    def _batched(self, msg: Message) -> bool:
        """Files `msg` in the chathistory batch it belongs to; whether it did."""
        ref = msg.tags.get("batch")
        if ref is not None and msg.command != "BATCH":
            batch = self._batches.get(ref)
            if batch is not None and batch.kind == HISTORY_BATCH:
                self._collect(batch, msg)
                return True
        return False

    def _on_batch(self, msg: Message) -> list[Event]:
        if not msg.params or len(msg.params[0]) < 2:
            return []
        sign, ref = msg.params[0][0], msg.params[0][1:]
        if sign == "+":
            if len(self._batches) < MAX_OPEN_BATCHES and ref not in self._batches:
                kind = msg.params[1].lower() if len(msg.params) > 1 else ""
                target = msg.params[2] if len(msg.params) > 2 else ""
                if kind == HISTORY_BATCH and not target:
                    kind = ""  # no target to file its lines under: an unknown batch
                self._batches[ref] = _Batch(kind, target)
            return []
        if sign != "-":
            return []
        batch = self._batches.pop(ref, None)
        if batch is None or batch.kind != HISTORY_BATCH:
            return []
        room = self.room(batch.target)
        target = room.name if room is not None else batch.target
        lines = tuple(sorted(batch.lines, key=lambda line: line.time))
        return [HistoryBatch(target, lines, self._answered(target, None))]

    def _collect(self, batch: _Batch, msg: Message) -> None:
        """Files a message of a chathistory batch as a line of the batch's target."""
        if msg.command not in {"PRIVMSG", "NOTICE"} or len(batch.lines) >= MAX_BATCH_LINES:
            return  # no state changes from replayed events (JOIN, ...)
        kind = LineKind.MESSAGE if msg.command == "PRIVMSG" else LineKind.NOTICE
        room = self.room(batch.target)
        target = room.name if room is not None else batch.target
        for event in self._message(msg, kind):
            if isinstance(event, Line):
                batch.lines.append(replace(event, conversation=target))

    def _on_fail(self, msg: Message) -> list[Event]:
        # FAIL <command> <code> [<context>...] <description> (standard replies)
        if len(msg.params) < 3:
            return []
        command, code, description = msg.params[0].upper(), msg.params[1], msg.params[-1]
        context = msg.params[2:-1]
        if code == "RATE_LIMITED":
            found = _WAIT.search(description)
            wait = float(found.group(1)) if found else 0.0
            return [
                RateLimited(command, wait),
                self._line(msg, None, LineKind.ERROR, f"{command}: {description}"),
            ]
        if command != "CHATHISTORY":
            return [self._line(msg, None, LineKind.ERROR, f"{command} failed: {description}")]
        sub = context[0].upper() if context and context[0].upper() in _HISTORY_SUBCOMMANDS else None
        target = context[1] if sub is not None and len(context) > 1 else None
        request = self._answered(target, sub) or sub
        where = f" of {target}" if target else ""
        text = f"Could not load the history{where}: {description} ({code})"
        return [
            HistoryFailed(target, request, description),
            self._line(msg, None, LineKind.ERROR, text),
        ]

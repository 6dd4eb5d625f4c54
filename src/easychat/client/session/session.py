"""Provides the client Session: IRC state and events, fed Messages, no I/O."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from easychat.client.events import Event, Line, LineKind, RegistrationFailed, ServerClosed
from easychat.client.input.split import split_message, text_budget
from easychat.client.masks import IgnoreList
from easychat.client.session.auth import AuthMixin
from easychat.client.session.ctcp import CtcpMixin
from easychat.client.session.history import (
    HISTORY_BATCH,
    HISTORY_CAP,
    MAX_BATCH_LINES,
    MAX_OPEN_BATCHES,
    MAX_PENDING_HISTORY,
    HistoryMixin,
)
from easychat.client.session.lag import LagMixin
from easychat.client.session.numerics import NumericsMixin
from easychat.client.session.peers import PeersMixin
from easychat.client.session.readmarker import READ_MARKER_CAP, ReadMarkerMixin
from easychat.client.session.redaction import REDACTION_CAP, RedactionMixin
from easychat.client.session.roomlist import RoomListMixin
from easychat.client.session.rooms import Member, Room, RoomsMixin
from easychat.proto.message import Message
from easychat.proto.names import casefold_for

__all__ = [
    "HISTORY_BATCH",
    "HISTORY_CAP",
    "MAX_BATCH_LINES",
    "MAX_OPEN_BATCHES",
    "MAX_PENDING_HISTORY",
    "WANTED_CAPS",
    "Member",
    "Room",
    "Session",
]

# Capabilities the client uses when the server offers them.
WANTED_CAPS = frozenset(
    {
        "multi-prefix",
        "server-time",
        "echo-message",
        "message-tags",
        "batch",
        "away-notify",
        "setname",
        "invite-notify",
        HISTORY_CAP,
        REDACTION_CAP,
        READ_MARKER_CAP,
    }
)

_ACTION = re.compile(r"\x01ACTION (.*?)\x01?\Z", re.DOTALL)


class Session(
    NumericsMixin,
    AuthMixin,
    RoomsMixin,
    HistoryMixin,
    CtcpMixin,
    PeersMixin,
    RoomListMixin,
    RedactionMixin,
    LagMixin,
    ReadMarkerMixin,
):
    """Client-side IRC state machine.

    `start()` gives the lines that open a connection; `feed(msg)` takes each
    message from the server and returns the events to show; `take_outgoing()`
    returns what the session itself must send (PONG, CAP END). The `say`,
    `join`, ... methods build the messages for what the user asked.
    """

    def __init__(
        self,
        nick: str,
        username: str | None = None,
        realname: str | None = None,
        clock: Callable[[], float] = time.time,
        *,
        password: str | None = None,
        create_account: bool = False,
    ) -> None:
        self.nick = nick
        self.username = username or nick.lower()
        self.realname = realname or nick
        self.clock = clock
        self.registered = False
        self.server_name = ""
        self.isupport: dict[str, str] = {}
        self.caps: set[str] = set()
        self.rooms: dict[str, Room] = {}
        self.prefix_modes = {"o": "@", "v": "+"}
        self.fold: Callable[[str], str] = casefold_for("rfc1459")
        # After a reconnect our old nick may still be held by the dead
        # connection until the server notices; then take `nick_` instead.
        self.alt_nick_on_collision = False
        # Logging in (client/session/auth.py): SASL SCRAM-SHA-256 or PLAIN, else PASS; or REGISTER.
        self.password = password or None
        self.create_account = create_account
        self.account: str | None = None
        self._auth_pending = False
        self._offered: set[str] = set()
        self.sasl_mechanisms: set[str] = set()
        self._scram = None
        self._sasl_in = ""
        self._out: list[Message] = []
        self._batches = {}
        self._history_pending = deque(maxlen=MAX_PENDING_HISTORY)
        # CTCP answers, addresses seen, the ignore list, LIST (ctcp, peers, roomlist).
        self._ctcp_replies = deque()
        self._hosts = {}
        self.ignores = IgnoreList()
        self._listing, self._listing_cut = None, False

    # -- the connection's life ---------------------------------------------

    def start(self) -> list[Message]:
        """The lines that open the conversation with the server."""
        return [
            Message("CAP", ("LS", "302")),
            Message("NICK", (self.nick,)),
            Message("USER", (self.username, "0", "*", self.realname)),
        ]

    def take_outgoing(self) -> list[Message]:
        """Messages the session queued on its own (PONG, CAP REQ/END)."""
        out, self._out = self._out, []
        return out

    def is_channel(self, target: str) -> bool:
        """Whether `target` names a room on this server (CHANTYPES)."""
        return bool(target) and target[0] in self.isupport.get("CHANTYPES", "#&")

    def same(self, a: str, b: str) -> bool:
        """Whether two names are equal under the server's casemapping."""
        return self.fold(a) == self.fold(b)

    # -- from the server ---------------------------------------------------

    def feed(self, msg: Message) -> list[Event]:
        """Takes one message from the server; returns what to show."""
        self._seen(msg)
        if self._batched(msg):
            return []
        if msg.command.isdigit():
            return self._numeric(msg)
        handler = getattr(self, f"_on_{msg.command.lower()}", None)
        if handler is not None:
            result: list[Event] = handler(msg)
            return result
        return []

    def _time(self, msg: Message) -> float:
        stamp = msg.tags.get("time")
        if stamp and "server-time" in self.caps:
            try:
                return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass  # a malformed tag: fall back to our own clock
        return self.clock()

    def _line(self, msg: Message, conv: str | None, kind: LineKind, text: str) -> Line:
        return Line(conv, kind, msg.nick or self.server_name, text, self._time(msg))

    def _on_ping(self, msg: Message) -> list[Event]:
        self._out.append(Message("PONG", msg.params[-1:] or ("",)))
        return []

    def _on_cap(self, msg: Message) -> list[Event]:
        if len(msg.params) < 3:
            return []
        sub = msg.params[1].upper()
        if sub == "LS":
            for item in msg.params[-1].split():
                name, _, value = item.partition("=")
                self._offered.add(name)
                if name == "sasl":
                    self.sasl_mechanisms = {mech.upper() for mech in value.split(",") if mech}
            if msg.params[2] == "*":
                return []  # more LS lines follow
            wanted = sorted((WANTED_CAPS | self.auth_caps()) & self._offered)
            failed = [] if self.registered else self.auth_after_ls()
            if failed:
                return failed
            if wanted and not self.registered:
                self._out.append(Message("CAP", ("REQ", " ".join(wanted))))
            elif not self.registered and not self._auth_pending:
                self._out.append(Message("CAP", ("END",)))
        elif sub in {"ACK", "NAK"}:
            if sub == "ACK":
                for item in msg.params[-1].split():
                    if item.startswith("-"):
                        self.caps.discard(item[1:])
                    else:
                        self.caps.add(item)
            elif self.password and not self.create_account and "sasl" in self._offered:
                # Our REQ (with sasl) was refused whole: the password goes as PASS.
                self._out.append(Message("PASS", (self.password,)))
            if not self.registered:
                self.auth_after_ack(msg.params[-1].split() if sub == "ACK" else [])
                if not self._auth_pending:
                    self._out.append(Message("CAP", ("END",)))
        elif sub == "DEL":
            for item in msg.params[-1].split():
                name = item.split("=", 1)[0]
                self.caps.discard(name)
                self._offered.discard(name)
        return []

    def _on_error(self, msg: Message) -> list[Event]:
        reason = msg.params[0] if msg.params else "Connection closed by the server"
        if not self.registered:
            return [RegistrationFailed(f"The server refused the connection: {reason}")]
        return [ServerClosed(reason)]

    def _on_fail(self, msg: Message) -> list[Event]:
        handled = self._auth_fail(msg)
        return handled if handled is not None else HistoryMixin._on_fail(self, msg)

    def _on_privmsg(self, msg: Message) -> list[Event]:
        return self._message(msg, LineKind.MESSAGE)

    def _on_notice(self, msg: Message) -> list[Event]:
        return self._message(msg, LineKind.NOTICE)

    def _message(self, msg: Message, kind: LineKind) -> list[Event]:
        if len(msg.params) < 2 or self._ignored(msg):
            return []
        target, text = msg.params[0], msg.params[1]
        sender = msg.nick or self.server_name
        own = msg.nick is not None and self.same(sender, self.nick)
        if msg.source is None or ("!" not in msg.source and not self.registered):
            return [Line(None, LineKind.INFO, sender, text, self._time(msg))]
        if text.startswith("\x01"):
            match = _ACTION.match(text)
            if match is None:
                return self._ctcp(msg, text, reply=kind is LineKind.NOTICE, own=own)
            text, kind = match.group(1), LineKind.ACTION
        if self.is_channel(target.lstrip("@+")):
            conv: str | None = target.lstrip("@+")
            if target[:1] in "@+":  # STATUSMSG: said to the room's operators (or voiced) only
                text = f"[to {target}] {text}"
            room = self.room(conv or "")
            conv = room.name if room is not None else conv
        elif own:
            conv = target
        elif "!" not in (msg.source or ""):
            conv = None  # from the server itself
        else:
            conv = sender
        mention = not own and self.mentions_me(text)
        return [
            Line(conv, kind, sender, text, self._time(msg), own, mention, msg.tags.get("msgid"))
        ]

    def mentions_me(self, text: str) -> bool:
        """Whether `text` contains our nick as a word."""
        pattern = rf"(?<![\w\[\]\\`^{{|}}-]){re.escape(self.fold(self.nick))}(?![\w\[\]\\`^{{|}}-])"
        return re.search(pattern, self.fold(text)) is not None

    def _on_invite(self, msg: Message) -> list[Event]:
        if len(msg.params) < 2:
            return []
        target, room = msg.params[0], msg.params[1]
        if not self.same(target, self.nick):  # invite-notify: someone else was invited
            joined = self.room(room)
            shown = joined.name if joined is not None else room
            return [self._line(msg, shown, LineKind.EVENT, f"{msg.nick} invited {target}")]
        text = f"{msg.nick} invites you to {room} (type /join {room})"
        return [self._line(msg, None, LineKind.INFO, text)]

    # -- to the server -----------------------------------------------------

    def say(
        self, target: str, text: str, *, action: bool = False
    ) -> tuple[list[Message], list[Event]]:
        """PRIVMSGs for `text` (split to fit), and the local echo to show.

        Without `echo-message` the server does not send our own messages
        back, so the session shows them itself.
        """
        overhead = len("\x01ACTION \x01") if action else 0
        budget = max(1, text_budget(self.nick, target) - overhead)
        messages: list[Message] = []
        events: list[Event] = []
        for piece in split_message(text, budget):
            body = f"\x01ACTION {piece}\x01" if action else piece
            messages.append(Message("PRIVMSG", (target, body)))
            if "echo-message" not in self.caps:
                conv = target
                room = self.room(target)
                if room is not None:
                    conv = room.name
                kind = LineKind.ACTION if action else LineKind.MESSAGE
                events.append(Line(conv, kind, self.nick, piece, self.clock(), own=True))
        return messages, events

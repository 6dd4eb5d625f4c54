"""Provides the client Session: IRC state and events, fed Messages, no I/O."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from easychat.client.events import (
    SERVER_CONVERSATION,
    Event,
    HistoryBatch,
    HistoryFailed,
    Joined,
    Left,
    Line,
    LineKind,
    MembersChanged,
    NickChanged,
    PeerRenamed,
    Registered,
    RegistrationFailed,
    ServerClosed,
    TopicChanged,
)
from easychat.client.split import split_message, text_budget
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold_for

# The IRCv3 chathistory capability (still a draft: the name carries the prefix).
HISTORY_CAP = "draft/chathistory"

# Capabilities the client uses when the server offers them.
WANTED_CAPS = frozenset(
    {
        "multi-prefix",
        "server-time",
        "echo-message",
        "message-tags",
        "batch",
        HISTORY_CAP,
    }
)

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


# Numerics that end registration with a reason the login screen shows.
_REGISTRATION_ERRORS = {
    n.ERR_NICKNAMEINUSE: "Nickname {0} is already in use",
    n.ERR_ERRONEUSNICKNAME: "Nickname {0} is not allowed by the server",
    n.ERR_NONICKNAMEGIVEN: "No nickname given",
    "465": "You are banned from this server",  # ERR_YOUREBANNEDCREEP
    "464": "The server needs a password",  # ERR_PASSWDMISMATCH
    # ERR_UNAVAILRESOURCE: hybrid, solanum and others hold a nick a while
    # after its connection died ("nick delay"), exactly the reconnect case.
    n.ERR_UNAVAILRESOURCE: "Nickname {0} is temporarily unavailable",
}

# Nick numerics that, after a reconnect, make the session try `nick_`.
_NICK_TAKEN = {n.ERR_NICKNAMEINUSE, n.ERR_UNAVAILRESOURCE}

# The NICKLEN assumed until the server's 005 says otherwise (our server's).
DEFAULT_NICKLEN = 30

# Numerics only about the state the session tracks; nothing to show.
# Status numerics: the registration burst, LUSERS and the MOTD. They go to
# the server window rather than into the conversation the user is reading.
_STATUS = {
    n.RPL_YOURHOST,
    n.RPL_CREATED,
    "250",  # RPL_STATSCONN (ngircd, hybrid)
    n.RPL_LUSERCLIENT,
    n.RPL_LUSEROP,
    n.RPL_LUSERUNKNOWN,
    n.RPL_LUSERCHANNELS,
    n.RPL_LUSERME,
    n.RPL_LOCALUSERS,
    n.RPL_GLOBALUSERS,
    n.RPL_MOTDSTART,
    n.RPL_MOTD,
    n.RPL_ENDOFMOTD,
    n.ERR_NOMOTD,
}

_SILENT = {
    n.RPL_ISUPPORT,
    n.RPL_MYINFO,
    n.RPL_TOPICWHOTIME,
    n.RPL_CREATIONTIME,
    n.RPL_ENDOFWHO,
    n.RPL_ENDOFNAMES,
    n.RPL_NAMREPLY,
    n.RPL_TOPIC,
}

_ACTION = re.compile(r"\x01ACTION (.*?)\x01?\Z", re.DOTALL)


@dataclass(slots=True)
class Member:
    """A nick in a room with its membership prefixes (`@`, `+`)."""

    nick: str
    prefixes: str = ""


@dataclass(slots=True)
class _Batch:
    """An open IRCv3 batch: its type, its first parameter and, for chathistory, its lines."""

    kind: str
    target: str
    lines: list[Line] = field(default_factory=list)


@dataclass(slots=True)
class Room:
    """What the session knows of a room it is in."""

    name: str
    members: dict[str, Member] = field(default_factory=dict)
    topic: str = ""
    names_done: bool = True


class Session:
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
        self._offered: set[str] = set()
        self._out: list[Message] = []
        self._batches: dict[str, _Batch] = {}
        # (target, subcommand) of each CHATHISTORY sent and not yet answered.
        self._history_pending: deque[tuple[str, str]] = deque(maxlen=MAX_PENDING_HISTORY)

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

    def room(self, name: str) -> Room | None:
        """The room `name`, if we are in it."""
        return self.rooms.get(self.fold(name))

    # -- from the server ---------------------------------------------------

    def feed(self, msg: Message) -> list[Event]:
        """Takes one message from the server; returns what to show."""
        ref = msg.tags.get("batch")
        if ref is not None and msg.command != "BATCH":
            batch = self._batches.get(ref)
            if batch is not None and batch.kind == HISTORY_BATCH:
                self._collect(batch, msg)
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
                self._offered.add(item.split("=", 1)[0])
            if msg.params[2] == "*":
                return []  # more LS lines follow
            wanted = sorted(WANTED_CAPS & self._offered)
            if wanted and not self.registered:
                self._out.append(Message("CAP", ("REQ", " ".join(wanted))))
            elif not self.registered:
                self._out.append(Message("CAP", ("END",)))
        elif sub in {"ACK", "NAK"}:
            if sub == "ACK":
                for item in msg.params[-1].split():
                    if item.startswith("-"):
                        self.caps.discard(item[1:])
                    else:
                        self.caps.add(item)
            if not self.registered:
                self._out.append(Message("CAP", ("END",)))
        elif sub == "DEL":
            for item in msg.params[-1].split():
                name = item.split("=", 1)[0]
                self.caps.discard(name)
                self._offered.discard(name)
        return []

    # -- batches and history -------------------------------------------------

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

    def _on_error(self, msg: Message) -> list[Event]:
        reason = msg.params[0] if msg.params else "Connection closed by the server"
        if not self.registered:
            return [RegistrationFailed(f"The server refused the connection: {reason}")]
        return [ServerClosed(reason)]

    def _numeric(self, msg: Message) -> list[Event]:
        code = msg.command
        args = msg.params[1:]
        if code == n.RPL_WELCOME:
            self.registered = True
            self.server_name = msg.source or ""
            if msg.params:
                self.nick = msg.params[0]
            return [Registered(self.nick, args[-1] if args else "")]
        if code in _NICK_TAKEN and not self.registered and self.alt_nick_on_collision:
            nicklen = self._nicklen()
            alt = self.nick[: nicklen - 1] + "_"
            # At NICKLEN, `nick_` is the nick just refused: give up rather
            # than send the same NICK for ever.
            if not self.same(alt, self.nick):
                self.nick = alt
                self._out.append(Message("NICK", (self.nick,)))
                return [self._line(msg, None, LineKind.INFO, f"Nick in use, trying {self.nick}")]
        if not self.registered and code in _REGISTRATION_ERRORS:
            detail = args[0] if args else self.nick
            return [RegistrationFailed(_REGISTRATION_ERRORS[code].format(detail))]
        if code == n.RPL_ISUPPORT:
            self._isupport(args[:-1])
        elif code == n.RPL_NAMREPLY and len(args) >= 3:
            return self._names(args[1], args[2])
        elif code == n.RPL_ENDOFNAMES and args:
            room = self.room(args[0])
            if room is not None:
                room.names_done = True
                return [MembersChanged(room.name)]
        elif code == n.RPL_TOPIC and len(args) >= 2:
            room = self.room(args[0])
            if room is not None:
                room.topic = args[1]
                return [
                    TopicChanged(room.name, args[1]),
                    self._line(msg, room.name, LineKind.INFO, f"Topic: {args[1]}"),
                ]
        if code in _SILENT:
            return []
        kind = LineKind.ERROR if code.startswith(("4", "5")) else LineKind.INFO
        text = " ".join(args) if len(args) < 2 else " ".join(args[:-1]) + " " + args[-1]
        if code == n.RPL_WHOISUSER and len(args) >= 5:
            text = f"{args[0]} is {args[1]}@{args[2]} ({args[4]})"
        if code in _STATUS:
            return [self._line(msg, SERVER_CONVERSATION, LineKind.INFO, text.strip())]
        return [self._line(msg, None, kind, text.strip())]

    def _nicklen(self) -> int:
        value = self.isupport.get("NICKLEN", "")
        return (
            int(value)
            if value.isascii() and value.isdigit() and int(value) > 1
            else DEFAULT_NICKLEN
        )

    def _isupport(self, tokens: tuple[str, ...]) -> None:
        for token in tokens:
            key, _, value = token.partition("=")
            if key.startswith("-"):
                self.isupport.pop(key[1:], None)
                continue
            self.isupport[key] = value
            if key == "CASEMAPPING":
                self._set_fold(casefold_for(value))
            elif key == "PREFIX" and value.startswith("("):
                modes, _, symbols = value[1:].partition(")")
                self.prefix_modes = dict(zip(modes, symbols, strict=False))

    def _set_fold(self, fold: Callable[[str], str]) -> None:
        # Rooms and members are keyed by folded name: refold them, in case
        # the 005 came after a JOIN.
        self.fold = fold
        self.rooms = {fold(room.name): room for room in self.rooms.values()}
        for room in self.rooms.values():
            room.members = {fold(m.nick): m for m in room.members.values()}

    def _names(self, channel: str, names: str) -> list[Event]:
        room = self.room(channel)
        if room is None:
            return []
        if room.names_done:
            room.members.clear()
            room.names_done = False
        symbols = "".join(self.prefix_modes.values())
        for entry in names.split():
            nick = entry.lstrip(symbols)
            prefixes = entry[: len(entry) - len(nick)]
            nick = nick.split("!", 1)[0]  # userhost-in-names
            room.members[self.fold(nick)] = Member(nick, prefixes)
        return []

    def _on_privmsg(self, msg: Message) -> list[Event]:
        return self._message(msg, LineKind.MESSAGE)

    def _on_notice(self, msg: Message) -> list[Event]:
        return self._message(msg, LineKind.NOTICE)

    def _message(self, msg: Message, kind: LineKind) -> list[Event]:
        if len(msg.params) < 2:
            return []
        target, text = msg.params[0], msg.params[1]
        sender = msg.nick or self.server_name
        own = msg.nick is not None and self.same(sender, self.nick)
        if msg.source is None or ("!" not in msg.source and not self.registered):
            return [Line(None, LineKind.INFO, sender, text, self._time(msg))]
        if text.startswith("\x01"):
            match = _ACTION.match(text)
            if match is None:
                return []  # other CTCP requests are not shown
            text, kind = match.group(1), LineKind.ACTION
        if self.is_channel(target.lstrip("@+")):
            conv: str | None = target.lstrip("@+")
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

    def _on_join(self, msg: Message) -> list[Event]:
        if not msg.params or msg.nick is None:
            return []
        channel = msg.params[0]
        if self.same(msg.nick, self.nick):
            mine = Room(channel)
            self.rooms[self.fold(channel)] = mine
            mine.members[self.fold(msg.nick)] = Member(msg.nick)
            return [
                Joined(channel),
                self._line(msg, channel, LineKind.EVENT, f"You joined {channel}"),
            ]
        room = self.room(channel)
        if room is None:
            return []
        room.members[self.fold(msg.nick)] = Member(msg.nick)
        return [
            MembersChanged(room.name),
            self._line(msg, room.name, LineKind.EVENT, f"{msg.nick} joined {room.name}"),
        ]

    def _on_part(self, msg: Message) -> list[Event]:
        if not msg.params or msg.nick is None:
            return []
        reason = msg.params[1] if len(msg.params) > 1 else ""
        suffix = f" ({reason})" if reason else ""
        return self._leave(msg, msg.params[0], msg.nick, f"{msg.nick} left{suffix}", reason)

    def _on_kick(self, msg: Message) -> list[Event]:
        if len(msg.params) < 2:
            return []
        channel, target = msg.params[0], msg.params[1]
        reason = msg.params[2] if len(msg.params) > 2 else ""
        by = msg.nick or self.server_name
        text = f"{target} was kicked by {by}" + (f" ({reason})" if reason else "")
        why = f"kicked by {by}" + (f": {reason}" if reason else "")
        return self._leave(msg, channel, target, text, why)

    def _leave(self, msg: Message, channel: str, nick: str, text: str, reason: str) -> list[Event]:
        room = self.room(channel)
        if room is None:
            return []
        line = self._line(msg, room.name, LineKind.EVENT, text)
        if self.same(nick, self.nick):
            del self.rooms[self.fold(channel)]
            return [line, Left(room.name, reason)]
        room.members.pop(self.fold(nick), None)
        return [line, MembersChanged(room.name)]

    def _on_quit(self, msg: Message) -> list[Event]:
        if msg.nick is None:
            return []
        reason = msg.params[0] if msg.params else ""
        events: list[Event] = []
        for room in self.rooms.values():
            if room.members.pop(self.fold(msg.nick), None) is not None:
                text = f"{msg.nick} quit ({reason})" if reason else f"{msg.nick} quit"
                events += [
                    self._line(msg, room.name, LineKind.EVENT, text),
                    MembersChanged(room.name),
                ]
        return events

    def _on_nick(self, msg: Message) -> list[Event]:
        if not msg.params or msg.nick is None:
            return []
        old, new = msg.nick, msg.params[0]
        events: list[Event] = []
        mine = self.same(old, self.nick)
        if mine:
            self.nick = new
            events.append(NickChanged(old, new))
            events.append(self._line(msg, None, LineKind.EVENT, f"You are now known as {new}"))
        else:
            events.append(PeerRenamed(old, new))
        for room in self.rooms.values():
            member = room.members.pop(self.fold(old), None)
            if member is not None:
                member.nick = new
                room.members[self.fold(new)] = member
                if not mine:
                    text = f"{old} is now known as {new}"
                    events.append(self._line(msg, room.name, LineKind.EVENT, text))
                events.append(MembersChanged(room.name))
        return events

    def _on_topic(self, msg: Message) -> list[Event]:
        if len(msg.params) < 2:
            return []
        room = self.room(msg.params[0])
        if room is None:
            return []
        room.topic = msg.params[1]
        text = f"{msg.nick} changed the topic to: {room.topic}"
        return [
            TopicChanged(room.name, room.topic),
            self._line(msg, room.name, LineKind.EVENT, text),
        ]

    def _on_mode(self, msg: Message) -> list[Event]:
        if len(msg.params) < 2:
            return []
        target = msg.params[0]
        text = f"{msg.nick or self.server_name} sets mode {' '.join(msg.params[1:])}"
        room = self.room(target)
        if room is None:
            return [self._line(msg, None, LineKind.EVENT, text)]
        args = list(msg.params[2:])
        chanmodes = self.isupport.get("CHANMODES", "b,k,l,imnst").split(",")
        always = chanmodes[0] + (chanmodes[1] if len(chanmodes) > 1 else "")
        on_set = chanmodes[2] if len(chanmodes) > 2 else ""
        adding = True
        for ch in msg.params[1]:
            if ch in "+-":
                adding = ch == "+"
            elif ch in self.prefix_modes and args:
                member = room.members.get(self.fold(args.pop(0)))
                if member is not None:
                    self._set_prefix(member, self.prefix_modes[ch], adding)
            elif (ch in always or (ch in on_set and adding)) and args:
                args.pop(0)
        return [self._line(msg, room.name, LineKind.EVENT, text), MembersChanged(room.name)]

    def _set_prefix(self, member: Member, symbol: str, adding: bool) -> None:
        order = "".join(self.prefix_modes.values())
        have = set(member.prefixes)
        (have.add if adding else have.discard)(symbol)
        member.prefixes = "".join(s for s in order if s in have)

    def _on_invite(self, msg: Message) -> list[Event]:
        if len(msg.params) < 2:
            return []
        text = f"{msg.nick} invites you to {msg.params[1]} (type /join {msg.params[1]})"
        return [self._line(msg, None, LineKind.INFO, text)]

    # -- to the server -----------------------------------------------------

    def members(self, channel: str) -> list[Member]:
        """The members of `channel`, operators first, then by name."""
        room = self.room(channel)
        if room is None:
            return []
        order = "".join(self.prefix_modes.values())

        def rank(member: Member) -> tuple[int, str]:
            first = member.prefixes[:1]
            return (
                order.index(first) if first and first in order else len(order),
                self.fold(member.nick),
            )

        return sorted(room.members.values(), key=rank)

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

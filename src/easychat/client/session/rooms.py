"""Provides the client Session's rooms and members: JOIN, PART, KICK, QUIT, NICK, TOPIC, MODE."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from easychat.client.events import (
    Event,
    Joined,
    Left,
    Line,
    LineKind,
    MembersChanged,
    NickChanged,
    PeerRenamed,
    TopicChanged,
)
from easychat.proto.message import Message


@dataclass(slots=True)
class Member:
    """A nick in a room with its membership prefixes (`@`, `+`)."""

    nick: str
    prefixes: str = ""
    away: bool = False  # from WHO's G flag, away-notify or a 301


@dataclass(slots=True)
class Room:
    """What the session knows of a room it is in."""

    name: str
    members: dict[str, Member] = field(default_factory=dict)
    topic: str = ""
    names_done: bool = True


class RoomsMixin:
    """The Session's rooms: who is in them, their topics, and the events that change them.

    Mixed into `Session`, which owns the attributes declared here.
    """

    nick: str
    server_name: str
    isupport: dict[str, str]
    rooms: dict[str, Room]
    prefix_modes: dict[str, str]
    fold: Callable[[str], str]
    # The nick a /nick asked for, until the server's NICK answers it.
    asked_nick: str | None = None
    # Rooms (folded) whose WHO the session itself asked for: its replies
    # update the away marks without being shown.
    _who_pending: frozenset[str] = frozenset()

    if TYPE_CHECKING:

        def same(self, a: str, b: str) -> bool: ...

        def _line(self, msg: Message, conv: str | None, kind: LineKind, text: str) -> Line: ...

    def change_nick(self, nick: str) -> list[Message]:
        """The NICK for `/nick`; remembered to tell if the server shortens it."""
        self.asked_nick = nick
        return [Message("NICK", (nick,))]

    def _shortened(self, msg: Message, asked: str) -> list[Event]:
        """A line saying the server cut `asked` to our nick (its NICKLEN), if it did."""
        folded, mine = self.fold(asked), self.fold(self.nick)
        if folded == mine or not folded.startswith(mine):
            return []
        text = f"The server shortened your nick: your nick is now {self.nick}"
        return [self._line(msg, None, LineKind.INFO, text)]

    def who(self, channel: str) -> list[Message]:
        """A WHO of `channel` to learn who is away (its replies are not shown)."""
        self._who_pending = self._who_pending | {self.fold(channel)}
        return [Message("WHO", (channel,))]

    def _who_reply(self, args: tuple[str, ...]) -> list[Event] | None:
        """RPL_WHOREPLY `<channel> <user> <host> <server> <nick> <flags> :<hops> <name>`.

        Returns the events, or None when the user asked (the line is shown too).
        """
        room = self.room(args[0]) if len(args) >= 6 else None
        if room is not None:
            member = room.members.get(self.fold(args[4]))
            if member is not None:
                member.away = args[5].startswith("G")
        if self.fold(args[0] if args else "") not in self._who_pending:
            return None
        return [MembersChanged(room.name)] if room is not None else []

    def _end_of_who(self, args: tuple[str, ...]) -> bool:
        """RPL_ENDOFWHO: whether it ends a WHO the session asked for (not shown)."""
        folded = self.fold(args[0]) if args else ""
        mine = folded in self._who_pending
        self._who_pending = self._who_pending - {folded}
        return mine

    def set_away(self, nick: str, away: bool) -> list[Event]:
        """Marks `nick` away (or back) in every room we share."""
        events: list[Event] = []
        for room in self.rooms.values():
            member = room.members.get(self.fold(nick))
            if member is not None and member.away != away:
                member.away = away
                events.append(MembersChanged(room.name))
        return events

    def _on_away(self, msg: Message) -> list[Event]:
        # away-notify: `AWAY :reason` when someone goes away, bare `AWAY` on return.
        if msg.nick is None:
            return []
        return self.set_away(msg.nick, bool(msg.params and msg.params[0]))

    def room(self, name: str) -> Room | None:
        """The room `name`, if we are in it."""
        return self.rooms.get(self.fold(name))

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
        line = self._line(msg, room.name, LineKind.EVENT, f"{msg.nick} joined {room.name}")
        return [MembersChanged(room.name), replace(line, presence=True)]

    def _on_part(self, msg: Message) -> list[Event]:
        if not msg.params or msg.nick is None:
            return []
        reason = msg.params[1] if len(msg.params) > 1 else ""
        suffix = f" ({reason})" if reason else ""
        events = self._leave(msg, msg.params[0], msg.nick, f"{msg.nick} left{suffix}", reason)
        others = not self.same(msg.nick, self.nick)
        return [replace(e, presence=True) if others and isinstance(e, Line) else e for e in events]

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
                line = self._line(msg, room.name, LineKind.EVENT, text)
                events += [replace(line, presence=True), MembersChanged(room.name)]
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
            asked, self.asked_nick = self.asked_nick, None
            events += self._shortened(msg, asked) if asked is not None else []
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

    def _on_setname(self, msg: Message) -> list[Event]:
        # setname: someone in a shared room (or we) changed their realname.
        if not msg.params or msg.nick is None:
            return []
        name = msg.params[0]
        if self.same(msg.nick, self.nick):
            return [self._line(msg, None, LineKind.EVENT, f"Your name is now {name}")]
        text = f"{msg.nick} is now called {name}"
        return [
            self._line(msg, room.name, LineKind.EVENT, text)
            for room in self.rooms.values()
            if self.fold(msg.nick) in room.members
        ]

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

"""Provides the session's numeric replies: registration, nick collisions, ISUPPORT, lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from easychat.client.events import (
    SERVER_CONVERSATION,
    Event,
    Line,
    LineKind,
    MembersChanged,
    Registered,
    RegistrationFailed,
    TopicChanged,
)
from easychat.client.session import replies
from easychat.client.session.auth import AUTH_NUMERICS
from easychat.client.session.roomlist import LIST_NUMERICS
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.names import casefold_for

if TYPE_CHECKING:
    from easychat.client.session.rooms import Room

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

# Numerics only about the state the session tracks; nothing to show.
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


class NumericsMixin:
    """The Session's handling of numeric replies (`001` to `5xx`).

    Mixed into `Session`, which owns the attributes declared here. Login,
    LIST and WHO numerics go to their own mixins; the rest update the state
    (welcome, ISUPPORT, names, topic) or become a line to show, the status
    burst in the server window.
    """

    nick: str
    registered: bool
    server_name: str
    isupport: dict[str, str]
    prefix_modes: dict[str, str]
    alt_nick_on_collision: bool
    _out: list[Message]

    if TYPE_CHECKING:

        def same(self, a: str, b: str) -> bool: ...

        def room(self, name: str) -> Room | None: ...

        def _line(self, msg: Message, conv: str | None, kind: LineKind, text: str) -> Line: ...

        def _auth_numeric(self, msg: Message) -> list[Event]: ...

        def _list_numeric(self, msg: Message) -> list[Event]: ...

        def _shortened(self, msg: Message, asked: str) -> list[Event]: ...

        def _who_reply(self, args: tuple[str, ...]) -> list[Event] | None: ...

        def _end_of_who(self, args: tuple[str, ...]) -> bool: ...

        def set_away(self, nick: str, away: bool) -> list[Event]: ...

        def _names(self, channel: str, names: str) -> list[Event]: ...

        def _set_fold(self, fold: Callable[[str], str]) -> None: ...

    def _numeric(self, msg: Message) -> list[Event]:
        code = msg.command
        args = msg.params[1:]
        if code in AUTH_NUMERICS:
            return self._auth_numeric(msg)
        if code in LIST_NUMERICS:
            return self._list_numeric(msg)
        if code == n.RPL_WELCOME:
            self.registered = True
            self.server_name = msg.source or ""
            asked = self.nick
            if msg.params:
                self.nick = msg.params[0]
            welcome: list[Event] = [Registered(self.nick, args[-1] if args else "")]
            # Before Registered, so the app shows it with the welcome.
            return self._shortened(msg, asked) + welcome
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
            if code == n.ERR_NICKNAMEINUSE and args and "reserved" in args[-1]:
                # Our server (and ergo): "Nickname is reserved by a different account".
                text = f"Nickname {detail} belongs to an account: enter its password"
                return [RegistrationFailed(text)]
            return [RegistrationFailed(_REGISTRATION_ERRORS[code].format(detail))]
        away_events: list[Event] = []
        if code == n.RPL_WHOREPLY:
            handled = self._who_reply(args)
            if handled is not None:
                return handled
        elif code == n.RPL_ENDOFWHO and self._end_of_who(args):
            return []
        elif code == n.RPL_AWAY and args:
            away_events = self.set_away(args[0], True)
        elif code in (n.RPL_NOWAWAY, n.RPL_UNAWAY):
            away_events = self.set_away(self.nick, code == n.RPL_NOWAWAY)
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
        text = replies.describe(code, args) or text
        if code in _STATUS:
            return [self._line(msg, SERVER_CONVERSATION, LineKind.INFO, text.strip())]
        return [*away_events, self._line(msg, None, kind, text.strip())]

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

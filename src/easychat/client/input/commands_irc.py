"""Provides the commands irssi and weechat users expect: /list, /mode, /kick, /ctcp, ..."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from easychat.client.input.commandline import Invalid
from easychat.client.input.commandline import free_text as _text
from easychat.client.input.commandline import split_word as _word
from easychat.client.masks import is_mask, matches_everyone, whole_mask
from easychat.proto.message import ProtocolError, parse
from easychat.proto.names import valid_nick

# The server decides how long a nick may be (NICKLEN); the client checks the
# characters only.
_NO_LENGTH_LIMIT = 1 << 30


@dataclass(frozen=True, slots=True)
class ListRooms:
    """Browse the server's rooms (LIST), the list filtered by `filter` at first."""

    filter: str = ""


@dataclass(frozen=True, slots=True)
class Mode:
    """Set or show modes; `target` None means the current room."""

    target: str | None
    modes: str = ""
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Kick:
    """Remove `nick` from `room` (None: the current room)."""

    room: str | None
    nick: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ban:
    """Ban a nick or mask in `room` (None: the current room)."""

    room: str | None
    who: str


@dataclass(frozen=True, slots=True)
class Invite:
    """Invite `nick` to `room` (None: the current room)."""

    nick: str
    room: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A NOTICE to a room or nick."""

    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Quote:
    """A raw IRC line, sent exactly as typed (checked to be one valid line)."""

    line: str


@dataclass(frozen=True, slots=True)
class Ignore:
    """Hide the messages of `mask` (complete); None lists the ignored masks."""

    mask: str | None


@dataclass(frozen=True, slots=True)
class Unignore:
    """Show the messages of `mask` (complete) again."""

    mask: str


@dataclass(frozen=True, slots=True)
class Close:
    """Close the current conversation, leaving it if it is a room we are in."""


@dataclass(frozen=True, slots=True)
class Clear:
    """Clear the log view of the current conversation."""


@dataclass(frozen=True, slots=True)
class Ctcp:
    """A CTCP request (`command` upper case) to a nick or room."""

    target: str
    command: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class Redact:
    """Delete the last message of `nick` (None: our own) in the current conversation."""

    nick: str | None = None
    reason: str = ""


IrcIntent: TypeAlias = (
    ListRooms
    | Mode
    | Kick
    | Ban
    | Invite
    | Notice
    | Quote
    | Ignore
    | Unignore
    | Close
    | Clear
    | Ctcp
    | Redact
    | Invalid
)

# (usage, description) of these commands, in the order /help lists them.
IRC_COMMAND_HELP: tuple[tuple[str, str], ...] = (
    ("/list [filter]", "Browse the server's rooms and join one"),
    ("/mode [target] [modes [args]]", "Set or show modes, the room's by default"),
    ("/kick [#room] nick [reason]", "Remove someone from the room"),
    ("/ban [#room] nick|mask", "Ban someone from the room (by address if known)"),
    ("/invite nick [#room]", "Invite someone to the room"),
    ("/notice target text", "Send a notice to a room or a person"),
    ("/quote raw line", "Send one raw IRC line as typed (alias /raw)"),
    ("/ignore [nick|mask]", "Hide someone's messages; alone, list who is hidden"),
    ("/unignore nick|mask", "Show someone's messages again"),
    ("/ctcp nick command [args]", "Send a CTCP request: VERSION, PING, ..."),
    ("/redact [nick [reason]]", "Delete your last message here; an operator: nick's (/delete)"),
    ("/close", "Close this conversation (leaves the room)"),
    ("/clear", "Clear this conversation's log view"),
)

_USAGE: dict[str, str] = {usage.split()[0][1:]: usage for usage, _ in IRC_COMMAND_HELP}


def _usage(command: str) -> Invalid:
    return Invalid(f"Usage: {_USAGE[command]}")


def _room_first(rest: str) -> tuple[str | None, str]:
    """An optional leading `#room` argument, and what follows it."""
    word, after = _word(rest)
    if word.startswith(("#", "&")):
        return word, after
    return None, rest


def _parse_list(rest: str) -> IrcIntent:
    return ListRooms(_text(rest).strip())


def _parse_mode(rest: str) -> IrcIntent:
    words = rest.split()
    if not words:
        return Mode(None)
    if words[0].startswith(("+", "-")):
        return Mode(None, words[0], tuple(words[1:]))
    return Mode(words[0], words[1] if len(words) > 1 else "", tuple(words[2:]))


def _parse_kick(rest: str) -> IrcIntent:
    room, rest = _room_first(rest)
    nick, rest = _word(rest)
    if not nick:
        return _usage("kick")
    return Kick(room, nick, _text(rest))


def _parse_ban(rest: str) -> IrcIntent:
    room, rest = _room_first(rest)
    who, rest = _word(rest)
    if not who or _text(rest):
        return _usage("ban")
    if not is_mask(who) and not valid_nick(who, _NO_LENGTH_LIMIT):
        return Invalid(f"{who} is neither a nickname nor a mask (nick!user@host).")
    return Ban(room, who)


def _parse_invite(rest: str) -> IrcIntent:
    nick, rest = _word(rest)
    room, rest = _word(rest)
    if not nick or _text(rest) or (room and not room.startswith(("#", "&"))):
        return _usage("invite")
    return Invite(nick, room or None)


def _parse_notice(rest: str) -> IrcIntent:
    target, rest = _word(rest)
    text = _text(rest)
    if not target or not text.strip():
        return _usage("notice")
    return Notice(target, text)


def _parse_quote(rest: str) -> IrcIntent:
    line = _text(rest)
    if not line.strip():
        return _usage("quote")
    if any(ch in line for ch in "\r\n\0"):
        return Invalid("/quote sends one line: it may not contain line breaks or NUL.")
    try:
        parse(line)  # strict: the limits a server applies to what clients send
    except ProtocolError as exc:
        return Invalid(f"Not a valid IRC line: {exc}.")
    return Quote(line)


def _ignore_word(command: str, rest: str) -> str | Invalid:
    word, rest = _word(rest)
    if not word or _text(rest):
        return _usage(command)
    if not is_mask(word) and not valid_nick(word, _NO_LENGTH_LIMIT):
        return Invalid(f"{word} is neither a nickname nor a mask (nick!user@host).")
    return whole_mask(word)


def _parse_ignore(rest: str) -> IrcIntent:
    if not _text(rest):
        return Ignore(None)
    mask = _ignore_word("ignore", rest)
    if isinstance(mask, Invalid):
        return mask
    if matches_everyone(mask):
        return Invalid(f"{mask} matches everyone: ignore a nick or a narrower mask.")
    return Ignore(mask)


def _parse_unignore(rest: str) -> IrcIntent:
    mask = _ignore_word("unignore", rest)
    return mask if isinstance(mask, Invalid) else Unignore(mask)


def _parse_close(rest: str) -> IrcIntent:
    return _usage("close") if _text(rest) else Close()


def _parse_clear(rest: str) -> IrcIntent:
    return _usage("clear") if _text(rest) else Clear()


def _parse_ctcp(rest: str) -> IrcIntent:
    target, rest = _word(rest)
    command, rest = _word(rest)
    if not target or not command:
        return _usage("ctcp")
    if not (command.isascii() and command.isalnum()):
        return Invalid(f"{command} is not a CTCP command (letters and digits only).")
    args = _text(rest)
    if "\x01" in args:
        return Invalid("CTCP arguments may not contain the \\x01 delimiter.")
    return Ctcp(target, command.upper(), args)


def _parse_redact(rest: str) -> IrcIntent:
    nick, rest = _word(rest)
    if nick and not valid_nick(nick, _NO_LENGTH_LIMIT):
        return Invalid(f"{nick} is not a valid nickname.")
    return Redact(nick or None, _text(rest))


IRC_PARSERS: dict[str, Callable[[str], IrcIntent]] = {
    "list": _parse_list,
    "mode": _parse_mode,
    "kick": _parse_kick,
    "ban": _parse_ban,
    "invite": _parse_invite,
    "notice": _parse_notice,
    "quote": _parse_quote,
    "raw": _parse_quote,
    "ignore": _parse_ignore,
    "unignore": _parse_unignore,
    "close": _parse_close,
    "clear": _parse_clear,
    "ctcp": _parse_ctcp,
    "redact": _parse_redact,
    "delete": _parse_redact,
}

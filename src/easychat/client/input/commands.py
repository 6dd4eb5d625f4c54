"""Provides the parser that turns a line typed in the message field into an intent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from easychat.client.input.commandline import Invalid
from easychat.client.input.commandline import free_text as _text
from easychat.client.input.commandline import split_word as _word
from easychat.client.input.commands_irc import IRC_COMMAND_HELP, IRC_PARSERS, IrcIntent
from easychat.proto.names import casefold, valid_channel, valid_nick

__all__ = [
    "COMMAND_HELP",
    "Away",
    "Help",
    "Intent",
    "Invalid",
    "Join",
    "Me",
    "Msg",
    "Names",
    "Nick",
    "Part",
    "Quit",
    "Say",
    "Topic",
    "Whois",
    "parse_input",
]

# The server decides how long a nick or room name may be (NICKLEN, CHANNELLEN in
# 005) and says so with a numeric; the client only checks the characters.
_NO_LENGTH_LIMIT = 1 << 30


@dataclass(frozen=True, slots=True)
class Say:
    """Plain text for the current conversation."""

    text: str


@dataclass(frozen=True, slots=True)
class Me:
    """An action (`/me waves`) for the current conversation."""

    text: str


@dataclass(frozen=True, slots=True)
class Join:
    """Join a room, with its key if it has one."""

    room: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """Leave a room; `room` None means the current conversation."""

    room: str | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Msg:
    """A private message, or (with `text` "") just open the conversation."""

    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Nick:
    """Change the own nickname."""

    nick: str


@dataclass(frozen=True, slots=True)
class Topic:
    """Set the current room's topic, or show it when `text` is None."""

    text: str | None


@dataclass(frozen=True, slots=True)
class Names:
    """List the members of the current room."""


@dataclass(frozen=True, slots=True)
class Whois:
    """Ask the server about a user."""

    nick: str


@dataclass(frozen=True, slots=True)
class Away:
    """Mark oneself away with a message, or back when `message` is None."""

    message: str | None


@dataclass(frozen=True, slots=True)
class Quit:
    """Disconnect from the server, with an optional reason."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class Help:
    """Show the list of commands."""


Intent: TypeAlias = (
    Say
    | Me
    | Join
    | Part
    | Msg
    | Nick
    | Topic
    | Names
    | Whois
    | Away
    | Quit
    | Help
    | Invalid
    | IrcIntent
)

# (usage, description) of every command, in the order /help lists them.
COMMAND_HELP: tuple[tuple[str, str], ...] = (
    ("/join #room [key]", "Join a room (alias /j)"),
    ("/part [#room] [reason]", "Leave a room, the current one by default"),
    ("/msg nick text", "Send a private message"),
    ("/query nick [text]", "Open a private conversation"),
    ("/me action", "Describe what you are doing"),
    ("/nick newnick", "Change your nickname"),
    ("/topic [text]", "Show or set the room's topic"),
    ("/names", "List the members of the room"),
    ("/whois nick", "Show information about a user"),
    ("/away [message]", "Mark yourself away, or back without a message"),
    ("/quit [reason]", "Disconnect from the server"),
    *IRC_COMMAND_HELP,
    ("/help", "Show this list"),
)

_USAGE: dict[str, str] = {usage.split()[0][1:]: usage for usage, _ in COMMAND_HELP}


def _usage(command: str) -> Invalid:
    return Invalid(f"Usage: {_USAGE[command]}")


def _room_name(word: str) -> str:
    return word if word.startswith("#") else "#" + word


def _parse_join(rest: str) -> Intent:
    word, rest = _word(rest)
    key, rest = _word(rest)
    if not word or _text(rest):
        return _usage("join")
    room = _room_name(word)
    if "," in room:
        return Invalid("Join one room at a time: /join #room [key]")
    if not valid_channel(room, _NO_LENGTH_LIMIT):
        return Invalid(f"{room} is not a valid room name.")
    return Join(room, key or None)


def _parse_part(rest: str) -> Intent:
    word, after = _word(rest)
    if word.startswith("#"):
        return Part(word, _text(after))
    return Part(None, _text(rest))


def _parse_msg(rest: str) -> Intent:
    target, rest = _word(rest)
    text = _text(rest)
    if not target or not text:
        return _usage("msg")
    return Msg(target, text)


def _parse_query(rest: str) -> Intent:
    target, rest = _word(rest)
    if not target:
        return _usage("query")
    return Msg(target, _text(rest))


def _parse_me(rest: str) -> Intent:
    text = _text(rest)
    return Me(text) if text else _usage("me")


def _parse_nick(rest: str) -> Intent:
    nick, rest = _word(rest)
    if not nick or _text(rest):
        return _usage("nick")
    if not valid_nick(nick, _NO_LENGTH_LIMIT):
        return Invalid(f"{nick} is not a valid nickname.")
    return Nick(nick)


def _parse_topic(rest: str) -> Intent:
    return Topic(_text(rest) or None)


def _parse_names(rest: str) -> Intent:
    return _usage("names") if _text(rest) else Names()


def _parse_whois(rest: str) -> Intent:
    nick, rest = _word(rest)
    if not nick or _text(rest):
        return _usage("whois")
    return Whois(nick)


def _parse_away(rest: str) -> Intent:
    return Away(_text(rest) or None)


def _parse_quit(rest: str) -> Intent:
    return Quit(_text(rest) or None)


def _parse_help(rest: str) -> Intent:
    return Help()


_PARSERS: dict[str, Callable[[str], Intent]] = {
    "join": _parse_join,
    "j": _parse_join,
    "part": _parse_part,
    "msg": _parse_msg,
    "query": _parse_query,
    "me": _parse_me,
    "nick": _parse_nick,
    "topic": _parse_topic,
    "names": _parse_names,
    "whois": _parse_whois,
    "away": _parse_away,
    "quit": _parse_quit,
    "help": _parse_help,
    **IRC_PARSERS,
}


def parse_input(line: str) -> Intent:
    """Parses what the user typed in the message field.

    A line that does not start with "/" is plain text, kept exactly as typed;
    "//text" sends the literal "/text". Command names are case-insensitive.
    Arguments are separated by whitespace; a command's free text (message,
    reason, topic) starts after the whitespace that follows the last word
    argument and is kept as typed from there, inner and trailing spaces included.

    Args:
        line: The text of the message field.

    Returns:
        The intent, or `Invalid` with a message for the user when the line is
        an unknown command, lacks an argument, or is empty.
    """
    if not line.startswith("/"):
        return Say(line) if line.strip() else Invalid("Nothing to send.")
    if line.startswith("//"):
        return Say(line[1:])
    name, rest = _word(line[1:]) if not line[1:2].isspace() else ("", "")
    if not name:
        return Invalid("Type a command after /, or // to send a line starting with /.")
    parser = _PARSERS.get(casefold(name))
    if parser is None:
        return Invalid(f"Unknown command /{name}. Type /help for the list.")
    return parser(rest)

"""Provides the IRC `Message` value with its parser and formatter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from easychat.proto.limits import MAX_CLIENT_TAG_DATA, MAX_LINE_BYTES, MAX_PARAMS


class ProtocolError(Exception):
    """A line the peer sent that is not a valid IRC message (the peer's fault)."""


class LineTooLongError(ProtocolError):
    """The part after the tags exceeds MAX_LINE_BYTES, or the tags MAX_CLIENT_TAG_DATA."""


class LocalProtocolError(Exception):
    """We tried to build a message that cannot go on the wire (our bug)."""


_TAG_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_TAG_ESCAPE_TABLE = str.maketrans(_TAG_ESCAPES)
_TAG_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_BAD_TAG_KEY = re.compile(r"[ ;=\r\n\0]")

# Where the free text starts in the commands that carry some: a parameter at
# or past that index is written as a trailing one (`PRIVMSG bob :psst`) even
# when one word needs no ':'. Legal either way, but Pidgin and older ZNC
# mis-parse a bare last word, which is why ergo forces the ':' by default.
TEXT_PARAM_INDEX: dict[str, int] = {
    "PRIVMSG": 1,
    "NOTICE": 1,
    "TOPIC": 1,
    "PART": 1,
    "KICK": 2,
    "QUIT": 0,
    "AWAY": 0,
    "ERROR": 0,
    "WALLOPS": 0,
}


def _valid_command(command: str) -> bool:
    """Modern IRC: `command ::= letter* / 3digit` (we also require at least one letter)."""
    return command.isascii() and (command.isalpha() or (command.isdigit() and len(command) == 3))


def _wire_len(text: str) -> int:
    """The bytes `text` takes in UTF-8; never raises.

    Bytes a decoder kept with `surrogateescape` count as the one byte each
    they were. Any other lone surrogate (a str no decoder of ours produces,
    but a caller may pass) counts as the three bytes `surrogatepass` gives.
    """
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return len(text.encode("utf-8", "surrogatepass"))


def escape_tag_value(value: str) -> str:
    """Escapes a tag value per IRCv3 message-tags."""
    return value.translate(_TAG_ESCAPE_TABLE)


def unescape_tag_value(value: str) -> str:
    """Unescapes a tag value per IRCv3 message-tags.

    A backslash before any other character is dropped; a trailing lone
    backslash is dropped, as the specification requires.
    """
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append(_TAG_UNESCAPES.get(nxt, nxt))
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC message: tags, an optional source, a command and its parameters."""

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: dict[str, str] = field(default_factory=dict, compare=True)

    @classmethod
    def parse(cls, line: str) -> Message:
        """Parses one line (without its CRLF).

        Raises:
            LineTooLongError: the part after the tags is over 510 bytes.
            ProtocolError: the line is not a valid message.
        """
        return parse(line)

    def format(self) -> str:
        """Formats the message as one line without CRLF."""
        return format_message(self)

    def to_bytes(self) -> bytes:
        """Encodes the message as UTF-8 with its CRLF, ready for the wire."""
        return encode(self)

    @property
    def nick(self) -> str | None:
        """The nickname part of the source, if there is a source."""
        if self.source is None:
            return None
        return self.source.split("!", 1)[0].split("@", 1)[0]


def parse(line: str, *, strict: bool = True) -> Message:
    """Parses one IRC line (without its CRLF) into a Message.

    `strict` applies the limits a server enforces on what clients send (tag
    and line length, at most 15 parameters). A client parses what servers
    send with `strict=False`: Modern IRC says "clients MUST parse incoming
    messages with any number of them".

    Raises:
        LineTooLongError: the part after the tags is over 510 bytes, or
            the tag data over 4094.
        ProtocolError: the line is not a valid message.
    """
    if "\r" in line or "\n" in line or "\0" in line:
        raise ProtocolError("Line contains CR, LF or NUL")
    rest = line
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        tag_part, _, rest = rest[1:].partition(" ")
        if strict and _wire_len(tag_part) > MAX_CLIENT_TAG_DATA:
            raise LineTooLongError("Input line was too long")
        for item in tag_part.split(";"):
            if not item:
                continue
            key, _, value = item.partition("=")
            tags[key] = unescape_tag_value(value)
    rest = rest.lstrip(" ")
    # A character is at most 4 bytes: a short line needs no encoding to tell.
    if strict and len(rest) * 4 > MAX_LINE_BYTES - 2 and _wire_len(rest) > MAX_LINE_BYTES - 2:
        raise LineTooLongError("Input line was too long")
    source: str | None = None
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        if not source:
            raise ProtocolError("Empty source")
        rest = rest.lstrip(" ")
    command, _, rest = rest.partition(" ")
    if not command:
        raise ProtocolError("No command")
    if not _valid_command(command):
        raise ProtocolError("Malformed command")
    params: list[str] = []
    while rest:
        rest = rest.lstrip(" ")
        if not rest:
            break
        if rest.startswith(":"):
            params.append(rest[1:])
            break
        param, _, rest = rest.partition(" ")
        params.append(param)
    if strict and len(params) > MAX_PARAMS:
        raise ProtocolError(f"More than {MAX_PARAMS} parameters")
    return Message(command.upper(), tuple(params), source, tags)


def trailing_colon(command: str, index: int, last: str) -> bool:
    """Whether the formatter writes the last parameter (at `index`) after a ':'.

    Modern IRC requires it for an empty parameter, one holding a space or
    starting with ':'; we also always write it for text (`TEXT_PARAM_INDEX`).
    """
    return (
        index >= TEXT_PARAM_INDEX.get(command, MAX_PARAMS)
        or not last
        or " " in last
        or last[0] == ":"
    )


def format_message(msg: Message) -> str:
    """Formats a Message as one line without CRLF.

    Raises:
        LocalProtocolError: a part of the message cannot be put on the wire.
    """
    parts: list[str] = []
    if msg.tags:
        items = []
        for key, value in msg.tags.items():
            if not key or _BAD_TAG_KEY.search(key):
                raise LocalProtocolError(f"Invalid tag key {key!r}")
            if "\0" in value:
                # The escaping has no sequence for NUL, which no line may hold.
                raise LocalProtocolError(f"Tag value contains NUL: {value!r}")
            items.append(f"{key}={escape_tag_value(value)}" if value else key)
        parts.append("@" + ";".join(items))
    source = msg.source
    if source is not None:
        if not source or " " in source:
            raise LocalProtocolError(f"Invalid source {source!r}")
        parts.append(":" + source)
    if not _valid_command(msg.command):
        raise LocalProtocolError(f"Invalid command {msg.command!r}")
    if len(msg.params) > MAX_PARAMS:
        # Our own parser (and older clients) reject more than MAX_PARAMS.
        raise LocalProtocolError(f"More than {MAX_PARAMS} parameters")
    parts.append(msg.command)
    if msg.params:
        *middle, last = msg.params
        for param in middle:
            if not param or " " in param or param[0] == ":":
                raise LocalProtocolError(f"Invalid middle parameter {param!r}")
        parts.extend(middle)
        parts.append(":" + last if trailing_colon(msg.command, len(middle), last) else last)
    line = " ".join(parts)
    # One scan of the whole line: escaped tags cannot hold these, so any
    # found is in the source or a parameter.
    if "\r" in line or "\n" in line or "\0" in line:
        raise LocalProtocolError(f"Line contains CR, LF or NUL: {line!r}")
    return line


def relay_bytes(source: bytes, command: bytes, target: bytes, text: bytes) -> bytes:
    """`:source COMMAND target text` as `format_message` writes it, from bytes (no CRLF).

    For relaying a line without parsing it: the caller has checked that
    `source`, `command` and `target` are valid middle parts and `text` is a
    non-empty trailing parameter without NUL, CR or LF. Like the formatter
    (`TEXT_PARAM_INDEX`), it always puts a ':' before the text.
    """
    return b"".join((b":", source, b" ", command, b" ", target, b" :", text))


def tagged_bytes(items: list[str], body: bytes) -> bytes:
    """`body` with its tags and CRLF, as `encode` writes them.

    `items` are `key=value` with values already escaped (`escape_tag_value`).
    """
    if not items:
        return body + b"\r\n"
    return b"".join((b"@", ";".join(items).encode(), b" ", body, b"\r\n"))


def encode(msg: Message) -> bytes:
    """Encodes a Message with CRLF, never longer than the protocol allows.

    The part after the tags is cut to 510 bytes (at a UTF-8 character
    boundary) so that a peer never receives a line it must reject. Handlers
    check lengths before they relay, so this is a safety net, not a policy.
    """
    line = format_message(msg)
    data = line.encode("utf-8", "surrogateescape")
    tag_len = 0
    if msg.tags:
        tag_len = data.index(b" ") + 1
    if len(data) - tag_len > MAX_LINE_BYTES - 2:
        cut = tag_len + MAX_LINE_BYTES - 2
        # Back off to the start of a UTF-8 character.
        while cut > tag_len and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        data = data[:cut]
    return data + b"\r\n"

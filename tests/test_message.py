"""Tests the IRC message codec: parse, format, encode and tag-value escaping."""

from __future__ import annotations

import random

import pytest

from easychat.proto.limits import MAX_CLIENT_TAG_DATA, MAX_LINE_BYTES, MAX_PARAMS, MAX_TAGS_BYTES
from easychat.proto.message import (
    LineTooLongError,
    LocalProtocolError,
    Message,
    ProtocolError,
    encode,
    escape_tag_value,
    format_message,
    parse,
    relay_bytes,
    tagged_bytes,
    unescape_tag_value,
)

# -- parse -------------------------------------------------------------------

PARSE_CASES: list[tuple[str, Message]] = [
    ("PING", Message("PING")),
    ("PING :irc.example.com", Message("PING", ("irc.example.com",))),
    (
        ":irc.example.com CAP LS * :multi-prefix extended-join sasl",
        Message("CAP", ("LS", "*", "multi-prefix extended-join sasl"), "irc.example.com"),
    ),
    (
        "@id=234AB :dan!d@localhost PRIVMSG #chan :Hey what's up!",
        Message("PRIVMSG", ("#chan", "Hey what's up!"), "dan!d@localhost", {"id": "234AB"}),
    ),
    ("CAP REQ :sasl", Message("CAP", ("REQ", "sasl"))),
    (":irc.example.com CAP * LIST :", Message("CAP", ("*", "LIST", ""), "irc.example.com")),
    ("CAP * LS :multi-prefix sasl", Message("CAP", ("*", "LS", "multi-prefix sasl"))),
    ("CAP REQ :sasl message-tags foo", Message("CAP", ("REQ", "sasl message-tags foo"))),
    (
        ":dan!d@localhost PRIVMSG #chan :Hey!",
        Message("PRIVMSG", ("#chan", "Hey!"), "dan!d@localhost"),
    ),
    (
        ":dan!d@localhost PRIVMSG #chan Hey!",
        Message("PRIVMSG", ("#chan", "Hey!"), "dan!d@localhost"),
    ),
    (
        ":dan!d@localhost PRIVMSG #chan ::-)",
        Message("PRIVMSG", ("#chan", ":-)"), "dan!d@localhost"),
    ),
    # Trailing keeps its inner, leading and final spaces.
    ("PRIVMSG #c :  two  spaces  ", Message("PRIVMSG", ("#c", "  two  spaces  "))),
    # Empty trailing.
    ("PRIVMSG #c :", Message("PRIVMSG", ("#c", ""))),
    # Trailing that itself starts with ':' or holds " :".
    ("PRIVMSG #c :::", Message("PRIVMSG", ("#c", "::"))),
    ("PRIVMSG #c :a :b", Message("PRIVMSG", ("#c", "a :b"))),
    # A ':' inside a middle parameter does not start the trailing one.
    ("MODE #c +k a:b", Message("MODE", ("#c", "+k", "a:b"))),
    # Several spaces separate parts, anywhere.
    ("PRIVMSG   #c    hi", Message("PRIVMSG", ("#c", "hi"))),
    (":src   PRIVMSG  #c   :hi", Message("PRIVMSG", ("#c", "hi"), "src")),
    ("@a=b   :src  PING  x", Message("PING", ("x",), "src", {"a": "b"})),
    ("PING x   ", Message("PING", ("x",))),
    ("PING   ", Message("PING")),
    # Commands are case-insensitive; they come out upper case.
    ("privmsg #c hi", Message("PRIVMSG", ("#c", "hi"))),
    ("PrivMsg #c hi", Message("PRIVMSG", ("#c", "hi"))),
    # Numerics.
    (":irc.example.com 001 dan :Welcome", Message("001", ("dan", "Welcome"), "irc.example.com")),
    (
        ":srv 433 * dan :Nickname is already in use",
        Message("433", ("*", "dan", "Nickname is already in use"), "srv"),
    ),
    # Tags with and without values.
    ("@id=123AB;rose PING", Message("PING", (), None, {"id": "123AB", "rose": ""})),
    ("@url=;netsplit=tur,ty PING", Message("PING", (), None, {"url": "", "netsplit": "tur,ty"})),
    ("@a=b=c PING", Message("PING", (), None, {"a": "b=c"})),
    ("@;a=1;;b; PING", Message("PING", (), None, {"a": "1", "b": ""})),
    (
        "@aaa=bbb;ccc;example.com/ddd=eee :nick!ident@host.com PRIVMSG me :Hello",
        Message(
            "PRIVMSG",
            ("me", "Hello"),
            "nick!ident@host.com",
            {"aaa": "bbb", "ccc": "", "example.com/ddd": "eee"},
        ),
    ),
    # Client-only tags keep their '+' prefix in the key.
    (
        "@+example-client-tag=example-value TAGMSG #channel",
        Message("TAGMSG", ("#channel",), None, {"+example-client-tag": "example-value"}),
    ),
    (
        "@+example.com/foo=bar :irc.example.com NOTICE #channel :A vendor tag",
        Message(
            "NOTICE", ("#channel", "A vendor tag"), "irc.example.com", {"+example.com/foo": "bar"}
        ),
    ),
    (
        "@+example=raw+:=,escaped\\:\\s\\\\ :irc.example.com NOTICE #channel :Message",
        Message(
            "NOTICE",
            ("#channel", "Message"),
            "irc.example.com",
            {"+example": "raw+:=,escaped; \\"},
        ),
    ),
    (
        "@+typing=active;+draft/reply=abc TAGMSG #c",
        Message("TAGMSG", ("#c",), None, {"+typing": "active", "+draft/reply": "abc"}),
    ),
    # Non-ASCII text is just text.
    ("PRIVMSG #c :héllo wörld ☃", Message("PRIVMSG", ("#c", "héllo wörld ☃"))),
    # Exactly MAX_PARAMS parameters, the last one a trailing with spaces.
    (
        "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :last one",
        Message("CMD", (*map(str, range(1, 15)), "last one")),
    ),
]


@pytest.mark.parametrize(("line", "expected"), PARSE_CASES)
def test_parse(line: str, expected: Message) -> None:
    """Parses Modern IRC's own example lines and the grammar's corner cases.

    Modern IRC, Parameters: "the final parameter can be prepended with a
    (':', 0x3A) character, in which case that character is stripped and the
    rest of the message is treated as the final parameter, including any spaces
    it contains." and "These message parts, and parameters themselves, are
    separated by one or more ASCII SPACE characters".
    """
    msg = parse(line)
    assert msg == expected
    # == compares tags as dicts; check the pieces too so a failure says which.
    assert msg.command == expected.command
    assert msg.params == expected.params
    assert msg.source == expected.source
    assert msg.tags == expected.tags


def test_parse_duplicate_tag_keeps_last() -> None:
    """IRCv3 message-tags: "Clients receiving messages with more than one
    occurrence of a tag key SHOULD discard all but the final occurrence."
    """
    assert parse("@a=1;b=x;a=2 PING").tags == {"a": "2", "b": "x"}


def test_parse_trailing_is_not_special() -> None:
    """Modern IRC: "a trailing parameter ... has the same semantics as any other
    parameter, and MUST NOT be treated specially or stored separately once the
    ':' is stripped."
    """
    assert parse("PRIVMSG #c :hi").params == parse("PRIVMSG #c hi").params


def test_classmethod_and_methods_match_functions() -> None:
    """Message.parse/format/to_bytes are the module functions."""
    line = "@a=b\\sc :n!u@h PRIVMSG #c :hi there"
    msg = Message.parse(line)
    assert msg == parse(line)
    assert msg.format() == format_message(msg) == line
    assert msg.to_bytes() == encode(msg) == line.encode() + b"\r\n"


@pytest.mark.parametrize(
    ("source", "nick"),
    [
        (None, None),
        ("dan", "dan"),
        ("dan!d@localhost", "dan"),
        ("dan@localhost", "dan"),
        ("irc.example.com", "irc.example.com"),
    ],
)
def test_nick_of_source(source: str | None, nick: str | None) -> None:
    """Modern IRC: "source ::= <servername> / ( <nickname> [ "!" <user> ] [ "@" <host> ] )"."""
    assert Message("PING", (), source).nick == nick


INVALID_LINES: list[str] = [
    "",
    " ",
    "   ",
    # Only a source, or an empty source.
    ":irc.example.com",
    ":irc.example.com ",
    ": PING",
    ":",
    # Only tags, or tags and a source.
    "@a=b",
    "@a=b ",
    "@a=b :src",
    "@",
    # NUL, CR and LF can never be inside a line.
    "PING \0",
    "PRIVMSG #c :a\0b",
    "PRIVMSG #c :a\rb",
    "PRIVMSG #c :a\nb",
    "PING\r",
    "@a=\0 PING",
    # Commands are letters or exactly three digits.
    "12",
    "1234",
    "12 x",
    "1234 x",
    "0001 x",
    "PRIV1 x",
    "PRIV-MSG #c hi",
    "PRIV_MSG #c hi",
    "001a x",
    "ÄBC x",
    "\uff30\uff29\uff2e\uff27",  # fullwidth PING
    "١٢٣ x",
    ":src 12 x",
    ":src #c hi",
    # More than MAX_PARAMS parameters.
    "CMD " + " ".join(str(i) for i in range(MAX_PARAMS + 1)),
    "CMD " + " ".join(str(i) for i in range(MAX_PARAMS)) + " :trailing",
]


@pytest.mark.parametrize("line", INVALID_LINES)
def test_parse_rejects(line: str) -> None:
    """Modern IRC: "command ::= letter* / 3digit"; and a message needs a command.

    NUL, CR and LF are excluded from every part of the grammar. Parameters are
    limited to MAX_PARAMS, as RFC 2812 does: "params = *14( SPACE middle )
    [ SPACE ":" trailing ]".
    """
    with pytest.raises(ProtocolError) as info:
        parse(line)
    assert not isinstance(info.value, LineTooLongError)


def _privmsg_of_size(size: int, *, char: str = "a", prefix: str = "") -> str:
    """A PRIVMSG line (without tags) of exactly `size` bytes after `prefix`."""
    head = "PRIVMSG #c :"
    width = len(char.encode())
    body_bytes = size - len(head.encode())
    assert body_bytes % width == 0
    return prefix + head + char * (body_bytes // width)


@pytest.mark.parametrize("char", ["a", "é", "☃", "🙂"])
def test_parse_line_at_limit(char: str) -> None:
    """Modern IRC: "Most IRC servers limit messages to 512 bytes in length,
    including the trailing CR-LF characters." 510 bytes of message are fine.

    The limit is in bytes, not characters.
    """
    size = MAX_LINE_BYTES - 2
    size -= (size - len(b"PRIVMSG #c :")) % len(char.encode())
    line = _privmsg_of_size(size, char=char)
    assert len(line.encode()) <= MAX_LINE_BYTES - 2
    assert parse(line).params[1] == line.split(" :", 1)[1]


@pytest.mark.parametrize(
    "line",
    [
        _privmsg_of_size(MAX_LINE_BYTES - 1),
        _privmsg_of_size(MAX_LINE_BYTES + 500),
        # Counted in bytes: 250 two-byte characters are 500 bytes of body.
        "PRIVMSG #c :" + "é" * 250,
        # The source counts.
        ":nick!user@host " + _privmsg_of_size(MAX_LINE_BYTES - 2 - len(":nick!user@host ") + 1),
        # Also after tags.
        "@a=b " + _privmsg_of_size(MAX_LINE_BYTES - 1),
    ],
)
def test_parse_line_too_long(line: str) -> None:
    """Modern IRC: "Servers SHOULD gracefully handle messages over the 512-bytes
    limit. They may: Send an error numeric back, preferably ERR_INPUTTOOLONG".

    LineTooLongError (which becomes 417) is a ProtocolError.
    """
    with pytest.raises(LineTooLongError):
        parse(line)
    assert issubclass(LineTooLongError, ProtocolError)


def test_parse_source_counts_towards_limit() -> None:
    """The 510 bytes hold the source, command and parameters together."""
    line = ":nick!user@host " + _privmsg_of_size(MAX_LINE_BYTES - 2 - len(":nick!user@host "))
    assert len(line.encode()) == MAX_LINE_BYTES - 2
    assert parse(line).source == "nick!user@host"


def _tags_section(total: int) -> str:
    """A tag section ('@' through the trailing space) of exactly `total` bytes."""
    return "@+x=" + "v" * (total - len("@+x= ")) + " "


def test_long_tags_are_allowed() -> None:
    """IRCv3 message-tags: "The size limit for the rest of the message remains
    unchanged at 512 bytes", and "Clients MUST NOT send messages with tag data
    exceeding 4094 bytes": a client may send both in full.
    """
    tags = _tags_section(MAX_CLIENT_TAG_DATA + 2)
    body = _privmsg_of_size(MAX_LINE_BYTES - 2)
    msg = parse(tags + body)
    assert len(msg.tags["+x"]) == MAX_CLIENT_TAG_DATA - len("+x=")
    assert len(msg.params[1]) == MAX_LINE_BYTES - 2 - len("PRIVMSG #c :")


def test_tags_over_limit_rejected() -> None:
    """IRCv3 message-tags: "Servers MUST reply with the ERR_INPUTTOOLONG (417)
    error numeric if a client sends a message with more tag data than the
    allowed limit. Servers MUST NOT truncate tags". The limit is the client's
    4094 bytes, not the 8191 of a whole tag section (the rest is the server's).
    """
    with pytest.raises(LineTooLongError):
        parse(_tags_section(MAX_CLIENT_TAG_DATA + 3) + "PING")
    with pytest.raises(LineTooLongError):
        parse(_tags_section(MAX_TAGS_BYTES) + "PING")


# -- tag value escaping ------------------------------------------------------

ESCAPES: list[tuple[str, str]] = [
    ("", ""),
    ("plain", "plain"),
    (";", "\\:"),
    (" ", "\\s"),
    ("\\", "\\\\"),
    ("\r", "\\r"),
    ("\n", "\\n"),
    ("a;b c\\d\re\nf", "a\\:b\\sc\\\\d\\re\\nf"),
    ("raw+:=,escaped; \\", "raw+:=,escaped\\:\\s\\\\"),
    ("\\s", "\\\\s"),
    ("ünï ☃", "ünï\\s☃"),
]


@pytest.mark.parametrize(("raw", "escaped"), ESCAPES)
def test_escape_tag_value(raw: str, escaped: str) -> None:
    """IRCv3 message-tags, Escaping values: ';' -> '\\:', SPACE -> '\\s',
    '\\' -> '\\\\', CR -> '\\r', LF -> '\\n', "all others: the character itself".
    """
    assert escape_tag_value(raw) == escaped
    assert unescape_tag_value(escaped) == raw


@pytest.mark.parametrize(
    ("escaped", "raw"),
    [
        # An unknown escape drops the backslash.
        ("\\b", "b"),
        ("a\\bc", "abc"),
        ("\\0", "0"),
        ("\\S", "S"),
        ("\\;", ";"),
        # "the escaped value test\ should unescape to test"
        ("test\\", "test"),
        ("\\", ""),
        ("a\\\\\\", "a\\"),
        ("\\\\\\\\", "\\\\"),
        ("\\:\\:", ";;"),
        ("\\s\\s", "  "),
    ],
)
def test_unescape_tag_value_lenient(escaped: str, raw: str) -> None:
    """IRCv3 message-tags: "If a lone \\ exists at the end of an escaped value
    (with no escape character following it), then there SHOULD be no output
    character. For example, the escaped value test\\ should unescape to test."
    An unknown escape drops the backslash and keeps the character.
    """
    assert unescape_tag_value(escaped) == raw


def _random_values(count: int) -> list[str]:
    rng = random.Random(1459)
    alphabet = "ab;\\ \r\n:=s,+é☃"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(count)]


@pytest.mark.parametrize("value", _random_values(60))
def test_tag_value_round_trip(value: str) -> None:
    """unescape(escape(v)) == v, and the escaped form holds no separator."""
    escaped = escape_tag_value(value)
    assert not any(ch in escaped for ch in "; \r\n")
    assert unescape_tag_value(escaped) == value
    assert parse(format_message(Message("PING", (), None, {"+k": value}))).tags == {"+k": value}


# -- format ------------------------------------------------------------------

FORMAT_CASES: list[tuple[Message, str]] = [
    (Message("PING"), "PING"),
    (Message("PING", ("irc.example.com",)), "PING irc.example.com"),
    (Message("PRIVMSG", ("#c", "hi")), "PRIVMSG #c :hi"),  # chat text: always ':'
    (Message("WHOIS", ("bob",)), "WHOIS bob"),
    (Message("PRIVMSG", ("#c", "hi there"), "n!u@h"), ":n!u@h PRIVMSG #c :hi there"),
    (Message("CAP", ("*", "LIST", ""), "irc.example.com"), ":irc.example.com CAP * LIST :"),
    (Message("PRIVMSG", ("#c", ":-)")), "PRIVMSG #c ::-)"),
    (Message("PRIVMSG", ("#c", " lead")), "PRIVMSG #c : lead"),
    (Message("MODE", ("#c", "+k", "a:b")), "MODE #c +k a:b"),
    (
        Message("001", ("dan", "Welcome to Easy Chat!"), "srv"),
        ":srv 001 dan :Welcome to Easy Chat!",
    ),
    (Message("PING", (), None, {"a": "b", "c": ""}), "@a=b;c PING"),
    (Message("PING", (), None, {"k": "a b;c\\"}), "@k=a\\sb\\:c\\\\ PING"),
    (
        Message("TAGMSG", ("#c",), "n!u@h", {"+typing": "active"}),
        "@+typing=active :n!u@h TAGMSG #c",
    ),
    (
        Message(
            "PRIVMSG", ("#c", "ünï ☃"), None, {"msgid": "x1", "time": "2024-01-01T00:00:00.000Z"}
        ),
        "@msgid=x1;time=2024-01-01T00:00:00.000Z PRIVMSG #c :ünï ☃",
    ),
]


@pytest.mark.parametrize(("msg", "line"), FORMAT_CASES)
def test_format(msg: Message, line: str) -> None:
    """Modern IRC: "Parameters that contain spaces, are empty, or begin with a ':'
    character MUST be sent with a preceding ':'; in other cases the use of a
    preceding ':' on the final parameter is OPTIONAL."
    """
    assert format_message(msg) == line


BAD_MESSAGES: list[Message] = [
    # Middle parameters cannot hold spaces, be empty or start with ':'.
    Message("PRIVMSG", ("#a b", "x")),
    Message("USER", ("u", "", "*", "real")),
    Message("MODE", (":x", "+o")),
    # No CR, LF or NUL anywhere.
    Message("PRIVMSG", ("#c", "hi\r\nQUIT :bye")),
    Message("PRIVMSG", ("#c", "a\nb")),
    Message("PRIVMSG", ("#c", "a\rb")),
    Message("PRIVMSG", ("#c", "a\0b")),
    Message("PRIVMSG", ("#c\n", "x")),
    Message("PRIVMSG", ("#c\0", "x")),
    # Commands are letters or exactly three digits.
    Message(""),
    Message("PRIV MSG"),
    Message("PING\r\nQUIT"),
    Message("PING\n"),
    Message("12"),
    Message("1234"),
    Message(":src"),
    Message("PRIV-MSG"),
    # Sources.
    Message("PING", (), ""),
    Message("PING", (), "a b"),
    Message("PING", (), "a\r\nQUIT"),
    Message("PING", (), "a\0"),
    # Tag keys.
    Message("PING", (), None, {"": "x"}),
    Message("PING", (), None, {"a b": "x"}),
    Message("PING", (), None, {"a;b": "x"}),
    Message("PING", (), None, {"a=b": "x"}),
    Message("PING", (), None, {"a\r\n": "x"}),
    Message("PING", (), None, {"a\0": "x"}),
    # A tag value can escape everything except NUL.
    Message("PING", (), None, {"a": "x\0y"}),
    # More than MAX_PARAMS parameters: our own parser would reject the line.
    Message("CMD", tuple(str(i) for i in range(MAX_PARAMS + 1))),
]


@pytest.mark.parametrize("msg", BAD_MESSAGES, ids=repr)
def test_format_refuses(msg: Message) -> None:
    """A message that cannot go on the wire is our bug: LocalProtocolError.

    Modern IRC: "middle ::= nospcrlfcl *( ":" / nospcrlfcl )", where nospcrlfcl
    is "any characters except NUL, CR, LF, colon (':') and SPACE"; and
    "command ::= letter* / 3digit".
    """
    with pytest.raises(LocalProtocolError):
        format_message(msg)
    with pytest.raises(LocalProtocolError):
        encode(msg)


def test_local_error_is_not_a_protocol_error() -> None:
    """Our bugs and the peer's garbage are told apart (h11's distinction)."""
    assert not issubclass(LocalProtocolError, ProtocolError)
    assert not issubclass(ProtocolError, LocalProtocolError)


ROUND_TRIP: list[Message] = [
    Message("PING"),
    Message("PRIVMSG", ("#c", "hello")),
    Message("PRIVMSG", ("#c", "hello world"), "n!u@h"),
    Message("PRIVMSG", ("#c", "")),
    Message("PRIVMSG", ("#c", ":"), "n!u@h"),
    Message("PRIVMSG", ("#c", "::-) :x")),
    Message("PRIVMSG", ("#c", "  spaces  ")),
    Message("PRIVMSG", ("#c", "héllo ☃ 🙂")),
    Message("001", ("dan", "Welcome to Easy Chat! You are customer number 7"), "srv"),
    Message(
        "005", ("dan", "CASEMAPPING=ascii", "CHANTYPES=#", "are supported by this server"), "srv"
    ),
    Message("MODE", ("#c", "+kl", "a:b", "10")),
    Message("CMD", (*map(str, range(14)), "last one with spaces")),
    Message("CMD", tuple(map(str, range(MAX_PARAMS)))),
    Message("PING", (), None, {"a": ""}),
    Message("PING", (), None, {"a": "; \\\r\n", "+b": "x=y", "vendor.example/c": "☃"}),
    Message(
        "PRIVMSG",
        ("#c", "hi"),
        "n!u@h",
        {"time": "2024-01-01T00:00:00.000Z", "msgid": "abc", "+draft/reply": "x"},
    ),
    Message("TAGMSG", ("#c",), None, {"+typing": "active"}),
]


@pytest.mark.parametrize("msg", ROUND_TRIP, ids=repr)
def test_round_trip(msg: Message) -> None:
    """parse(format(m)) == m, and the wire form is stable."""
    line = format_message(msg)
    assert parse(line) == msg
    assert format_message(parse(line)) == line
    assert parse(encode(msg)[:-2].decode()) == msg


# -- encode ------------------------------------------------------------------


def test_encode_adds_crlf() -> None:
    """Modern IRC: "When sending messages, ensure that a pair of \\r\\n characters
    follows every single message your software sends out."
    """
    assert encode(Message("PING", ("x",))) == b"PING x\r\n"
    assert encode(Message("PRIVMSG", ("#c", "☃"))) == "PRIVMSG #c :☃\r\n".encode()


def test_encode_keeps_line_at_limit() -> None:
    """A line of exactly 510 bytes plus CRLF is sent whole."""
    msg = Message("PRIVMSG", ("#c", "a" * (MAX_LINE_BYTES - 2 - len("PRIVMSG #c :"))))
    data = encode(msg)
    assert data == format_message(msg).encode() + b"\r\n"
    assert len(data) == MAX_LINE_BYTES


@pytest.mark.parametrize("char", ["a", "é", "☃", "🙂"])
@pytest.mark.parametrize("shift", [0, 1, 2, 3])
@pytest.mark.parametrize("tags", [{}, {"time": "2024-01-01T00:00:00.000Z", "+x": "a b"}])
def test_encode_cuts_at_utf8_boundary(char: str, shift: int, tags: dict[str, str]) -> None:
    """Modern IRC: "Truncate on the 510th byte (and add \\r\\n at the end) or,
    preferably, on the last UTF-8 character or grapheme that fits."

    `shift` moves the cut to every byte position inside a multi-byte character.
    Tags do not count towards the 512 bytes and are never cut.
    """
    msg = Message("PRIVMSG", ("#c", "x" * shift + char * 600), "n!u@h", tags)
    full = format_message(msg).encode()
    data = encode(msg)
    assert data.endswith(b"\r\n")
    assert data.count(b"\r\n") == 1
    body = data[:-2]
    tag_len = full.index(b" ") + 1 if tags else 0
    assert body[:tag_len] == full[:tag_len]
    rest = body[tag_len:]
    assert len(rest) + 2 <= MAX_LINE_BYTES
    # Cut at most one character short of the limit.
    assert len(rest) + 2 > MAX_LINE_BYTES - len(char.encode())
    assert full.startswith(body)
    text = body.decode("utf-8")  # strict: no broken character at the end
    cut = parse(text)
    assert cut.tags == tags
    assert cut.params[0] == "#c"
    assert msg.params[1].startswith(cut.params[1])


def test_encode_cut_line_parses_within_limit() -> None:
    """What encode sends, our parser (and any peer) accepts."""
    msg = Message("PRIVMSG", ("#c", "word " * 200), "nick!user@host")
    data = encode(msg)
    assert len(data) <= MAX_LINE_BYTES
    assert parse(data[:-2].decode()).command == "PRIVMSG"


def test_lenient_parse_accepts_what_servers_may_send() -> None:
    """Modern IRC: "clients MUST parse incoming messages with any number of them"."""
    many = "005 me " + " ".join(f"T{i}" for i in range(20)) + " :are supported"
    with pytest.raises(ProtocolError):
        parse(many)
    assert len(parse(many, strict=False).params) == 22
    long_line = "PRIVMSG #a :" + "x" * 600
    with pytest.raises(LineTooLongError):
        parse(long_line)
    assert parse(long_line, strict=False).params[1] == "x" * 600


@pytest.mark.parametrize(
    "text", ["hi", "two words", ":starts with a colon", "é ü", "trailing ", "a:b", "x" * 400]
)
@pytest.mark.parametrize(
    "tags",
    [{}, {"time": "2026-11-25T10:00:00.000Z"}, {"msgid": "abc1", "account": "a;b c\\d"}],
)
def test_byte_builders_match_the_formatter(text: str, tags: dict[str, str]) -> None:
    """relay_bytes and tagged_bytes (the fast path's) write what encode() writes."""
    msg = Message("PRIVMSG", ("bob", text), "alice!a@127.0.0.1", tags)
    body = relay_bytes(b"alice!a@127.0.0.1", b"PRIVMSG", b"bob", text.encode())
    items = [f"{key}={escape_tag_value(value)}" for key, value in tags.items()]
    assert tagged_bytes(items, body) == encode(msg)

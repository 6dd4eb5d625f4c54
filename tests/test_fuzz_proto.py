"""Property-based fuzzing of the protocol core: the parser, the formatter and the framing.

Peer input never raises anything but ProtocolError (or its LineTooLongError)
out of `parse`, and nothing at all out of `LineBuffer.feed`, whatever the
bytes and however they are cut into chunks; a message built from valid parts
survives `format` and `parse` unchanged.

Hypothesis settings: each property runs a modest number of examples so the
whole fuzz suite stays well under 20 s. The `ci` profile (selected with
HYPOTHESIS_PROFILE=ci, and always when the CI variable is set) derandomizes,
so CI runs the same examples every time; locally the search is random and
keeps its failures in `.hypothesis/`.
"""

from __future__ import annotations

import itertools
import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from easychat.proto.framing import TOO_LONG, LineBuffer
from easychat.proto.limits import MAX_CLIENT_TAG_DATA, MAX_FRAME_BYTES, MAX_LINE_BYTES, MAX_PARAMS
from easychat.proto.message import (
    LineTooLongError,
    Message,
    ProtocolError,
    encode,
    format_message,
    parse,
)

settings.register_profile(
    "dev", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# Text as a peer could send it after decoding: any code point, including the
# ones IRC forbids (CR, LF, NUL) and lone surrogates (from surrogateescape).
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=600)

# Lines that look like IRC, so the search gets past the first checks.
_ircish_alphabet = st.sampled_from(list("@:;= !#&+*,.-\\abcdefXYZ019\r\n\0\x01 é☃"))
ircish_text = st.text(_ircish_alphabet, max_size=200)
ircish_line = st.one_of(
    ircish_text,
    st.builds(
        lambda tags, src, cmd, rest: tags + src + cmd + rest,
        st.sampled_from(["", "@", "@a=b;c ", "@=x ", "@a=\\ ", "@;; ", "@+x=a\\sb "]),
        st.sampled_from(["", ":", ": ", ":nick!u@h ", ":srv "]),
        st.sampled_from(["", "PRIVMSG", "001", "12", "1234", "privmsg", "P1", "é"]),
        ircish_text,
    ),
)


def _parse_or_protocol_error(line: str, strict: bool) -> Message | None:
    try:
        return parse(line, strict=strict)
    except ProtocolError:
        return None


@settings(max_examples=500)
@given(line=st.one_of(any_text, ircish_line), strict=st.booleans())
@example(line="\udcff PING", strict=True)
@example(line="@\ud800 PING", strict=True)
@example(line="PING \ud800", strict=True)
def test_parse_any_text_raises_only_protocol_error(line: str, strict: bool) -> None:
    """Peer input never raises out of the parser except as ProtocolError."""
    msg = _parse_or_protocol_error(line, strict)
    if msg is not None:
        assert msg.command
        if strict:
            assert len(msg.params) <= MAX_PARAMS


@given(data=st.binary(max_size=700), strict=st.booleans())
def test_parse_any_bytes_decoded_as_the_shells_do(data: bytes, strict: bool) -> None:
    """Bytes decoded the server's way (strict UTF-8) or the client's ("replace") parse safely."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        _parse_or_protocol_error(text, strict)
    _parse_or_protocol_error(data.decode("utf-8", "replace"), strict)
    _parse_or_protocol_error(data.decode("utf-8", "surrogateescape"), strict)


def test_long_lines_raise_line_too_long() -> None:
    """The limits are still enforced with LineTooLongError (a ProtocolError)."""
    for line in (
        "PRIVMSG #a :" + "x" * MAX_LINE_BYTES,
        "@a=" + "b" * MAX_CLIENT_TAG_DATA + " PING x",
    ):
        try:
            parse(line)
        except LineTooLongError:
            continue
        raise AssertionError(f"accepted {line[:20]!r}...")


# -- round trip ---------------------------------------------------------------

_NOT_IN_MIDDLE = "\r\n\0 "
middle_param = st.text(
    st.characters(codec="utf-8", exclude_characters=_NOT_IN_MIDDLE), min_size=1, max_size=20
).filter(lambda p: not p.startswith(":"))
trailing_param = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\0"), max_size=60)
tag_key = st.from_regex(r"\A\+?([a-z0-9.-]+/)?[A-Za-z0-9-]{1,12}\Z")
tag_value = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=20)
command = st.one_of(st.from_regex(r"\A[A-Z]{1,12}\Z"), st.from_regex(r"\A[0-9]{3}\Z"))
source = st.text(
    st.characters(codec="utf-8", exclude_characters=_NOT_IN_MIDDLE), min_size=1, max_size=30
).filter(lambda s: not s.startswith("@"))


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """A Message every part of which can go on the wire."""
    params = draw(st.lists(middle_param, max_size=MAX_PARAMS - 1))
    if draw(st.booleans()):
        params.append(draw(trailing_param))
    tags = draw(st.dictionaries(tag_key, tag_value, max_size=4))
    return Message(draw(command), tuple(params), draw(st.one_of(st.none(), source)), tags)


def _fits(msg: Message) -> bool:
    line = format_message(msg).encode()
    tag_len = line.index(b" ") + 1 if msg.tags else 0
    return len(line) - tag_len <= MAX_LINE_BYTES - 2 and tag_len - 2 <= MAX_CLIENT_TAG_DATA


@settings(max_examples=400)
@given(msg=messages())
def test_format_parse_round_trip(msg: Message) -> None:
    """format(parse(x)) gives x back, and parse(format(m)) gives m back."""
    line = msg.format()
    assert not any(ch in line for ch in "\r\n\0")
    back = parse(line, strict=_fits(msg))
    assert back == msg
    assert back.format() == line


@settings(max_examples=300)
@given(msg=messages())
def test_encode_is_always_a_valid_line(msg: Message) -> None:
    """encode() never yields more than 512 bytes after the tags, and it parses back."""
    wire = encode(msg)
    assert wire.endswith(b"\r\n")
    body = wire[:-2]
    assert not any(b in body for b in (b"\r", b"\n", b"\0"))
    tag_len = body.index(b" ") + 1 if msg.tags else 0
    assert len(wire) - tag_len <= MAX_LINE_BYTES
    back = parse(body.decode("utf-8"), strict=False)
    assert back.command == msg.command
    assert back.tags == msg.tags
    if _fits(msg):
        assert back == msg


# -- framing ------------------------------------------------------------------

stream_bytes = st.one_of(
    st.binary(max_size=2000),
    st.lists(
        st.sampled_from([b"\r", b"\n", b"\r\n", b"PING x", b"a" * 300, b"\xff", b" "]),
        max_size=60,
    ).map(b"".join),
)


def _feed_all(buf: LineBuffer, chunks: list[bytes]) -> list[object]:
    out: list[object] = []
    for chunk in chunks:
        out.extend(buf.feed(chunk))
    return out


@st.composite
def chunked(draw: st.DrawFn, max_bytes: int) -> tuple[bytes, list[bytes]]:
    """A stream and one way to cut it into chunks."""
    data = draw(stream_bytes)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=20)))
    bounds = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=400)
@given(case=chunked(64), max_bytes=st.sampled_from([16, 64, 300, MAX_FRAME_BYTES]))
def test_framing_any_chunking_same_lines(case: tuple[bytes, list[bytes]], max_bytes: int) -> None:
    """Any chunking yields the same lines as the whole stream, and memory stays bounded."""
    data, chunks = case
    whole = LineBuffer(max_bytes).feed(data)
    buf = LineBuffer(max_bytes)
    pieces: list[object] = []
    for chunk in chunks:
        pieces.extend(buf.feed(chunk))
        assert buf.pending <= max_bytes
    assert pieces == whole
    for item in whole:
        assert item is TOO_LONG or (
            isinstance(item, bytes)
            and item
            and len(item) <= max_bytes
            and b"\r" not in item
            and b"\n" not in item
        )


@settings(max_examples=300)
@given(data=stream_bytes)
def test_framing_byte_at_a_time(data: bytes) -> None:
    """One byte at a time gives the same lines as the whole stream."""
    whole = LineBuffer(300).feed(data)
    assert _feed_all(LineBuffer(300), [data[i : i + 1] for i in range(len(data))]) == whole

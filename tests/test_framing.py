"""Tests line framing: bytes in any chunking, the same lines out, bounded memory."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable

import pytest

from easychat.proto.framing import TOO_LONG, LineBuffer
from easychat.proto.limits import MAX_FRAME_BYTES, MAX_LINE_BYTES, MAX_TAGS_BYTES

# What LineBuffer.feed yields: a line's bytes, or the TOO_LONG marker.
Item = object

STREAM = (
    b"CAP LS 302\r\n"
    b"NICK dan\r\n"
    b"USER d 0 * :Dan Smith\r\n"
    b"\r\n"
    b"PRIVMSG #lobby :hello \xe2\x98\x83 world\r\n"
    b"@+typing=active TAGMSG #lobby\n"
    b"PING lone-lf\n"
    b"\n\n"
    b"PING lone-cr\r"
    b"\r\r\n"
    b"QUIT :bye\r\n"
)
STREAM_LINES: list[Item] = [
    b"CAP LS 302",
    b"NICK dan",
    b"USER d 0 * :Dan Smith",
    b"PRIVMSG #lobby :hello \xe2\x98\x83 world",
    b"@+typing=active TAGMSG #lobby",
    b"PING lone-lf",
    b"PING lone-cr",
    b"QUIT :bye",
]


def feed_all(buf: LineBuffer, chunks: Iterable[bytes]) -> list[Item]:
    """Feeds every chunk and collects every output, checking memory stays bounded."""
    out: list[Item] = []
    for chunk in chunks:
        out.extend(buf.feed(chunk))
        assert 0 <= buf.pending <= buf.max_bytes
    return out


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def random_chunks(data: bytes, seed: int) -> list[bytes]:
    """Splits `data` at random points (some chunks empty), reproducibly."""
    rng = random.Random(seed)
    cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randrange(1, 40)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def test_whole_stream() -> None:
    """Modern IRC: "If you encounter an empty message, silently ignore it." and
    "Servers SHOULD handle single \\n character, and MAY handle a single \\r
    character, as if it was a \\r\\n pair".
    """
    buf = LineBuffer()
    assert buf.feed(STREAM) == STREAM_LINES
    assert buf.pending == 0


def test_byte_by_byte() -> None:
    """A CRLF split across two reads ends exactly one line."""
    buf = LineBuffer()
    assert feed_all(buf, byte_by_byte(STREAM)) == STREAM_LINES
    assert buf.pending == 0


@pytest.mark.parametrize("seed", range(50))
def test_random_chunks(seed: int) -> None:
    """Any split of the stream into reads yields the same lines."""
    buf = LineBuffer()
    chunks = random_chunks(STREAM, seed)
    assert b"".join(chunks) == STREAM
    assert feed_all(buf, chunks) == STREAM_LINES
    assert buf.pending == 0


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"A\r\nB\r\n", [b"A", b"B"]),
        (b"A\nB\n", [b"A", b"B"]),
        (b"A\rB\r", [b"A", b"B"]),
        (b"A\n\rB\r\n", [b"A", b"B"]),
        (b"\r\n\r\n\n\r", []),
        (b"", []),
        (b"  \r\n", [b"  "]),
        (b"A\0B\r\n", [b"A\0B"]),
    ],
)
def test_terminators(data: bytes, lines: list[bytes]) -> None:
    """CRLF, a lone LF and a lone CR each end a line; empty lines are ignored.

    Modern IRC: "Servers and clients SHOULD ignore empty lines." Only truly
    empty lines go; a line of spaces is the parser's business, as is a NUL.
    """
    assert LineBuffer().feed(data) == lines
    assert feed_all(LineBuffer(), byte_by_byte(data)) == lines


def test_incomplete_line_is_held() -> None:
    """Modern IRC: "Only parse and process a message once you encounter the \\r\\n
    at the end of it."
    """
    buf = LineBuffer()
    assert buf.feed(b"PRIVMSG #c :hel") == []
    assert buf.pending == len(b"PRIVMSG #c :hel")
    assert buf.feed(b"lo") == []
    assert buf.pending == len(b"PRIVMSG #c :hello")
    assert buf.feed(b"\r\nNICK") == [b"PRIVMSG #c :hello"]
    assert buf.pending == len(b"NICK")
    assert buf.feed(b" x\r\n") == [b"NICK x"]
    assert buf.pending == 0


def test_line_at_limit_passes() -> None:
    """A line of exactly max_bytes is a line, whole or in pieces."""
    line = b"x" * 16
    assert LineBuffer(16).feed(line + b"\r\n") == [line]
    assert feed_all(LineBuffer(16), [*byte_by_byte(line), b"\r\n"]) == [line]


@pytest.mark.parametrize("eol", [b"\r\n", b"\n", b"\r"])
def test_too_long_in_one_feed(eol: bytes) -> None:
    """A line over the limit becomes TOO_LONG once; the next line is intact."""
    buf = LineBuffer(16)
    out = buf.feed(b"x" * 17 + eol + b"NEXT" + eol)
    assert out == [TOO_LONG, b"NEXT"]
    assert out[0] is TOO_LONG
    assert buf.pending == 0


@pytest.mark.parametrize("chunk_size", [1, 3, 10, 17, 100])
def test_too_long_across_many_feeds(chunk_size: int) -> None:
    """An over-long line arriving over many reads: one TOO_LONG, bounded memory.

    The design's limits table: a too-long line gets 417 ERR_INPUTTOOLONG and
    "connection stays", so the line after it must come through whole.
    """
    buf = LineBuffer(64)
    data = b"y" * 10_000 + b"\r\nAFTER\r\n"
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    out = feed_all(buf, chunks)
    assert out == [TOO_LONG, b"AFTER"]
    assert buf.pending == 0


def test_too_long_reported_before_terminator() -> None:
    """TOO_LONG comes as soon as the limit is passed, not when the line ends."""
    buf = LineBuffer(16)
    assert buf.feed(b"z" * 16) == []
    assert buf.pending == 16
    assert buf.feed(b"z") == [TOO_LONG]
    assert buf.pending == 0
    for _ in range(100):
        assert buf.feed(b"z" * 50) == []
        assert buf.pending == 0
    assert buf.feed(b"z\r") == []
    assert buf.feed(b"\nOK\r\n") == [b"OK"]


def test_too_long_terminator_split_across_feeds() -> None:
    """The CR and LF ending a dropped line may arrive in different reads."""
    buf = LineBuffer(8)
    assert buf.feed(b"a" * 20 + b"\r") == [TOO_LONG]
    assert buf.feed(b"\nB\r\n") == [b"B"]
    assert buf.feed(b"C\r\n") == [b"C"]


def test_several_too_long_lines() -> None:
    """Each over-long line is reported once, in order with the good ones."""
    buf = LineBuffer(8)
    data = b"A\r\n" + b"b" * 9 + b"\r\nC\r\n" + b"d" * 30 + b"\ne\r\n"
    assert buf.feed(data) == [b"A", TOO_LONG, b"C", TOO_LONG, b"e"]


def _mixed_stream(seed: int) -> bytes:
    rng = random.Random(seed)
    parts: list[bytes] = []
    for _ in range(30):
        size = rng.choice([0, 1, 5, 31, 32, 33, 100])
        parts.append(bytes(rng.choice(b"abc :@") for _ in range(size)))
        parts.append(rng.choice([b"\r\n", b"\n", b"\r"]))
    return b"".join(parts)


@pytest.mark.parametrize("seed", range(30))
def test_chunking_never_changes_output(seed: int) -> None:
    """Whole, byte by byte and random splits agree, over-long lines included.

    (Lines ending with a lone CR followed by an empty line could look like a
    CRLF split across reads; empty lines are ignored, so that never matters.)
    """
    data = _mixed_stream(seed)
    whole = LineBuffer(32).feed(data)
    assert whole == feed_all(LineBuffer(32), byte_by_byte(data))
    assert whole == feed_all(LineBuffer(32), random_chunks(data, seed))
    assert all(
        item is TOO_LONG or (isinstance(item, bytes) and 0 < len(item) <= 32) for item in whole
    )


def test_default_limit_is_tags_plus_line() -> None:
    """IRCv3 message-tags: "The size limit for message tags is 8191 bytes ...
    The size limit for the rest of the message remains unchanged at 512 bytes."
    The framing only drops what no limit could allow.
    """
    assert LineBuffer().max_bytes == MAX_FRAME_BYTES == MAX_TAGS_BYTES + MAX_LINE_BYTES
    line = b"@" + b"t" * (MAX_TAGS_BYTES - 2) + b" " + b"P" * (MAX_LINE_BYTES - 2)
    assert LineBuffer().feed(line + b"\r\n") == [line]
    assert LineBuffer().feed(b"x" * (MAX_FRAME_BYTES + 1) + b"\r\nOK\r\n") == [TOO_LONG, b"OK"]


def test_too_long_repr() -> None:
    assert repr(TOO_LONG) == "TOO_LONG"

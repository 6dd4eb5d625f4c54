"""Tests the splitting of typed or pasted text into IRC-sendable pieces."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from easychat.client.input.split import (
    CTCP_ACTION_OVERHEAD,
    WORST_CASE_HOST_BYTES,
    WORST_CASE_USER_BYTES,
    split_message,
    text_budget,
)
from easychat.proto.limits import MAX_LINE_BYTES

CASES: list[tuple[str, int, list[str]]] = [
    ("hello", 10, ["hello"]),
    ("", 10, []),
    ("\n\r\n\r", 10, []),
    ("exactly10!", 10, ["exactly10!"]),
    # Break at the last space that fits; that space is consumed.
    ("hello world", 10, ["hello", "world"]),
    ("aaa bbb ccc ddd", 7, ["aaa bbb", "ccc ddd"]),
    ("aaa bbb ccc ddd", 8, ["aaa bbb", "ccc ddd"]),
    ("aaa bbb ccc ddd", 11, ["aaa bbb ccc", "ddd"]),
    # A space right after the limit is the break.
    ("abcde fgh", 5, ["abcde", "fgh"]),
    # Only the one space is consumed; the others are text.
    ("ab   cd", 3, ["ab ", " cd"]),
    ("ab   cd", 2, ["ab", " ", "cd"]),
    # No space: a hard break between characters.
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
    # A leading space is not a break point (the piece would be empty).
    (" abcdef", 3, [" ab", "cde", "f"]),
    # Newlines of every kind; empty lines dropped; whitespace lines kept.
    ("one\ntwo\r\nthree\rfour", 10, ["one", "two", "three", "four"]),
    ("a\n\n\nb", 10, ["a", "b"]),
    ("a\n  \nb", 10, ["a", "  ", "b"]),
    ("\r\n\r\nhi\r\n", 10, ["hi"]),
    # NUL removed.
    ("a\0b", 10, ["ab"]),
    ("\0", 10, []),
    # Multi-byte characters are never cut: é is 2 bytes, € 3, 👋 4.
    ("éééé", 3, ["é", "é", "é", "é"]),
    ("éééé", 4, ["éé", "éé"]),
    ("€€€", 5, ["€", "€", "€"]),
    ("a👋b", 4, ["a", "👋", "b"]),
    ("a👋b", 5, ["a👋", "b"]),
    ("héllo wörld", 7, ["héllo", "wörld"]),
    # A character wider than the budget goes alone rather than being lost.
    ("a👋b", 2, ["a", "👋", "b"]),
    ("👋👋", 1, ["👋", "👋"]),
]


@pytest.mark.parametrize(("text", "max_bytes", "expected"), CASES)
def test_split_message(text: str, max_bytes: int, expected: list[str]) -> None:
    assert split_message(text, max_bytes) == expected


@pytest.mark.parametrize("max_bytes", [0, -1])
def test_split_message_rejects_a_budget_below_one(max_bytes: int) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        split_message("x", max_bytes)


def _line_is_rebuilt(line: str, pieces: list[str]) -> bool:
    """Whether `line` is the pieces joined, each followed by at most one consumed space."""
    positions = {0}
    for piece in pieces:
        positions = {p + len(piece) for p in positions if line.startswith(piece, p)}
        positions |= {p + 1 for p in positions if line[p : p + 1] == " "}
    return len(line) in positions


def _lines(text: str) -> list[str]:
    return [line for line in re.split(r"\r\n|\r|\n", text.replace("\0", "")) if line]


# Characters of 1 to 4 UTF-8 bytes, with spaces, line breaks and NUL frequent.
ALPHABET = "ab  \n\r\0é€👋" + "x" * 5 + "🇫🇷" + "\u0301"


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 120)))


def test_split_message_properties_on_random_text() -> None:
    """Every piece fits, none is empty, and the pieces rebuild the text in order."""
    rng = random.Random(20240603)
    for _ in range(3000):
        text = _random_text(rng)
        max_bytes = rng.randrange(4, 40)
        pieces = split_message(text, max_bytes)
        for piece in pieces:
            assert piece, (text, max_bytes)
            assert len(piece.encode()) <= max_bytes, (text, max_bytes, piece)
            assert "\0" not in piece
            assert "\r" not in piece
            assert "\n" not in piece
            # A whole number of characters: the bytes decode back to the piece.
            assert piece.encode().decode() == piece
        # Assign the pieces to the lines in order: each line is rebuilt by a run of pieces.
        remaining = list(pieces)
        for line in _lines(text):
            taken = next(
                count
                for count in range(1, len(remaining) + 1)
                if _line_is_rebuilt(line, remaining[:count])
            )
            assert taken == len(split_message(line, max_bytes))
            del remaining[:taken]
        assert remaining == [], (text, max_bytes)


def test_split_message_pieces_are_the_lines_pieces() -> None:
    """Splitting the text equals splitting each non-empty line, concatenated."""
    rng = random.Random(7)
    for _ in range(1000):
        text = _random_text(rng)
        max_bytes = rng.randrange(1, 30)
        expected = [p for line in _lines(text) for p in split_message(line, max_bytes)]
        assert split_message(text, max_bytes) == expected


def test_split_message_uses_the_space_nearest_the_limit() -> None:
    """A piece ends at the last space that fits, so no piece could have been longer."""
    rng = random.Random(99)
    words = ["a", "bb", "ccc", "dddd", "éé", "👋"]
    for _ in range(500):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 60)))
        max_bytes = rng.randrange(8, 30)
        pieces = split_message(text, max_bytes)
        for piece, following in itertools.pairwise(pieces):
            next_word = following.split(" ")[0]
            assert len(f"{piece} {next_word}".encode()) > max_bytes, (text, max_bytes)
        assert " ".join(pieces) == text


def test_a_long_paste_is_split_in_order() -> None:
    paste = "\n".join(f"line {i} " + "word " * 200 for i in range(20))
    pieces = split_message(paste, 400)
    assert all(len(p.encode()) <= 400 for p in pieces)
    assert len(pieces) == 60
    starts = [p.split(" ")[1] for p in pieces if p.startswith("line ")]
    assert starts == [str(i) for i in range(20)]
    assert all(p.startswith("line ") for p in pieces[::3])


def test_text_budget_fits_the_relayed_line() -> None:
    """The relayed `:nick!user@host PRIVMSG target :text` CRLF is 512 bytes at most."""
    nick, target = "john", "#lobby"
    budget = text_budget(nick, target)
    user, host = "u" * WORST_CASE_USER_BYTES, "h" * WORST_CASE_HOST_BYTES
    line = f":{nick}!{user}@{host} PRIVMSG {target} :{'x' * budget}\r\n"
    assert len(line.encode()) == MAX_LINE_BYTES
    assert budget == 512 - (1 + 4 + 1 + 18 + 1 + 63 + 1 + 7 + 1 + 6 + 2 + 2)


def test_text_budget_counts_bytes_and_the_command() -> None:
    assert text_budget("jöhn", "#lobby") == text_budget("johnx", "#lobby")
    assert text_budget("john", "#lobby", "NOTICE") == text_budget("john", "#lobby") + 1
    assert text_budget("john", "#a") - text_budget("john", "#abc") == 2


def test_text_budget_is_never_below_one() -> None:
    assert text_budget("n" * 600, "#lobby") == 1


def test_an_action_fits_after_its_overhead() -> None:
    budget = text_budget("john", "#lobby") - CTCP_ACTION_OVERHEAD
    for piece in split_message("waves " * 200, budget):
        assert len(f"\x01ACTION {piece}\x01".encode()) <= text_budget("john", "#lobby")

"""Tests casefolding (CASEMAPPING=ascii), nick/channel validity and ban masks."""

from __future__ import annotations

import pytest

from easychat.proto.names import (
    casefold,
    is_channel,
    mask_matches,
    normalize_mask,
    valid_channel,
    valid_nick,
)

NICKLEN = 9
CHANNELLEN = 10


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("dan", "dan"),
        ("DAN", "dan"),
        ("DaN_42", "dan_42"),
        ("#Lobby", "#lobby"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"),
        # ascii, not rfc1459: []\~ are not the upper case of {}|^.
        ("[]\\~", "[]\\~"),
        ("{}|^", "{}|^"),
        # Non-ASCII is left exactly as it is.
        ("ÄÖÜ", "ÄÖÜ"),
        ("Straße", "straße"),
        ("İstanbul", "İstanbul"),
        ("\u212a", "\u212a"),  # KELVIN SIGN, which str.lower() turns into 'k'
        ("ΣΑΣ", "ΣΑΣ"),
        ("", ""),
    ],
)
def test_casefold_ascii(name: str, folded: str) -> None:
    """Modern IRC, CASEMAPPING: "ascii: Defines the characters a to z to be
    considered the lower-case equivalents of the characters A to Z only."
    """
    assert casefold(name) == folded
    assert casefold(folded) == folded


@pytest.mark.parametrize(
    "nick",
    [
        "dan",
        "D",
        "Dan[]",
        "a-b",
        "a1",
        "_x",
        "{x}",
        "x|y",
        "`a",
        "^b",
        "\\x",
        "[away]",
        "abcdefghi",  # exactly NICKLEN
    ],
)
def test_valid_nick(nick: str) -> None:
    """Letters, digits and RFC 2812's specials "[", "]", "\\", "`", "_", "^",
    "{", "|", "}" (and '-' after the first character) make a nickname.
    """
    assert valid_nick(nick, NICKLEN)


@pytest.mark.parametrize(
    "nick",
    [
        "",
        "abcdefghij",  # NICKLEN + 1
        "a b",
        "a,b",
        "a*b",
        "a?b",
        "a!b",
        "a@b",
        "$dan",
        ":dan",
        "#dan",
        "&dan",
        "@dan",
        "+dan",
        "%dan",
        "1dan",
        "-dan",
        "a.b",
        "dän",
        "dan\0",
        "dan\r",
        "dan\n",
        "dan ",
    ],
)
def test_invalid_nick(nick: str) -> None:
    """Modern IRC: nicknames "MUST NOT contain any of the following characters:
    space, comma, asterisk, question mark, exclamation mark, at sign", "MUST NOT
    start with any of the following characters: dollar, colon", "MUST NOT start
    with a character listed as a channel type, channel membership prefix", and
    "SHOULD NOT contain any dot character".
    """
    assert not valid_nick(nick, NICKLEN)


@pytest.mark.parametrize(
    "name",
    ["#a", "#lobby", "#Foo-Bar", "##x", "#é☃", "#[x]!@*?", "#123456789"],
)
def test_valid_channel(name: str) -> None:
    """Modern IRC: "the only restriction on a channel name is that it may not
    contain any spaces (' ', 0x20), a control G / BELL ('^G', 0x07), or a comma".
    """
    assert valid_channel(name, CHANNELLEN)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "#",
        "lobby",
        "&lobby",  # only '#' is in CHANTYPES
        "+lobby",
        "#a b",
        "#a,b",
        "#a\x07",
        "#a:b",
        "#a\0",
        "#a\r",
        "#a\n",
        "#a\t",
        "#a\x7f",
        "#a\u200b",  # zero width space: not printable
        "#1234567890",  # CHANNELLEN + 1
    ],
)
def test_invalid_channel(name: str) -> None:
    """Modern IRC: a channel name must begin with a channel type and "may not
    contain any spaces (' ', 0x20), a control G / BELL ('^G', 0x07), or a
    comma"; RFC 2812's chanstring also excludes NUL, CR, LF and ':'.
    """
    assert not valid_channel(name, CHANNELLEN)


@pytest.mark.parametrize(
    ("target", "expected"),
    [("#lobby", True), ("#", True), ("dan", False), ("", False), ("&x", False)],
)
def test_is_channel(target: str, expected: bool) -> None:
    assert is_channel(target) is expected


MASK_CASES: list[tuple[str, str, bool]] = [
    ("*", "anything", True),
    ("*", "", True),
    ("?", "", False),
    ("?", "a", True),
    ("?", "ab", False),
    ("??", "ab", True),
    # "a?c: Matches any string of 3 characters in length starting with a and ending with c"
    ("a?c", "abc", True),
    ("a?c", "ac", False),
    ("a?c", "abbc", False),
    # "a*c: Matches any string of 2 or more characters in length starting with a
    # and ending with c"
    ("a*c", "ac", True),
    ("a*c", "abbbc", True),
    ("a*c", "abcd", False),
    ("a*c", "xac", False),
    # Anchored at both ends.
    ("abc", "abcd", False),
    ("bcd", "abcd", False),
    ("abc", "abc", True),
    # Case-insensitive, ASCII only.
    ("NICK!*@*", "nick!user@host", True),
    ("nick!*@*", "NICK!USER@HOST", True),
    ("*!*@HOST.example.COM", "dan!d@host.EXAMPLE.com", True),
    ("É*", "é", False),
    # Host masks.
    ("*!*@*.example.com", "dan!d@a.example.com", True),
    ("*!*@*.example.com", "dan!d@example.com", False),
    ("*!d@*", "dan!d@host", True),
    ("*!d@*", "dan!dd@host", False),
    ("d?n!*@*", "dan!x@y", True),
    # Regular-expression characters are plain characters.
    ("a.b", "axb", False),
    ("a.b", "a.b", True),
    ("a+b", "a+b", True),
    ("a+b", "aab", False),
    ("(x)|y", "(x)|y", True),
    ("(x)|y", "y", False),
    ("[x]", "x", False),
    ("[x]", "[x]", True),
    ("^a$", "^a$", True),
    # '*' and '?' match any character, newline included.
    ("a*", "a\nb", True),
    ("a?b", "a\nb", True),
]


@pytest.mark.parametrize(("mask", "name", "expected"), MASK_CASES)
def test_mask_matches(mask: str, name: str, expected: bool) -> None:
    """Modern IRC, Wildcard Expressions: "('?', 0x3F) to match one and only one
    character, and ('*', 0x2A) to match any number of any characters."
    Comparison uses the server's casemapping (ascii).
    """
    assert mask_matches(mask, name) is expected


@pytest.mark.parametrize(
    ("mask", "normal"),
    [
        ("nick", "nick!*@*"),
        ("*", "*!*@*"),
        ("", "*!*@*"),
        ("user@host", "*!user@host"),
        ("@host", "*!*@host"),
        ("user@", "*!user@*"),
        ("nick!user@host", "nick!user@host"),
        ("nick!user", "nick!user@*"),
        ("nick!", "nick!*@*"),
        ("!user@host", "*!user@host"),
        ("!@", "*!*@*"),
        ("*!*@*.example.com", "*!*@*.example.com"),
        ("Dan*", "Dan*!*@*"),
    ],
)
def test_normalize_mask(mask: str, normal: str) -> None:
    """A partial ban mask completes to nick!user@host, every missing part '*'."""
    assert normalize_mask(mask) == normal
    assert normalize_mask(normal) == normal

"""Tests the pure parser of what the user types in the message field."""

from __future__ import annotations

import pytest

from easychat.client.commands import (
    COMMAND_HELP,
    Away,
    Help,
    Intent,
    Invalid,
    Join,
    Me,
    Msg,
    Names,
    Nick,
    Part,
    Quit,
    Say,
    Topic,
    Whois,
    parse_input,
)

CASES: list[tuple[str, Intent]] = [
    # Plain text is sent exactly as typed.
    ("hello", Say("hello")),
    ("  indented  text  ", Say("  indented  text  ")),
    ("[bold]not markup[/bold]", Say("[bold]not markup[/bold]")),
    ("line one\nline two", Say("line one\nline two")),
    (" /join #x", Say(" /join #x")),
    ("héllo 👋", Say("héllo 👋")),
    # "//" escapes a leading slash.
    ("//join is a command", Say("/join is a command")),
    ("//", Say("/")),
    ("///", Say("//")),
    # /me
    ("/me waves", Me("waves")),
    ("/me   waves  twice ", Me("waves  twice ")),
    ("/ME waves", Me("waves")),
    # /join and its alias
    ("/join #room", Join("#room", None)),
    ("/join #room secret", Join("#room", "secret")),
    ("/join room", Join("#room", None)),
    ("/j room key", Join("#room", "key")),
    ("/J #Room", Join("#Room", None)),
    ("/JOIN   #room   key  ", Join("#room", "key")),
    ("/join ##double", Join("##double", None)),
    # /part
    ("/part", Part(None, "")),
    ("/part #room", Part("#room", "")),
    ("/part #room gone fishing", Part("#room", "gone fishing")),
    ("/part gone fishing", Part(None, "gone fishing")),
    ("/part   #room   see  you", Part("#room", "see  you")),
    ("/PART bye", Part(None, "bye")),
    # /msg and /query
    ("/msg bob hi", Msg("bob", "hi")),
    ("/msg bob   hi  there", Msg("bob", "hi  there")),
    ("/msg bob hi there ", Msg("bob", "hi there ")),
    ("/msg #room to the room", Msg("#room", "to the room")),
    ("/MSG Bob x", Msg("Bob", "x")),
    ("/query bob", Msg("bob", "")),
    ("/query bob hello there", Msg("bob", "hello there")),
    ("/Query   bob  ", Msg("bob", "")),
    # /nick
    ("/nick john", Nick("john")),
    ("/NICK  Doe_  ", Nick("Doe_")),
    ("/nick [away]", Nick("[away]")),
    # /topic
    ("/topic", Topic(None)),
    ("/topic   ", Topic(None)),
    ("/topic Fine. Let's go to San Francisco", Topic("Fine. Let's go to San Francisco")),
    # /names, /whois
    ("/names", Names()),
    ("/NAMES  ", Names()),
    ("/whois bob", Whois("bob")),
    ("/whois  bob ", Whois("bob")),
    # /away
    ("/away", Away(None)),
    ("/away  ", Away(None)),
    ("/away out for lunch", Away("out for lunch")),
    # /quit
    ("/quit", Quit(None)),
    ("/quit bye all", Quit("bye all")),
    ("/QUIT", Quit(None)),
    # /help ignores what follows, so "/help join" still shows the list.
    ("/help", Help()),
    ("/HELP join", Help()),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_parse_input(line: str, expected: Intent) -> None:
    assert parse_input(line) == expected


ERRORS: list[tuple[str, str]] = [
    ("/foo", "Unknown command /foo. Type /help for the list."),
    ("/foo bar baz", "Unknown command /foo. Type /help for the list."),
    ("/Joinn #x", "Unknown command /Joinn. Type /help for the list."),
    ("/", "Type a command after /, or // to send a line starting with /."),
    ("/ hello", "Type a command after /, or // to send a line starting with /."),
    ("", "Nothing to send."),
    ("   ", "Nothing to send."),
    ("/join", "Usage: /join #room [key]"),
    ("/j   ", "Usage: /join #room [key]"),
    ("/join #a key extra", "Usage: /join #room [key]"),
    ("/join #a,#b", "Join one room at a time: /join #room [key]"),
    ("/join #", "# is not a valid room name."),
    ("/join #a\x07b", "#a\x07b is not a valid room name."),
    ("/msg", "Usage: /msg nick text"),
    ("/msg bob", "Usage: /msg nick text"),
    ("/msg bob    ", "Usage: /msg nick text"),
    ("/query", "Usage: /query nick [text]"),
    ("/me", "Usage: /me action"),
    ("/me   ", "Usage: /me action"),
    ("/nick", "Usage: /nick newnick"),
    ("/nick a b", "Usage: /nick newnick"),
    ("/nick 9lives", "9lives is not a valid nickname."),
    ("/nick jo#hn", "jo#hn is not a valid nickname."),
    ("/names #room", "Usage: /names"),
    ("/whois", "Usage: /whois nick"),
    ("/whois a b", "Usage: /whois nick"),
]


@pytest.mark.parametrize(("line", "message"), ERRORS)
def test_parse_input_errors(line: str, message: str) -> None:
    assert parse_input(line) == Invalid(message)


def test_every_command_in_help_parses() -> None:
    """Each usage line, with its placeholders filled in, is a known command."""
    for usage, description in COMMAND_HELP:
        assert usage.startswith("/")
        assert description
        filled = usage.replace("[", "").replace("]", "").replace("#room", "#r")
        assert not isinstance(parse_input(filled), Invalid), usage


def test_help_lists_every_command() -> None:
    names = {usage.split()[0] for usage, _ in COMMAND_HELP}
    assert names == {
        "/join",
        "/part",
        "/msg",
        "/query",
        "/me",
        "/nick",
        "/topic",
        "/names",
        "/whois",
        "/away",
        "/quit",
        "/help",
    }


def test_usage_messages_come_from_help() -> None:
    """Every "Usage:" reply quotes a usage line of COMMAND_HELP."""
    usages = {usage for usage, _ in COMMAND_HELP}
    for line, message in ERRORS:
        if message.startswith("Usage: "):
            assert message.removeprefix("Usage: ") in usages, line


def test_intents_are_frozen_values() -> None:
    say = parse_input("hi")
    with pytest.raises(AttributeError):
        say.text = "changed"  # type: ignore[misc,union-attr]
    assert parse_input("/join #a") == parse_input("/JOIN #a")
    assert hash(parse_input("/names")) == hash(Names())

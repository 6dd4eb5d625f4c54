"""Tests the pure parser of what the user types in the message field."""

from __future__ import annotations

import pytest

from easychat.client.input.commands import (
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
from easychat.client.input.commands_irc import (
    Ban,
    Clear,
    Close,
    Ctcp,
    Ignore,
    Invite,
    Kick,
    ListRooms,
    Mode,
    Notice,
    Quote,
    Redact,
    Unignore,
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
    # /list, with an optional filter for the rooms screen
    ("/list", ListRooms("")),
    ("/LIST  rust ", ListRooms("rust")),
    # /mode: the target is the current room unless the first word is not a mode change
    ("/mode", Mode(None)),
    ("/mode +o bob", Mode(None, "+o", ("bob",))),
    ("/mode -k", Mode(None, "-k")),
    ("/mode +kl  secret 10", Mode(None, "+kl", ("secret", "10"))),
    ("/mode #room", Mode("#room")),
    ("/mode #room +i", Mode("#room", "+i")),
    ("/mode #room b", Mode("#room", "b")),
    ("/mode john +i", Mode("john", "+i")),
    # /kick [#room] nick [reason]
    ("/kick bob", Kick(None, "bob", "")),
    ("/kick bob  spamming  again", Kick(None, "bob", "spamming  again")),
    ("/kick #room bob bye", Kick("#room", "bob", "bye")),
    # /ban [#room] nick|mask
    ("/ban bob", Ban(None, "bob")),
    ("/ban *!*@spam.example", Ban(None, "*!*@spam.example")),
    ("/ban #room bob", Ban("#room", "bob")),
    # /invite nick [#room]
    ("/invite bob", Invite("bob", None)),
    ("/invite bob #room", Invite("bob", "#room")),
    # /notice target text
    ("/notice bob  hi there", Notice("bob", "hi there")),
    ("/notice #room heads up", Notice("#room", "heads up")),
    # /quote and its alias /raw: sent as typed
    ("/quote PRIVMSG bob :hi  there ", Quote("PRIVMSG bob :hi  there ")),
    ("/raw   WHO #lobby", Quote("WHO #lobby")),
    ("/quote @label=x PING :t", Quote("@label=x PING :t")),
    # /ignore, /unignore: masks kept complete
    ("/ignore", Ignore(None)),
    ("/ignore bob", Ignore("bob!*@*")),
    ("/ignore *@spam.example", Ignore("*!*@spam.example")),
    ("/ignore bob!~b@host", Ignore("bob!~b@host")),
    ("/unignore bob", Unignore("bob!*@*")),
    ("/UNIGNORE bob!*@*", Unignore("bob!*@*")),
    # /close, /clear
    ("/close", Close()),
    ("/clear", Clear()),
    ("/CLEAR ", Clear()),
    # /ctcp nick command [args]: the command upper case
    ("/ctcp bob version", Ctcp("bob", "VERSION", "")),
    ("/ctcp bob PING 123 456", Ctcp("bob", "PING", "123 456")),
    ("/ctcp #room clientinfo", Ctcp("#room", "CLIENTINFO", "")),
    # /redact [nick [reason]] and its alias /delete: our own last message by default
    ("/redact", Redact()),
    ("/delete", Redact()),
    ("/redact bob  spam, again", Redact("bob", "spam, again")),
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
    ("/kick", "Usage: /kick [#room] nick [reason]"),
    ("/kick #room", "Usage: /kick [#room] nick [reason]"),
    ("/ban", "Usage: /ban [#room] nick|mask"),
    ("/ban bob extra", "Usage: /ban [#room] nick|mask"),
    ("/ban 9lives", "9lives is neither a nickname nor a mask (nick!user@host)."),
    ("/invite", "Usage: /invite nick [#room]"),
    ("/invite bob room", "Usage: /invite nick [#room]"),
    ("/invite bob #a #b", "Usage: /invite nick [#room]"),
    ("/notice", "Usage: /notice target text"),
    ("/notice bob   ", "Usage: /notice target text"),
    ("/quote", "Usage: /quote raw line"),
    ("/quote   ", "Usage: /quote raw line"),
    ("/quote PRIVMSG a :b\nQUIT", "/quote sends one line: it may not contain line breaks or NUL."),
    ("/quote PRIVMSG a :b\r", "/quote sends one line: it may not contain line breaks or NUL."),
    ("/quote PRIVMSG a :\0", "/quote sends one line: it may not contain line breaks or NUL."),
    ("/quote PRIV-MSG a", "Not a valid IRC line: Malformed command."),
    ("/quote :src", "Not a valid IRC line: No command."),
    ("/quote PRIVMSG a :" + "x" * 510, "Not a valid IRC line: Input line was too long."),
    ("/ignore a b", "Usage: /ignore [nick|mask]"),
    ("/ignore 9lives", "9lives is neither a nickname nor a mask (nick!user@host)."),
    ("/ignore *", "*!*@* matches everyone: ignore a nick or a narrower mask."),
    ("/ignore *!*@*", "*!*@* matches everyone: ignore a nick or a narrower mask."),
    ("/ignore **!*@*", "**!*@* matches everyone: ignore a nick or a narrower mask."),
    ("/unignore", "Usage: /unignore nick|mask"),
    ("/close #room", "Usage: /close"),
    ("/clear all", "Usage: /clear"),
    ("/ctcp", "Usage: /ctcp nick command [args]"),
    ("/ctcp bob", "Usage: /ctcp nick command [args]"),
    ("/ctcp bob VER\x01SION", "VER\x01SION is not a CTCP command (letters and digits only)."),
    ("/ctcp bob PING a\x01b", "CTCP arguments may not contain the \\x01 delimiter."),
    ("/redact 9lives", "9lives is not a valid nickname."),
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
        "/list",
        "/mode",
        "/kick",
        "/ban",
        "/invite",
        "/notice",
        "/quote",
        "/ignore",
        "/unignore",
        "/ctcp",
        "/close",
        "/clear",
        "/redact",
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

"""The seed's conversation through real sockets: John and Doe in #lobby."""

from __future__ import annotations

from collections.abc import Callable

from tests.ircclient import IRCClient


def test_john_and_doe_chat(connect: Callable[[], IRCClient]) -> None:
    """Each is told their customer number; each sees what the other says."""
    john = connect()
    burst = john.register("John")
    assert burst[0].command == "001"
    assert burst[0].params[-1] == "Welcome to Easy Chat! You are customer number 1"

    doe = connect()
    burst = doe.register("Doe")
    assert burst[0].params[-1] == "Welcome to Easy Chat! You are customer number 2"
    names = [m for m in burst if m.command == "353"]
    assert names[0].params[-1].split() == ["@John", "Doe"]

    john.expect("JOIN", lambda m: m.nick == "Doe")
    doe.send("PRIVMSG #lobby :Hello John, how are you?")
    got = john.expect("PRIVMSG")
    assert got.source == "Doe!doe@127.0.0.1"
    assert got.params == ("#lobby", "Hello John, how are you?")

    john.send("PRIVMSG #lobby :Fine. Let's go to San Francisco")
    got = doe.expect("PRIVMSG")
    assert got.nick == "John"
    assert got.params == ("#lobby", "Fine. Let's go to San Francisco")

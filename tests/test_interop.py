"""A real IRC client that nobody here wrote (the `irc` package) against our server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import irc.client

from tests.ircclient import TIMEOUT, RunningServer


class Recorder:
    """Collects the irc library's events per connection."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, irc.client.Event]] = []

    def __call__(self, connection: Any, event: irc.client.Event) -> None:
        self.events.append((event.type, connection, event))

    def find(self, kind: str, conn: Any, pred: Callable[[irc.client.Event], bool]) -> bool:
        return any(t == kind and c is conn and pred(e) for t, c, e in self.events)


def pump_until(reactor: irc.client.Reactor, done: Callable[[], bool]) -> None:
    """Runs the library's reactor until `done()` holds or TIMEOUT passes."""
    deadline = time.monotonic() + TIMEOUT
    while not done():
        assert time.monotonic() < deadline, "irc library client timed out"
        reactor.process_once(0.05)


def test_irc_library_clients_register_join_and_chat(server: RunningServer) -> None:
    """Two `irc` clients register, land in #lobby, join a room and talk."""
    reactor = irc.client.Reactor()
    rec = Recorder()
    for kind in ("welcome", "join", "pubmsg", "privmsg", "namreply", "endofnames"):
        reactor.add_global_handler(kind, rec)
    alice = reactor.server().connect("127.0.0.1", server.port, "alice")
    bob = reactor.server().connect("127.0.0.1", server.port, "bob")
    try:
        pump_until(
            reactor,
            lambda: all(rec.find("join", c, lambda e: e.target == "#lobby") for c in (alice, bob)),
        )
        welcome = next(e for t, c, e in rec.events if t == "welcome" and c is alice)
        assert "Welcome to Easy Chat! You are customer number 1" in welcome.arguments[0]

        bob.privmsg("#lobby", "hello from bob")
        pump_until(
            reactor, lambda: rec.find("pubmsg", alice, lambda e: e.arguments == ["hello from bob"])
        )

        alice.join("#interop")
        pump_until(reactor, lambda: rec.find("join", alice, lambda e: e.target == "#interop"))
        bob.join("#interop")
        pump_until(
            reactor,
            lambda: rec.find(
                "join", alice, lambda e: e.source.nick == "bob" and e.target == "#interop"
            ),
        )
        alice.privmsg("#interop", "room message")
        pump_until(
            reactor,
            lambda: rec.find(
                "pubmsg", bob, lambda e: e.target == "#interop" and e.arguments == ["room message"]
            ),
        )

        alice.privmsg("bob", "just for you")
        pump_until(
            reactor, lambda: rec.find("privmsg", bob, lambda e: e.arguments == ["just for you"])
        )
        assert not rec.find("privmsg", alice, lambda e: True)
    finally:
        reactor.disconnect_all("done")

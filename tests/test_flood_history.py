"""CHATHISTORY has a flood budget of its own: a catch-up passes, a history flood does not.

A client reconnecting with a dozen conversations open asks for each one's
latest lines at once. With the general budget (a burst of 5), that tripped
`FAIL CHATHISTORY RATE_LIMITED` though the user typed nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.protection.flood import HISTORY_BURST, HISTORY_RATE
from easychat.proto.message import Message
from easychat.store.history import SQLiteHistory
from tests.chatcore_harness import CoreDriver, commands
from tests.ircclient import IRCClient, RunningServer
from tests.serverproc import history_client

# Seconds to wait for a server that answers hundreds of requests under load.
SLOW = 30.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server with history and the default flood control."""
    assert CoreConfig().flood_burst == 5  # the defaults, not a test's
    running = RunningServer(CoreConfig(), history=SQLiteHistory(tmp_path / "h.db"))
    yield running
    running.stop()


def until_pong_or_closed(client: IRCClient) -> list[Message]:
    """Everything up to the answer to a fresh PING, or to the end of the connection."""
    client.send("PING :done")
    got: list[Message] = []
    while True:
        msg = client.read(SLOW)
        if msg is None or (msg.command == "PONG" and msg.params[-1] == "done"):
            return got
        got.append(msg)


def rate_limited(messages: list[Message]) -> list[Message]:
    """The `FAIL CHATHISTORY RATE_LIMITED` replies among `messages`."""
    return [
        m
        for m in messages
        if m.command == "FAIL" and m.params[:2] == ("CHATHISTORY", "RATE_LIMITED")
    ]


def test_catch_up_of_a_dozen_conversations_is_not_limited(server: RunningServer) -> None:
    """12 CHATHISTORY requests at once (TARGETS and 11 LATEST) all get their batch."""
    alice = history_client(server.port, "alice")
    try:
        alice.send("PRIVMSG #lobby :hello")
        requests = [
            "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z"
            " timestamp=2100-01-01T00:00:00.000Z 50"
        ]
        requests += ["CHATHISTORY LATEST #lobby * 50"] * 11
        alice.send_raw("".join(f"{r}\r\n" for r in requests).encode())
        got = until_pong_or_closed(alice)
        assert [m for m in got if m.command == "FAIL"] == []
        opened = [m for m in got if m.command == "BATCH" and m.params[0].startswith("+")]
        assert len(opened) == 12
    finally:
        alice.close()


def test_a_history_flood_is_still_limited(server: RunningServer) -> None:
    """200 CHATHISTORY requests at once are refused past the history budget."""
    mallory = history_client(server.port, "mallory")
    try:
        mallory.send_raw(b"CHATHISTORY LATEST #lobby * 100\r\n" * 200)
        got = until_pong_or_closed(mallory)
        assert rate_limited(got)
        answered = [m for m in got if m.command == "BATCH" and m.params[0].startswith("+")]
        assert HISTORY_BURST <= len(answered) < 200
    finally:
        mallory.close()


def test_history_budget_refills_and_leaves_the_general_one_alone() -> None:
    """Past the history burst a request is refused with the wait; it refills at
    HISTORY_RATE; and spending it leaves the general burst (5 lines) whole."""
    drv = CoreDriver(CoreConfig(autojoin=()))
    alice = drv.register("alice")
    drv.clock.advance(60)
    for _ in range(HISTORY_BURST):
        assert "RATE_LIMITED" not in [
            p for m in drv.send(alice, "CHATHISTORY LATEST bob * 1") for p in m.params
        ]
    refused = drv.send(alice, "CHATHISTORY LATEST bob * 1")
    assert commands(refused) == ["FAIL"]
    assert refused[0].params[:2] == ("CHATHISTORY", "RATE_LIMITED")
    drv.clock.advance(1 / HISTORY_RATE)
    again = drv.send(alice, "CHATHISTORY LATEST bob * 1")
    assert "RATE_LIMITED" not in again[0].params
    for i in range(5):
        assert commands(drv.send(alice, f"JOIN #r{i}"))[0] == "JOIN"

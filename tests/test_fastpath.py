"""The PRIVMSG/NOTICE fast path against the general path: the same bytes, everywhere.

Two chat cores get the same lines at the same (fake) times, one with the fast
path and one without. Every byte each connection is sent, and every history
row stored, must be the same. The lines are PRIVMSG and NOTICE in the shapes
that the fast path takes and in the shapes it must leave to the general path
(lists, odd spacing, empty or NUL text, bad UTF-8, too long, unknown targets,
away peers, moderated and banned rooms, flood control), between changes of
capabilities, accounts, nicks and membership.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from easychat.chat.actions import Action, Close, Send, SendBytes
from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.store.accounts import SQLiteAccounts
from easychat.store.history import SQLiteHistory
from tests import test_fuzz_core  # noqa: F401  (loads the hypothesis profiles)
from tests.chatcore_harness import FakeClock
from tests.historyrows import stored_rows

CONNS = 3
PASSWORD = "correct horse battery"


class Twin:
    """One chat core with its history, and the bytes each connection was sent."""

    def __init__(self, config: CoreConfig, clock: FakeClock, *, fast: bool) -> None:
        self.history = SQLiteHistory(":memory:")
        self.core = ChatCore(
            config, clock=clock, history=self.history, accounts=SQLiteAccounts(self.history.db)
        )
        self.core.fast_relay = fast
        self.core._msgid_prefix = "fixed"  # both cores name their messages alike
        self.wire: dict[int, list[bytes]] = defaultdict(list)
        self.closed: list[tuple[int, str]] = []
        self.fast_sends = 0

    def apply(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Close):
                self.closed.append((action.conn, action.reason))
                continue
            if isinstance(action, SendBytes):
                self.fast_sends += 1
            data = action.message.to_bytes() if isinstance(action, Send) else action.data
            for target in action.recipients():
                self.wire[target].append(data)

    def rows(self) -> list[tuple[object, ...]]:
        self.core.end_turn()
        return list(stored_rows(self.history.db))


def registration(conn: int, caps: str, account: bool) -> list[bytes]:
    nick = f"user{conn}"
    lines = [f"NICK {nick}", f"USER u{conn} 0 * :Real Name", "JOIN #r"]
    if caps:
        lines = [f"CAP REQ :{caps}", *lines, "CAP END"]
    if account:
        lines.append(f"REGISTER * * :{PASSWORD}")
    return [line.encode() for line in lines]


CAPS = st.sampled_from(
    [
        "",
        "echo-message",
        "server-time",
        "message-tags",
        "message-tags server-time echo-message account-tag",
        "server-time account-tag",
    ]
)
TARGETS = [
    "#r",
    "#R",
    "#nowhere",
    "user0",
    "User1",
    "user2",
    "nobody",
    "#r,user1",
    "user1,user1",
    ":user1",
    "",
    "#other",
]
TEXTS = ["hi", "two words", ":colon first", "", " lead", "é ü ß", "x" * 470, "tab\there"]
line_shape = st.builds(
    lambda command, target, sep, text: f"{command} {target}{sep}{text}".encode(),
    st.sampled_from(["PRIVMSG", "NOTICE", "privmsg", "TAGMSG"]),
    st.sampled_from(TARGETS),
    st.sampled_from([" :", " ", "  :", " : "]),
    st.sampled_from(TEXTS),
)
odd_line = st.sampled_from(
    [
        b"PRIVMSG #r :nul\0inside",
        b"PRIVMSG #r :bad \xff utf-8",
        b"PRIVMSG user1 :" + "é".encode() * 240,
        b"@+react=1 PRIVMSG #r :tagged",
        b":user0 PRIVMSG #r :with a source",
        b"PRIVMSG #r",
        b"PRIVMSG",
    ]
)
state_line = st.sampled_from(
    [
        b"AWAY :gone",
        b"AWAY",
        b"MODE #r +m",
        b"MODE #r -m",
        b"MODE #r +v user1",
        b"MODE #r +b user2!*@*",
        b"MODE #r -b user2!*@*",
        b"MODE #r -n",
        b"PART #r",
        b"JOIN #r",
        b"JOIN #other",
        b"NICK renamed",
        b"NICK user0",
        b"CAP REQ :echo-message",
        b"CAP REQ :-echo-message",
        b"CAP REQ :server-time message-tags",
    ]
)
event = st.tuples(
    st.integers(0, CONNS - 1),
    st.one_of(line_shape, line_shape, line_shape, odd_line, state_line),
    st.sampled_from([0.0, 0.0, 0.0004, 0.3, 2.0]),
)


def run_both(config: CoreConfig, setup: list[tuple[str, bool]], events: list[tuple]) -> None:
    clock = FakeClock()
    twins = [Twin(config, clock, fast=True), Twin(config, clock, fast=False)]
    for conn, (caps, account) in enumerate(setup):
        for twin in twins:
            twin.apply(twin.core.connect(conn, f"127.0.0.{conn + 1}"))
            for line in registration(conn, caps, account):
                twin.apply(twin.core.receive(conn, line))
    fast, general = twins
    # Lines from one connection with no time between them arrive as one
    # read: the fast core gets them as the server hands them on (runs, by
    # `receive_run`), the general one line by line.
    reads: list[tuple[int, float, list[bytes]]] = []
    for conn, line, step in events:
        if reads and step == 0.0 and reads[-1][0] == conn:
            reads[-1][2].append(line)
        else:
            reads.append((conn, step, [line]))
    for conn, step, lines in reads:
        clock.advance(step)
        index = 0
        while index < len(lines):
            actions, index = fast.core.receive_run(conn, lines, index)
            fast.apply(actions)
        for line in lines:
            general.apply(general.core.receive(conn, line))
    assert general.fast_sends == 0
    for conn in range(CONNS):
        assert b"".join(fast.wire[conn]) == b"".join(general.wire[conn]), f"connection {conn}"
    assert fast.closed == general.closed
    assert fast.rows() == general.rows()


# Fewer examples than the profile's: each runs two cores with SQLite.
@pytest.mark.parametrize(
    "config",
    [
        CoreConfig(flood_rate=0, flood_burst=0),
        # Flood control on: bursts, a queue and refusals between the lines.
        CoreConfig(flood_burst=2, flood_rate=1.0, flood_paste=3, flood_queue=2),
    ],
    ids=["no-flood-control", "flood-control"],
)
@settings(max_examples=100)
@given(
    st.lists(st.tuples(CAPS, st.booleans()), min_size=CONNS, max_size=CONNS),
    st.lists(event, max_size=40),
)
def test_fast_path_sends_and_stores_what_the_general_path_does(
    config: CoreConfig, setup: list[tuple[str, bool]], events: list[tuple]
) -> None:
    """Whatever the lines, both cores send the same bytes and store the same rows."""
    run_both(config, setup, events)


@pytest.mark.parametrize(
    ("line", "fast", "delivered"),
    [
        (b"PRIVMSG #r :hello there", True, True),
        (b"NOTICE user1 :hi", True, True),
        (b"PRIVMSG User1 :case differs", True, True),
        (b"PRIVMSG #r,user1 :two targets", False, True),
        (b"privmsg #r :lower case", False, True),
        (b"PRIVMSG user1 :" + b"x" * 490, False, False),  # 417 once the prefix is added
    ],
)
def test_which_lines_take_the_fast_path(line: bytes, fast: bool, delivered: bool) -> None:
    """Plain single-target lines are taken; lists, too long and the rest are not."""
    twin = Twin(CoreConfig(), FakeClock(), fast=True)
    for conn in range(2):
        twin.apply(twin.core.connect(conn, "127.0.0.1"))
        for setup_line in registration(conn, "", account=False):
            twin.apply(twin.core.receive(conn, setup_line))
    twin.fast_sends = 0
    twin.wire.clear()
    twin.apply(twin.core.receive(0, line))
    assert (twin.fast_sends > 0) is fast
    assert bool(twin.wire[1]) is delivered


def test_a_run_of_lines_to_one_room_is_looked_up_once_and_sent_as_one_chunk() -> None:
    """A read of many lines to one room leaves as one chunk; a line the fast
    path refuses ends the run, is answered in its place, and the next run goes on."""
    twin = Twin(CoreConfig(flood_rate=0, flood_burst=0), FakeClock(), fast=True)
    for conn in range(2):
        twin.apply(twin.core.connect(conn, "127.0.0.1"))
        for setup_line in registration(conn, "", account=False):
            twin.apply(twin.core.receive(conn, setup_line))
    twin.fast_sends = 0
    twin.wire.clear()
    lines = [f"PRIVMSG #r :line {i}".encode() for i in range(100)]
    lines[50] = b"PRIVMSG #r :nul\0inside"
    index, calls = 0, 0
    while index < len(lines):
        actions, index = twin.core.receive_run(0, lines, index)
        twin.apply(actions)
        calls += 1
    assert calls == 3  # lines 0-49, the refused line 50, lines 51-99
    assert twin.fast_sends == 2
    received = b"".join(twin.wire[1]).split(b"\r\n")[:-1]
    assert received == [b":user0!u0@127.0.0.1 " + line for i, line in enumerate(lines) if i != 50]
    assert twin.wire[0] == [
        b":easychat.local 400 user0 * :Malformed message: Line contains CR, LF or NUL\r\n"
    ]
    twin.core.end_turn()
    stored = twin.history.latest("#r", 200, messages_only=True)
    assert [record.message.params[1] for record in stored] == [
        f"line {i}" for i in range(100) if i != 50
    ]

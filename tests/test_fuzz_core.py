"""Property-based fuzzing of the chat core: any input lines, valid IRC out.

A few connections feed ChatCore random bytes, IRC-looking commands with
awkward parameters, registrations in any order, clock jumps, timer runs and
disconnects, as the selector shell would. Whatever they send, nothing raises
out of the core, and every line the core asks to send is valid IRC: encoded
it is at most 512 bytes after its tags, holds no CR, LF or NUL, and parses
back (strictly, as our own server would parse it) to the same message. The
core never sends to a connection it closed, nor closes one twice.

Hypothesis settings: see tests/test_fuzz_proto.py (profiles `dev` and `ci`,
HYPOTHESIS_PROFILE selects; `ci` derandomizes).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from easychat.chat.actions import Action, Close, Send, SendBytes
from easychat.chat.commands import COMMANDS
from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.proto.limits import MAX_LINE_BYTES, MAX_TAGS_BYTES
from easychat.proto.message import Message, encode, parse
from easychat.store.history import SQLiteHistory
from tests.chatcore_harness import FakeClock

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

CONNS = 4

# -- what the fuzzer sends ------------------------------------------------------

NICKS = ["alice", "Bob", "bob", "c[a]rl", "x" * 40, "9lives", "-", "é", "a b", "*", ":n", ""]
ROOMS = ["#lobby", "#Lobby", "#r", "#" + "r" * 60, "#a,#b", "&x", "#", "r", "#é", "0", "*"]
TOKENS = [
    *NICKS,
    *(f"user{i}" for i in range(CONNS)),
    "#r",
    "#r",
    "#lobby,#r",
    *ROOMS,
    "+o",
    "-o",
    "+b",
    "-b",
    "+k",
    "-k",
    "+l",
    "-l",
    "+imnst",
    "-imnst",
    "+v",
    "+ov",
    "+i",
    "*!*@*",
    "a!b@c",
    "key",
    "1",
    "-1",
    "99999999999999999999",
    "0",
    "3",
    "LS",
    "302",
    "REQ",
    "END",
    "LIST",
    "ACK",
    "NAK",
    "message-tags echo-message",
    "server-time batch",
    "draft/chathistory draft/event-playback",
    "-echo-message",
    "LATEST",
    "BEFORE",
    "AFTER",
    "AROUND",
    "BETWEEN",
    "TARGETS",
    "timestamp=2023-11-14T22:13:20.000Z",
    "timestamp=nope",
    "msgid=abc",
    "msgid=",
    "*",
    "",
    " ",
    ":",
    "::",
    "a:b",
    "\x01ACTION waves\x01",
    "☃" * 50,
    "y" * 400,
    "z" * 200,
]
COMMAND_NAMES = [*COMMANDS, "FOO", "001", "OPER", "PRIVMSG", "JOIN", "MODE", "NICK", "KICK"]
TAGS = ["", "@+typing=active ", "@label=x;+draft/reply=abc ", "@msgid=fake;time=x ", "@a "]

param = st.one_of(
    st.sampled_from(TOKENS),
    st.sampled_from(TOKENS),
    st.sampled_from(TOKENS),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n\0 "), max_size=30),
)


@st.composite
def irc_line(draw: st.DrawFn) -> bytes:
    """A line that looks like a command, with random parameters."""
    params = draw(st.lists(param, max_size=6))
    middle = [p if p and " " not in p and not p.startswith(":") else "x" for p in params[:-1]]
    words = [draw(st.sampled_from(COMMAND_NAMES)), *middle]
    if params:
        last = params[-1]
        words.append(":" + last if draw(st.booleans()) or not last else last)
    line = draw(st.sampled_from(TAGS)) + " ".join(words)
    return line.encode()


def registration(nick: str, caps: str) -> list[bytes]:
    """A registration, with or without CAP negotiation, as separate lines."""
    lines = [f"NICK {nick}", f"USER {nick[:5] or 'u'} 0 * :Real Name"]
    if caps:
        lines = ["CAP LS 302", f"CAP REQ :{caps}", *lines, "CAP END"]
    return [line.encode() for line in lines]


@dataclass(frozen=True)
class Feed:
    """Lines arriving on a connection (each as the framing would hand it over)."""

    conn: int
    lines: tuple[bytes, ...]


@dataclass(frozen=True)
class Drop:
    """The shell saw the connection end."""

    conn: int


@dataclass(frozen=True)
class Advance:
    """The clock moves and the loop runs the timers."""

    seconds: float


Event = Feed | Drop | Advance

conn_id = st.integers(0, CONNS - 1)
caps_choice = st.sampled_from(
    [
        "",
        "message-tags",
        "message-tags server-time echo-message batch",
        "echo-message",
        "message-tags server-time echo-message batch draft/chathistory draft/event-playback",
    ]
)
command_feed = st.builds(lambda c, line: Feed(c, (line,)), conn_id, irc_line())
raw_feed = st.builds(lambda c, data: Feed(c, (data,)), conn_id, st.binary(min_size=1, max_size=80))
registration_feed = st.builds(
    lambda c, nick, caps: Feed(c, tuple(registration(nick, caps))),
    conn_id,
    st.sampled_from(NICKS[:5]),
    caps_choice,
)
short_wait = st.builds(Advance, st.sampled_from([0.0, 1.0, 2.5, 10.0]))
long_wait = st.builds(Advance, st.sampled_from([31.0, 61.0, 121.0, 86400.0 * 2]))
# Weighted by percent: mostly commands, some garbage, registrations and faults.
_WEIGHTS: tuple[tuple[int, st.SearchStrategy[Event]], ...] = (
    (60, command_feed),
    (10, raw_feed),
    (10, registration_feed),
    (8, st.builds(Drop, conn_id)),
    (8, short_wait),
    (4, long_wait),
)


def _pick(roll: int) -> st.SearchStrategy[Event]:
    for weight, strategy in _WEIGHTS:
        if roll < weight:
            return strategy
        roll -= weight
    raise AssertionError("weights do not add up to 100")


events = st.integers(0, 99).flatmap(_pick)

# -- running and checking ---------------------------------------------------------


@dataclass
class Shell:
    """Plays the selector shell's part and checks every action the core returns."""

    core: ChatCore
    clock: FakeClock
    open: set[int] = field(default_factory=set)
    closed: set[int] = field(default_factory=set)
    sent: int = 0
    next_conn: int = 0
    slots: dict[int, int] = field(default_factory=dict)

    def check(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Close):
                assert action.conn not in self.closed, f"closed twice: {action}"
                assert action.conn in self.open, f"closed an unknown connection: {action}"
                self.closed.add(action.conn)
                self.open.discard(action.conn)
                continue
            assert isinstance(action, Send | SendBytes)
            assert list(action.targets), "Send with no targets"
            assert len(set(action.targets)) == len(action.targets), f"duplicate targets {action}"
            for target in action.recipients():
                assert target in self.open, f"sent to a closed connection {target}: {action}"
            if isinstance(action, Send):
                check_wire(action.message)
            else:  # the fast path's bytes are what the formatter makes of them
                assert action.data.endswith(b"\r\n")
                assert action.data.count(b"\r\n") == 1
                message = parse(action.data[:-2].decode())
                check_wire(message)
                assert encode(message) == action.data, action.data
            self.sent += 1

    def conn(self, slot: int) -> int:
        """The connection in `slot`, opened (as a fresh connection) if needed."""
        conn = self.slots.get(slot)
        if conn is None or conn not in self.open:
            self.next_conn += 1
            conn = self.slots[slot] = self.next_conn
            self.open.add(conn)
            self.check(self.core.connect(conn, "::1" if slot == 3 else f"127.0.0.{slot + 1}"))
        return conn

    def run(self, event: Event) -> None:
        if isinstance(event, Feed):
            conn = self.conn(event.conn)
            for line in event.lines:
                if conn not in self.open:
                    break  # the shell stops feeding a connection the core closed
                self.check(self.core.receive(conn, line))
        elif isinstance(event, Drop):
            conn = self.slots.get(event.conn)
            if conn is not None and conn in self.open:
                self.open.discard(conn)
                self.check(self.core.disconnect(conn, "Connection reset by peer"))
        else:
            self.clock.advance(event.seconds)
            self.check(self.core.tick())
        self.core.end_turn()


def check_wire(msg: Message) -> None:
    """`msg`, encoded, is one valid IRC line that parses back to `msg`."""
    wire = encode(msg)
    assert wire.endswith(b"\r\n")
    body = wire[:-2]
    for bad in (b"\r", b"\n", b"\0"):
        assert bad not in body, f"{bad!r} inside {body!r}"
    tag_len = body.index(b" ") + 1 if msg.tags else 0
    assert tag_len <= MAX_TAGS_BYTES, f"tags too long: {body[:80]!r}"
    assert len(wire) - tag_len <= MAX_LINE_BYTES, f"line too long: {body!r}"
    # The formatted line already fits: encode() did not have to cut it.
    assert len(msg.format().encode()) - tag_len <= MAX_LINE_BYTES - 2, f"cut: {body!r}"
    back = parse(body.decode("utf-8"))
    assert back == msg, f"{msg!r} came back as {back!r}"


# Most examples start with some connections registered and in #r (the first
# one its operator), so the commands that need a registered client run too.
prelude = st.lists(
    st.one_of(caps_choice, caps_choice, st.none()), min_size=CONNS, max_size=CONNS
).map(
    lambda choices: [
        Feed(c, (*registration(f"user{c}", caps), b"JOIN #r"))
        for c, caps in enumerate(choices)
        if caps is not None
    ]
)


def run_events(evs: list[Event], history: SQLiteHistory | None) -> Shell:
    clock = FakeClock()
    core = ChatCore(CoreConfig(replay_lines=3), clock=clock, history=history)
    shell = Shell(core, clock)
    for event in evs:
        shell.run(event)
        registered = [c for c in core.clients.values() if c.registered]
        assert core.users == len(registered), "LUSERS user count drifted"
        assert core.invisible == sum("i" in c.modes for c in registered), "invisible drifted"
    shell.check(core.shutdown())
    return shell


@settings(max_examples=400)
@given(start=prelude, evs=st.lists(events, min_size=5, max_size=40))
def test_core_any_input_valid_output(start: list[Event], evs: list[Event]) -> None:
    """Any sequence of lines never raises out of the core; every output line is valid IRC."""
    run_events(start + evs, history=None)


@settings(max_examples=200)
@given(start=prelude, evs=st.lists(events, min_size=5, max_size=40))
def test_core_with_history_any_input_valid_output(start: list[Event], evs: list[Event]) -> None:
    """The same with a history store, so CHATHISTORY, replay and event playback run."""
    history = SQLiteHistory(":memory:")
    try:
        run_events(start + evs, history=history)
    finally:
        history.close()


@settings(max_examples=200)
@given(
    order=st.permutations(
        [
            b"CAP LS 302",
            b"CAP REQ :message-tags",
            b"NICK dan",
            b"USER d 0 * :D",
            b"CAP END",
            b"PASS x",
            b"PING :p",
            b"JOIN #lobby",
            b"PRIVMSG #lobby :hi",
            b"QUIT :bye",
        ]
    ),
    second=st.permutations([b"NICK dan", b"USER e 0 * :E", b"NICK DAN", b"NICK eve"]),
)
def test_core_registration_orders(order: list[bytes], second: list[bytes]) -> None:
    """Registration commands in any order, with a rival for the same nick, stay valid."""
    evs: list[Event] = [
        Feed(0, tuple(order[:5])),
        Feed(1, tuple(second)),
        Feed(0, tuple(order[5:])),
    ]
    run_events(evs, history=None)

"""Provides a socket-free harness for ChatCore tests: a fake clock and a driver."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from easychat.chat.actions import Action, Close, Send, SendBytes
from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.proto.message import Message, encode
from tests.ircclient import parse_from_server

# The clock starts far from zero so that a bug treating 0 as "never" shows.
CLOCK_START = 1_700_000_000.0


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, start: float = CLOCK_START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Moves time forward by `seconds`."""
        self.now += seconds


class CoreDriver:
    """Drives a ChatCore like the selector shell would, and records the output.

    Every message the core emits is encoded to wire bytes and parsed back, so a
    message that could not go on the wire (an empty middle parameter, a line
    over 512 bytes) fails the test instead of being cut or crashing a shell.
    """

    def __init__(self, config: CoreConfig | None = None) -> None:
        self.clock = FakeClock()
        self.config = config if config is not None else CoreConfig()
        self.core = ChatCore(self.config, clock=self.clock)
        self.inbox: dict[int, list[Message]] = defaultdict(list)
        self.closed: dict[int, str] = {}
        self._next_conn = 0

    # -- feeding the core ------------------------------------------------

    def apply(self, actions: Iterable[Action]) -> None:
        """Records the core's actions, checking each message is wire-valid."""
        for action in actions:
            if isinstance(action, Send | SendBytes):
                if isinstance(action, Send):
                    line = action.message.format()
                    wire = action.message.to_bytes()
                else:  # the fast path's bytes: one line, exactly what Send would encode
                    wire = action.data
                    assert wire.count(b"\r\n") == 1, wire
                    line = wire[:-2].decode()
                    assert encode(parse_from_server(line)) == wire, (
                        "the fast path encodes differently"
                    )
                assert wire.endswith(b"\r\n")
                decoded = parse_from_server(wire[:-2].decode())
                assert list(action.targets), "Send with no targets"
                assert len(set(action.targets)) == len(action.targets), "duplicate targets"
                for target in action.recipients():
                    assert target not in self.closed, f"sent to closed connection {target}"
                    self.inbox[target].append(decoded)
            else:
                assert isinstance(action, Close)
                self.closed[action.conn] = action.reason

    def open(self, host: str = "127.0.0.1") -> int:
        """Opens a new connection; returns its id."""
        self._next_conn += 1
        conn = self._next_conn
        self.apply(self.core.connect(conn, host))
        return conn

    def send(self, conn: int, line: str | bytes) -> list[Message]:
        """Feeds one line from `conn`; returns everything `conn` has pending."""
        data = line.encode() if isinstance(line, str) else line
        self.apply(self.core.receive(conn, data))
        return self.take(conn)

    def tick(self) -> None:
        """Runs the core's timers."""
        self.apply(self.core.tick())

    def advance(self, seconds: float) -> None:
        """Moves the clock and runs the timers, as the shell's loop would."""
        self.clock.advance(seconds)
        self.tick()

    def take(self, conn: int) -> list[Message]:
        """Drains and returns what was delivered to `conn` so far."""
        return self.inbox.pop(conn, [])

    def register(self, nick: str, *rooms: str) -> int:
        """Connects and registers `nick`, joins `rooms`, drains its inbox."""
        conn = self.open()
        self.send(conn, f"NICK {nick}")
        burst = self.send(conn, f"USER {nick.lower()} 0 * :{nick} Test")
        assert any(m.command == "001" for m in burst), burst
        for room in rooms:
            self.send(conn, f"JOIN {room}")
        self.drain()
        return conn

    def drain(self) -> None:
        """Forgets everything delivered so far, to every connection."""
        self.inbox.clear()


def commands(messages: Iterable[Message]) -> list[str]:
    """The commands of `messages`, in order."""
    return [m.command for m in messages]


def only(messages: list[Message], command: str) -> Message:
    """The single message with `command` in `messages` (fails otherwise)."""
    found = [m for m in messages if m.command == command]
    assert len(found) == 1, f"expected one {command}, got {messages!r}"
    return found[0]

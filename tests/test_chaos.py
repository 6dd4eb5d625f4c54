"""Socket-level chaos: hundreds of misbehaving clients, then the server still serves.

A seeded generator opens 200 loopback connections over at most ~5 s, at most
80 at a time, each with one bad habit: random bytes, random valid and invalid
commands, registering and flooding #lobby without ever reading, stopping in
the middle of a line, or leaving with a reset. The server runs as a real
`easychat serve` subprocess, so its memory is read from /proc and its log is
the real one. Afterwards: its peak and current RSS stay under a ceiling
derived from the send-queue limit, nothing was logged at ERROR level or as a
traceback, a fresh pair of clients registers and chats, and SIGTERM still
shuts it down cleanly.
"""

from __future__ import annotations

import errno
import random
import re
import signal
import socket
import struct
import sys
import time
from pathlib import Path

import pytest

from easychat.chat.identity.passwords import hash_password
from easychat.cli.options.limits import LIMIT_OPTIONS
from easychat.proto.framing import MAX_FRAME_BYTES
from tests.ircclient import TIMEOUT, IRCClient
from tests.serverproc import ServerProcess, server_process
from tests.test_robustness import assert_serves

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads RSS from /proc; binds 127.0.0.x sources"
)

SEED = 20240605
OPER_PASSWORD = "chaos oper"
CLIENTS = 200
AT_ONCE = 80
DURATION = 5.0
# A small send queue: a client that never reads costs the server at most this.
SENDQ = 64 * 1024
# What one connection may hold in the server at worst: its send queue, one
# incomplete frame, and generous room for its state, socket object and the
# allocator's slack.
PER_CLIENT_BYTES = SENDQ + MAX_FRAME_BYTES + 64 * 1024
# The ceiling over the RSS measured once the server is up: every connection
# of one wave at its worst at once, plus 32 MiB for Python's allocator not
# returning freed arenas. A leak of a few KiB per connection (200 x 200 turns)
# or an unbounded buffer would still cross it.
HEADROOM_BYTES = AT_ONCE * PER_CLIENT_BYTES + 32 * 1024 * 1024

COMMANDS = [
    "PRIVMSG #lobby :hello",
    "PRIVMSG #lobby :" + "x" * 450,
    "PRIVMSG nobody :hi",
    "NOTICE #lobby :n",
    "JOIN #chaos",
    "JOIN #chaos,#other,#lobby",
    "PART #chaos :bye",
    "MODE #chaos +imnstk key",
    "MODE #chaos -k key",
    "MODE #lobby +b *!*@*",
    "TOPIC #chaos :a topic",
    "KICK #chaos someone",
    "NAMES #lobby",
    "WHO #lobby",
    "WHOIS chaos1",
    "LIST",
    "LUSERS",
    "MOTD",
    "PING :p",
    "AWAY :gone",
    "CAP LS 302",
    "CAP REQ :message-tags echo-message server-time batch",
    "CHATHISTORY LATEST #lobby * 50",
    "@+typing=active TAGMSG #lobby",
    "NICK",
    "USER",
    "FOO bar",
    "001 x",
    ":src PRIVMSG",
    "PRIVMSG #lobby :" + "y" * 700,
    "@" + "t" * 9000 + " PING x",
    "\x00\x01\x02",
    "PRIVMSG #lobby :\xff\xfe",
]


def limits_off() -> list[str]:
    """Flags that turn every flood and per-IP limit off (0), whatever exists today."""
    args: list[str] = []
    for opt in LIMIT_OPTIONS:
        if not opt.flag and not opt.repeat:
            args += [f"--{opt.name}", "0"]
    return args


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of process `pid` from /proc (VmRSS now, VmHWM at its peak)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None, status
    return int(match.group(1)) * 1024


class Chaotic:
    """One misbehaving client over a non-blocking socket."""

    def __init__(self, rng: random.Random, port: int, index: int) -> None:
        self.rng = rng
        self.habit = rng.choice(["garbage", "commands", "flood", "midline", "reset", "reader"])
        self.steps = rng.randint(10, 150)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Spread over 127.0.0.0/8 so per-IP limits (if they cannot be turned off) bite less.
        self.sock.bind((f"127.0.0.{2 + index % 250}", 0))
        self.sock.setblocking(False)
        err = self.sock.connect_ex(("127.0.0.1", port))
        assert err in (0, errno.EINPROGRESS), errno.errorcode.get(err, err)
        self.nick = f"chaos{index}"
        self.pending = b""
        self.done = False
        if self.habit in ("commands", "flood", "reader", "reset"):
            self.queue(f"NICK {self.nick}\r\nUSER c 0 * :Chaos\r\n".encode())

    def queue(self, data: bytes) -> None:
        self.pending += data

    def step(self) -> None:
        """Does one more thing; marks itself done when its story ends."""
        rng = self.rng
        self.steps -= 1
        if self.habit == "garbage":
            self.queue(rng.randbytes(rng.randint(1, 2000)) + rng.choice([b"", b"\r\n", b"\n"]))
        elif self.habit in ("commands", "reset"):
            line = rng.choice(COMMANDS).encode("utf-8", "surrogateescape")
            self.queue(line + rng.choice([b"\r\n", b"\n", b"\r"]))
        elif self.habit == "flood":
            self.queue(b"PRIVMSG #lobby :" + b"f" * rng.randint(1, 400) + b"\r\n")
        elif self.habit == "midline":
            self.queue(b"PRIVMSG #lobby :this line never ends " * rng.randint(1, 300))
        elif self.habit == "reader":
            self.queue(b"PRIVMSG #lobby :reading\r\n")
        self.flush()
        if self.habit == "reader":
            self.drain()
        if self.steps <= 0:
            self.finish()

    def flush(self) -> None:
        try:
            sent = self.sock.send(self.pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.finish()
            return
        self.pending = self.pending[sent:]
        # A client that cannot send stops queueing; it only holds what is pending.
        if len(self.pending) > 256 * 1024:
            self.pending = self.pending[-256 * 1024 :]

    def drain(self) -> None:
        try:
            while self.sock.recv(65536):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.finish()

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        if self.habit == "reset" or self.rng.random() < 0.2:
            # SO_LINGER 0: close sends RST instead of FIN.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def run_chaos(port: int, seed: int = SEED) -> dict[str, int]:
    """Runs the chaotic clients; returns how many of each habit ran."""
    rng = random.Random(seed)
    live: list[Chaotic] = []
    started = 0
    habits: dict[str, int] = {}
    start = time.monotonic()
    deadline = start + DURATION
    # Arrivals are spread over most of the run, so connections come and go throughout.
    spacing = DURATION * 0.7 / CLIENTS
    while (started < CLIENTS or live) and time.monotonic() < deadline:
        due = min(CLIENTS, int((time.monotonic() - start) / spacing) + 1)
        while started < due and len(live) < AT_ONCE:
            client = Chaotic(rng, port, started)
            habits[client.habit] = habits.get(client.habit, 0) + 1
            live.append(client)
            started += 1
        for client in rng.sample(live, k=min(len(live), 20)):
            client.step()
        live = [c for c in live if not c.done]
        time.sleep(0.002)  # pacing the generator, not waiting for the server
    for client in live:
        client.finish()
    assert started == CLIENTS, f"only {started} clients started in {DURATION} s"
    return habits


def read_all_output(server: ServerProcess) -> list[str]:
    """Every line the server printed, once it has exited."""
    while True:
        line = server.lines.get(timeout=TIMEOUT)
        if line is None:
            return server.output
        server.output.append(line)


def drop_lobby(port: int) -> None:
    """A server operator drops #lobby, which a chaotic operator may have locked.

    A room with a ban or a mode other than +nt is kept when it empties
    (chat/rooms.py), so a `+b *!*@*` from the chaos outlives its clients;
    DROP is how an operator takes such a room back.
    """
    admin = IRCClient(port)
    try:
        admin.send("NICK chaosadmin")
        admin.send("USER chaosadmin 0 * :Admin")
        admin.expect(("376", "422"))
        admin.send(f"OPER chaosadmin :{OPER_PASSWORD}")
        admin.expect("381")  # RPL_YOUREOPER
        admin.send("DROP #lobby")
        admin.expect(("NOTICE", "403"), lambda m: "#lobby" in m.params[-1] or m.command == "403")
        admin.send("QUIT")
        admin.expect_closed()
    finally:
        admin.close()


def test_chaos_leaves_server_bounded_clean_and_serving() -> None:
    extra = ("--replay-lines", "0", "--sendq", str(SENDQ), "--log-level", "info")
    oper = ("--oper", f"chaosadmin:{hash_password(OPER_PASSWORD)}")
    with server_process(":memory:", *extra, *oper, *limits_off()) as server:
        pid = server.proc.pid
        baseline = rss_bytes(pid)
        habits = run_chaos(server.port)
        drop_lobby(server.port)
        assert_serves(server.port)
        peak, now = rss_bytes(pid, "VmHWM"), rss_bytes(pid)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(TIMEOUT) == 0
        output = read_all_output(server)
    print(
        f"chaos: {habits}; RSS baseline {baseline >> 20} MiB, peak {peak >> 20} MiB, "
        f"after {now >> 20} MiB, ceiling {(baseline + HEADROOM_BYTES) >> 20} MiB"
    )
    assert peak <= baseline + HEADROOM_BYTES, (baseline, peak)
    assert now <= baseline + HEADROOM_BYTES, (baseline, now)
    logged = "\n".join(output)
    assert "Traceback" not in logged, logged
    assert not [line for line in output if re.search(r"\bERROR\b|internal error", line)], logged

"""Provides a load generator that measures what durable history costs EasyChat's fan-out.

Run it from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/history_throughput.py           # the full run (about a minute)
    .venv/bin/python benchmarks/history_throughput.py --quick   # a smoke run of a few seconds
    .venv/bin/python benchmarks/history_throughput.py --help    # every knob

Each run starts a fresh `easychat serve` (the one importable by this Python,
`python -m easychat`) on a free loopback port, alternating `--db :memory:`
and `--db <fresh file>` (3 runs each by default). N clients (20) register
and are autojoined to #lobby; then S of them (5) each send M messages (2,000)
as fast as the server takes them, and every client counts the messages it
receives. A run ends when every client has all it should get (each message
goes to the N - 1 others: S x M x (N - 1) deliveries), or when deliveries
stall for `--stall` seconds. The report gives, per run, delivered messages
per second (deliveries / time from the first send to the last delivery),
messages lost, and the CPU time the server and this generator used; then the
median rate of each mode, the ratio file/memory (issue 6's target is
>= 0.9), and the total lost, which must be 0. The exit status is 1 when
anything was lost or a run failed.

The server runs with `--replay-lines 0`, a send queue large enough that no
receiver is cut off (`--sendq`, 64 MiB), and `--log-level warning`, because
at `info` it logs every message and the benchmark would measure its log.
Where the database file goes (`--db-dir`, the system's temporary directory
by default) matters: each loop turn ends with an fsync, and a tmpfs makes
that free. The generator is one `selectors` loop over non-blocking sockets;
it counts deliveries with `bytes.count` and never parses a relayed line, so
it stays cheaper than the server (compare the two CPU columns: a generator
near 100 % of one core would be the bottleneck). Loopback only. After each
file run, a line gives the search index's figures (benchmarks/search_index.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__:
    from benchmarks import serverctl
    from benchmarks.search_index import index_cost
else:  # run as a script: benchmarks/ is on sys.path
    import serverctl
    from search_index import index_cost


HOST = "127.0.0.1"
ROOM = b"#lobby"
# Counted in the received bytes: one per relayed room message. 17 bytes, so
# the 16 bytes kept from the previous chunk can never hold a whole one.
MARK = b" PRIVMSG " + ROOM + b" :"
TAIL = len(MARK) - 1
# Padding that brings a message line to about 100 bytes, a typical chat line.
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod"
RECV_BYTES = 256 * 1024
SEND_BYTES = 256 * 1024
# Seconds the server gets to start, and to exit on SIGTERM.
START_SECONDS = 10.0
STOP_SECONDS = 5.0
# Seconds for every client to register and join.
JOIN_SECONDS = 10.0


@dataclass(frozen=True)
class Scenario:
    """The shape of one run, and how many runs of each mode."""

    clients: int
    senders: int
    messages: int
    runs: int
    sendq: int
    stall: float
    log_level: str
    db_dir: Path


@dataclass(frozen=True)
class Result:
    """What one run measured."""

    mode: str
    delivered: int
    expected: int
    seconds: float
    server_cpu: float | None  # seconds, from /proc (Linux only)
    generator_cpu: float

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.delivered)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0


class Client:
    """One connection: what it still has to send, and what it has counted."""

    __slots__ = ("buf", "closed", "joined", "nick", "out", "pos", "received", "sock", "tail")

    def __init__(self, sock: socket.socket, nick: str) -> None:
        self.sock = sock
        self.nick = nick
        self.out = b""  # bytes to send, from `pos` on
        self.pos = 0
        self.buf = b""  # partial line, while registering
        self.tail = b""  # last bytes of the previous chunk, while counting
        self.received = 0
        self.joined = False
        self.closed = False


class BenchError(Exception):
    """A run could not be carried out (server failed to start, clients refused)."""


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far, where /proc has it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime fields 14, 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def easychat_server(db: str, scenario: Scenario) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A fresh `easychat serve` on a free port; yields the process and the port."""
    port = serverctl.free_port(HOST)
    command = [
        *(sys.executable, "-m", "easychat", "serve", "--host", HOST, "--port", str(port)),
        *("--db", db, "--replay-lines", "0", "--sendq", str(scenario.sendq)),
        *("--log-level", scenario.log_level, "--max-clients", str(scenario.clients + 8)),
        # Every client connects from this one address and sends flat out.
        *("--flood-rate", "0", "--max-clients-per-ip", "0", "--connects-per-ip", "0"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASYCHAT_")}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        assert proc.stdout is not None
        output = b""
        deadline = time.monotonic() + START_SECONDS
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while b"Waiting for a connection..." not in output:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(remaining):
                    raise BenchError(f"server did not start: {output.decode(errors='replace')}")
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    raise BenchError(f"server exited: {output.decode(errors='replace')}")
                output += chunk
        yield proc, port
    finally:
        serverctl.stop(proc, STOP_SECONDS)
        if proc.stdout is not None:
            proc.stdout.close()


def connect(port: int, count: int) -> list[Client]:
    """`count` clients, registered (NICK/USER) but not yet known to have joined."""
    clients = []
    for i in range(count):
        sock = socket.create_connection((HOST, port), timeout=JOIN_SECONDS)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        nick = f"bench{i}"
        sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :load generator\r\n".encode())
        sock.setblocking(False)
        clients.append(Client(sock, nick))
    return clients


def on_registration_line(client: Client, line: bytes) -> None:
    """Watches for the end of #lobby's NAMES (the autojoin is done); answers PING."""
    words = line.split(b" ")
    if words and words[0].startswith(b"@"):
        words = words[1:]
    if words and words[0].startswith(b":"):
        words = words[1:]
    if not words:
        return
    if words[0] == b"PING":
        client.sock.send(b"PONG " + b" ".join(words[1:]) + b"\r\n")
    elif words[0] == b"366" and len(words) > 2 and words[2].lower() == ROOM:
        client.joined = True
    elif words[0] in (b"ERROR", b"433", b"465"):
        raise BenchError(f"{client.nick} refused: {line.decode(errors='replace')}")


def receive(client: Client) -> bytes:
    """What the socket holds now; marks the client closed at EOF."""
    try:
        chunk = client.sock.recv(RECV_BYTES)
    except (BlockingIOError, InterruptedError):
        return b""
    except OSError:
        chunk = b""
    if not chunk:
        client.closed = True
    return chunk


def pump(
    sel: selectors.BaseSelector,
    on_data: Callable[[Client, bytes], None],
    done: Callable[[], bool],
    stall: float,
) -> None:
    """Runs the loop until `done()`, or until nothing arrives for `stall` seconds."""
    last_progress = time.monotonic()
    while not done():
        remaining = last_progress + stall - time.monotonic()
        if remaining <= 0:
            return
        for key, mask in sel.select(min(remaining, 1.0)):
            if key.data is None:  # the server's log: read, so it never blocks on a full pipe
                if not os.read(key.fd, 65536):
                    sel.unregister(key.fd)
                continue
            client: Client = key.data
            if mask & selectors.EVENT_READ:
                chunk = receive(client)
                if chunk:
                    last_progress = time.monotonic()
                    on_data(client, chunk)
                elif client.closed:
                    sel.unregister(client.sock)
                    continue
            if mask & selectors.EVENT_WRITE:
                try:
                    sent = client.sock.send(memoryview(client.out)[client.pos :][:SEND_BYTES])
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:  # the server closed this client (e.g. SendQ exceeded)
                    client.closed = True
                    sel.unregister(client.sock)
                    continue
                client.pos += sent
                if client.pos >= len(client.out):
                    sel.modify(client.sock, selectors.EVENT_READ, client)


def run_once(mode: str, db: str, scenario: Scenario) -> Result:
    """One fresh server, one fan-out; returns what was measured."""
    with easychat_server(db, scenario) as (proc, port):
        clients = connect(port, scenario.clients)
        try:
            return measure(mode, proc, clients, scenario)
        finally:
            for client in clients:
                client.sock.close()


def measure(
    mode: str, proc: subprocess.Popen[bytes], clients: list[Client], scenario: Scenario
) -> Result:
    """Registers the clients, then has the senders send and counts deliveries."""
    with selectors.DefaultSelector() as sel:
        assert proc.stdout is not None
        sel.register(proc.stdout, selectors.EVENT_READ, None)
        for client in clients:
            sel.register(client.sock, selectors.EVENT_READ, client)

        def registering(client: Client, chunk: bytes) -> None:
            *lines, client.buf = (client.buf + chunk).split(b"\r\n")
            for line in lines:
                on_registration_line(client, line)

        pump(sel, registering, lambda: all(c.joined for c in clients), JOIN_SECONDS)
        if not all(c.joined for c in clients):
            late = [c.nick for c in clients if not c.joined]
            raise BenchError(f"clients never joined {ROOM.decode()}: {late}")

        senders = clients[: scenario.senders]
        for s, client in enumerate(senders):
            client.out = "".join(
                f"PRIVMSG {ROOM.decode()} :s{s} m{i} {FILLER}\r\n" for i in range(scenario.messages)
            ).encode()
        expected = scenario.senders * scenario.messages * (scenario.clients - 1)
        total = 0
        last_delivery = 0.0

        def counting(client: Client, chunk: bytes) -> None:
            nonlocal total, last_delivery
            data = client.tail + chunk
            count = data.count(MARK)
            if count:
                client.received += count
                total += count
                last_delivery = time.perf_counter()
            if b"PING" in data:  # idle receivers are PINGed after a while
                for line in data.split(b"\r\n"):
                    if line.startswith(b"PING "):
                        client.sock.send(b"PONG " + line[5:] + b"\r\n")
            client.tail = data[-TAIL:]

        server_before = cpu_seconds(proc.pid)
        generator_cpu = time.process_time()
        start = time.perf_counter()
        for client in senders:
            sel.modify(client.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)
        pump(sel, counting, lambda: total >= expected, scenario.stall)
        generator_cpu = time.process_time() - generator_cpu
        server_after = cpu_seconds(proc.pid)
    server_cpu = None
    if server_before is not None and server_after is not None:
        server_cpu = server_after - server_before
    seconds = (last_delivery or time.perf_counter()) - start
    return Result(mode, total, expected, seconds, server_cpu, generator_cpu)


def percent(cpu: float | None, seconds: float) -> str:
    return "-" if cpu is None or seconds <= 0 else f"{100 * cpu / seconds:.0f}%"


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints the report; 1 if anything was lost."""
    parser = argparse.ArgumentParser(
        description="EasyChat fan-out throughput with history in memory and in a SQLite file."
    )
    parser.add_argument("--clients", type=int, default=20, help="clients in #lobby (20)")
    parser.add_argument("--senders", type=int, default=5, help="clients that send (5)")
    parser.add_argument("--messages", type=int, default=2000, help="messages per sender (2,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each mode (3)")
    parser.add_argument(
        "--sendq", type=int, default=64 << 20, help="server --sendq in bytes (64 MiB)"
    )
    parser.add_argument(
        "--stall", type=float, default=10.0, help="seconds without a delivery that end a run (10)"
    )
    parser.add_argument(
        "--log-level", default="warning", help="server --log-level (warning: no per-message log)"
    )
    parser.add_argument(
        "--db-dir",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="directory for the database files (the system's temporary directory)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 5 clients, 2 senders x 200, 1 run each"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.senders, args.messages, args.runs = 5, 2, 200, 1
    if not 1 <= args.senders <= args.clients or args.clients < 2 or args.messages < 1:
        parser.error("need 2 or more clients, 1 to --clients senders, 1 or more messages")
    scenario = Scenario(
        args.clients,
        args.senders,
        args.messages,
        args.runs,
        args.sendq,
        args.stall,
        args.log_level,
        args.db_dir,
    )
    print(
        f"EasyChat history throughput: {scenario.clients} clients in {ROOM.decode()},"
        f" {scenario.senders} senders x {scenario.messages:,} messages,"
        f" {scenario.runs} run(s) of each mode, database files in {scenario.db_dir}"
    )
    print(
        f"{'run':>3}  {'history':<7} {'delivered':>10} {'seconds':>8} {'msg/s':>11}"
        f" {'lost':>6} {'server CPU':>10} {'generator CPU':>13}"
    )
    results: list[Result] = []
    failed = False
    scenario.db_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scenario.db_dir, prefix="easychat-bench-") as tmp:
        for run in range(1, scenario.runs + 1):
            for mode in ("memory", "file"):
                db = ":memory:" if mode == "memory" else str(Path(tmp) / f"run{run}.sqlite3")
                try:
                    result = run_once(mode, db, scenario)
                except (BenchError, OSError) as exc:
                    print(f"{run:>3}  {mode:<7} failed: {exc}")
                    failed = True
                    continue
                results.append(result)
                print(
                    f"{run:>3}  {mode:<7} {result.delivered:>10,} {result.seconds:>8.3f}"
                    f" {result.rate:>11,.0f} {result.lost:>6,}"
                    f" {percent(result.server_cpu, result.seconds):>10}"
                    f" {percent(result.generator_cpu, result.seconds):>13}"
                )
                if mode == "file":  # what the search index of that history cost
                    print(f"     {index_cost(Path(db)).report()}")
    medians = {
        mode: statistics.median([r.rate for r in results if r.mode == mode] or [0.0])
        for mode in ("memory", "file")
    }
    lost = sum(r.lost for r in results)
    print(f"median without db (:memory:): {medians['memory']:,.0f} msg/s")
    print(f"median with db (file):        {medians['file']:,.0f} msg/s")
    if medians["memory"] > 0:
        print(f"ratio with-db/without-db: {medians['file'] / medians['memory']:.2f}")
    print(f"lost: {lost}")
    return 1 if failed or lost else 0


if __name__ == "__main__":
    raise SystemExit(main())

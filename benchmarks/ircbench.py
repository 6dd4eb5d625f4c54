"""Provides ircbench, an IRC load generator for any IRC server on a loopback address.

Run it from the repository root against a server that is already listening:

    .venv/bin/python -m benchmarks.ircbench --port 6667 --clients 50 --senders 5 --messages 2000
    .venv/bin/python benchmarks/ircbench.py --port 6667 --clients 2 --senders 1 \\
        --messages 20000 --direct                     # one-to-one PRIVMSG to a nick
    .venv/bin/python benchmarks/ircbench.py --port 6667 --clients 50 --senders 5 \\
        --messages 1000 --rate 1000                   # latency at a fixed rate
    .venv/bin/python benchmarks/ircbench.py --port 6667 --clients 2000 --concurrency 0 \\
        --messages 0 --no-join                        # connect burst (connections/s)
    .venv/bin/python benchmarks/ircbench.py --port 6667 --clients 5000 --messages 0 \\
        --no-join --pid <server pid>                  # RSS per idle registered connection
    .venv/bin/python benchmarks/ircbench.py --help    # every knob

`make bench` (benchmarks/run.py) starts EasyChat and ngircd and drives this.

What it does: N clients connect (at most --concurrency connecting at once; 0
means all at once) and register (NICK/USER, then wait for 001); unless
--no-join, each joins one room and waits for that room's 366 (end of NAMES).
Then S of them send M messages each, as fast as the server accepts them or
at --rate messages/s in total, to the room (or, with --direct, sender i to
client i + S, one-to-one), and every client counts what it receives. Each
message carries the generator's monotonic clock in nanoseconds; a few
"observer" clients (every client at a fixed --rate) parse it back for the
end-to-end latency. A run ends when every expected delivery has arrived or
nothing arrived for --stall seconds.

It reports: delivered messages/s (deliveries / first send to last delivery),
latency p50/p99/max, messages lost (expected - delivered), failed
connections, connections/s (registered clients / first connect to last 001),
and, given the server's --pid, its RSS before the clients, with them idle,
the kB per idle connection ((RSS with N - RSS empty) / N) and its peak RSS
(VmHWM), all from /proc/<pid>/status, plus the server's CPU use. It also
measures its own CPU: at 90 % of a core or more the generator, not the
server, is probably the bottleneck, and the report says so.

Design: one `selectors` loop over non-blocking sockets; each client's output
is one buffer written with one `send` per writable event; non-observers
count deliveries with `bytes.count` and never parse a relayed line. Loopback
targets only. `--json` prints the result as one JSON object.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import os
import resource
import selectors
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOM = "#bench"
# Every benchmark message's text starts with this; deliveries are counted by it.
MARK = b" :ircbench "
TAIL = len(MARK) - 1
# Padding that brings a message line to about 100 bytes, a typical chat line.
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do"
RECV_BYTES = 256 * 1024
SEND_BYTES = 256 * 1024
# A sender's buffer is refilled (with fresh timestamps) below this many bytes,
# so latency counts queueing in the server and not in the generator.
REFILL_BYTES = 32 * 1024
REFILL_MESSAGES = 200
# Flat out, senders stop while this many of their messages are not yet
# delivered. It covers any server's turn and fsync at full speed (10 ms at
# 250,000 msg/s is 2,500), and bounds what each reader has queued (4,000
# lines of about 100 bytes, well under a 1 MiB SendQ): a flood that outran
# the generator's own readers would measure them, not the server.
WINDOW_MESSAGES = 4000
# Clients that parse timestamps when sending flat out (the rest only count).
OBSERVERS = 2
# Generator CPU share of one core above which it is reported as the bottleneck.
BOTTLENECK_CPU = 0.9
# Idle connections settle this long before the server's RSS is read.
SETTLE_SECONDS = 1.0


class Phase:
    """Where a client is in its life (ints, compared in the hot loop)."""

    CONNECTING = 0
    REGISTERING = 1
    JOINING = 2
    READY = 3
    FAILED = 4


@dataclass(frozen=True)
class Plan:
    """The shape of one run."""

    host: str = "127.0.0.1"
    port: int = 6667
    clients: int = 50
    senders: int = 5
    messages: int = 2000
    rate: float = 0.0  # messages/s over all senders; 0: as fast as accepted
    direct: bool = False
    join: bool = True
    # Connections in progress at once (0: all at once). ngircd listens with a
    # backlog of 10 (compiled in); more at once overflow it, and the dropped
    # SYNs are retried after 1, 3, 7... seconds.
    concurrency: int = 10
    stall: float = 10.0
    setup_timeout: float = 60.0
    pid: int | None = None
    nick_prefix: str = "ib"
    room: str = ROOM
    # Lines per send call of a sender (0: as many as the socket takes). Each
    # write of 20 lines is what a client pasting or a bridge relaying sends.
    lines_per_write: int = 0


@dataclass
class Report:
    """What one run measured (JSON-ready)."""

    clients: int
    registered: int = 0
    failed: int = 0
    connect_seconds: float = 0.0
    connections_per_s: float = 0.0
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    send_seconds: float = 0.0
    msgs_per_s: float = 0.0
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_max_ms: float | None = None
    rss_empty_kb: int | None = None
    rss_idle_kb: int | None = None
    kb_per_connection: float | None = None
    peak_rss_kb: int | None = None
    server_cpu: float | None = None  # share of one core while sending
    generator_cpu: float = 0.0  # share of one core while sending
    generator_bottleneck: bool = False
    errors: list[str] = field(default_factory=list)


class Client:
    """One connection: its phase, what it still has to send, and what it counted."""

    __slots__ = (
        "buf",
        "lines",
        "nick",
        "observer",
        "out",
        "phase",
        "received",
        "sock",
        "tail",
        "write_bytes",
    )

    def __init__(self, sock: socket.socket, nick: str) -> None:
        self.sock = sock
        self.nick = nick
        self.phase = Phase.CONNECTING
        self.out = bytearray()
        self.buf = b""  # partial line (registering, or observing)
        self.tail = b""  # last bytes of the previous chunk, while counting
        self.received = 0
        self.observer = False
        self.lines = 0
        self.write_bytes = SEND_BYTES  # bytes per send call


def check_loopback(host: str) -> None:
    """Refuses anything but a loopback target."""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"ircbench targets loopback addresses only, not {host}")


def raise_fd_limit(wanted: int) -> int:
    """Raises the soft open-files limit towards `wanted` (up to the hard limit); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


def proc_status_kb(pid: int, key: str) -> int | None:
    """A kB field (VmRSS, VmHWM) of /proc/<pid>/status, where Linux has it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far, where /proc has it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[int], fraction: float) -> float:
    """The value at `fraction` (0..1) of a sorted list, nearest rank."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return float(sorted_values[index])


class Bench:
    """One run of the plan on one selector loop."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.sel = selectors.DefaultSelector()
        self.clients: list[Client] = []
        self.report = Report(clients=plan.clients)
        self.pending = 0  # connections not yet registered (or joined) nor failed
        self.delivered = 0
        self.last_delivery = 0.0
        self.last_progress = 0.0
        self.latencies: list[int] = []
        self.last_registered = 0.0
        room_name = plan.room.encode()
        self.join_line = b"JOIN " + room_name + b"\r\n"
        self.room_366 = room_name.lower()

    # -- connecting and registering ---------------------------------------

    def open_one(self, index: int) -> None:
        nick = f"{self.plan.nick_prefix}{index}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = Client(sock, nick)
        self.clients.append(client)
        self.pending += 1
        code = sock.connect_ex((self.plan.host, self.plan.port))
        if code not in (0, errno.EINPROGRESS):
            self.fail(client, f"connect: {os.strerror(code)}", registered=False)
            return
        self.sel.register(sock, selectors.EVENT_WRITE, client)

    def fail(self, client: Client, why: str, *, registered: bool = True) -> None:
        if client.phase in (Phase.READY, Phase.FAILED):
            return
        client.phase = Phase.FAILED
        self.pending -= 1
        self.report.failed += 1
        if len(self.report.errors) < 5:
            self.report.errors.append(f"{client.nick}: {why}")
        if registered:
            self.sel.unregister(client.sock)
        client.sock.close()

    def on_connected(self, client: Client) -> None:
        code = client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.fail(client, f"connect: {os.strerror(code)}")
            return
        client.phase = Phase.REGISTERING
        nick = client.nick
        client.out += f"NICK {nick}\r\nUSER {nick} 0 * :ircbench\r\n".encode()
        self.flush(client)

    def on_setup_line(self, client: Client, line: bytes) -> None:
        words = line.split(b" ")
        if words[0].startswith(b"@"):
            words = words[1:]
        if words and words[0].startswith(b":"):
            words = words[1:]
        if not words:
            return
        command = words[0]
        if command == b"PING":
            client.out += b"PONG " + b" ".join(words[1:]) + b"\r\n"
        elif command == b"001" and client.phase == Phase.REGISTERING:
            self.report.registered += 1
            self.last_registered = time.perf_counter()
            if self.plan.join:
                client.phase = Phase.JOINING
                client.out += self.join_line
            else:
                self.ready(client)
        elif command == b"366" and len(words) > 2 and words[2].lower() == self.room_366:
            if client.phase == Phase.JOINING:
                self.ready(client)
        elif command in (b"ERROR", b"432", b"433", b"465", b"471", b"473", b"474", b"405"):
            self.fail(client, line.decode(errors="replace"))

    def ready(self, client: Client) -> None:
        client.phase = Phase.READY
        self.pending -= 1
        self.last_progress = time.monotonic()

    # -- the loop -----------------------------------------------------------

    def flush(self, client: Client) -> None:
        """Writes what the socket takes now; watches for writability only while data waits."""
        if client.out:
            step = client.write_bytes
            sent = 0
            view = memoryview(client.out)
            try:
                while sent < len(view) and sent < SEND_BYTES:
                    done = client.sock.send(view[sent : sent + step])
                    sent += done
                    if done < step:
                        break
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as exc:
                view.release()
                self.fail(client, f"send: {exc}")
                return
            view.release()
            del client.out[:sent]
        self.sel.modify(
            client.sock,
            selectors.EVENT_READ | selectors.EVENT_WRITE if client.out else selectors.EVENT_READ,
            client,
        )

    def on_readable(self, client: Client) -> None:
        try:
            chunk = client.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.fail(client, f"recv: {exc}")
            return
        if not chunk:
            if client.phase == Phase.READY:
                client.phase = Phase.FAILED
                self.report.failed += 1
                self.report.errors.append(f"{client.nick}: closed by the server")
                self.sel.unregister(client.sock)
                client.sock.close()
            else:
                self.fail(client, "closed by the server before it was ready")
            return
        if client.phase != Phase.READY:
            *lines, client.buf = (client.buf + chunk).split(b"\r\n")
            for line in lines:
                self.on_setup_line(client, line)
                if client.phase == Phase.FAILED:
                    return
            if client.out:
                self.flush(client)
            return
        self.last_progress = time.monotonic()
        if client.observer:
            self.observe(client, chunk)
            return
        data = client.tail + chunk
        count = data.count(MARK)
        if count:
            client.received += count
            self.delivered += count
            self.last_delivery = time.perf_counter()
        if b"PING" in data:
            for line in data.split(b"\r\n"):
                if line.startswith(b"PING "):
                    client.out += b"PONG " + line[5:] + b"\r\n"
                    self.flush(client)
        client.tail = data[-TAIL:]

    def observe(self, client: Client, chunk: bytes) -> None:
        """Counts deliveries and reads each message's timestamp back."""
        now = time.perf_counter_ns()
        *lines, client.buf = (client.buf + chunk).split(b"\r\n")
        count = 0
        for line in lines:
            at = line.find(MARK)
            if at >= 0:
                start = at + len(MARK)
                end = line.find(b" ", start)
                self.latencies.append(now - int(line[start:end]))
                count += 1
            elif line.startswith(b"PING "):
                client.out += b"PONG " + line[5:] + b"\r\n"
                self.flush(client)
        if count:
            client.received += count
            self.delivered += count
            self.last_delivery = time.perf_counter()

    def turn(self, timeout: float) -> None:
        for key, mask in self.sel.select(timeout):
            client: Client = key.data
            if client.phase == Phase.FAILED:
                continue
            if client.phase == Phase.CONNECTING:
                self.on_connected(client)
                continue
            if mask & selectors.EVENT_READ:
                self.on_readable(client)
            if mask & selectors.EVENT_WRITE and client.phase != Phase.FAILED:
                self.flush(client)

    # -- phases -------------------------------------------------------------

    def connect_all(self) -> None:
        plan = self.plan
        limit = plan.concurrency or plan.clients
        start = time.perf_counter()
        self.last_registered = start
        deadline = time.monotonic() + plan.setup_timeout
        opened = 0
        while opened < plan.clients or self.pending:
            while opened < plan.clients and self.pending < limit:
                self.open_one(opened)
                opened += 1
            if time.monotonic() > deadline:
                for client in self.clients:
                    if client.phase not in (Phase.READY, Phase.FAILED):
                        self.fail(client, "not ready before the set-up timeout")
                break
            self.turn(0.05)
        seconds = self.last_registered - start
        self.report.connect_seconds = seconds
        if seconds > 0:
            self.report.connections_per_s = self.report.registered / seconds

    def send_all(self) -> None:
        plan = self.plan
        ready = [c for c in self.clients if c.phase == Phase.READY]
        senders = ready[: plan.senders]
        if plan.direct:
            targets = [c.nick for c in ready[plan.senders : 2 * plan.senders]]
            expected = plan.messages * len(targets)
            senders = senders[: len(targets)]
            for c in ready[plan.senders : 2 * plan.senders][:OBSERVERS]:
                c.observer = True
        else:
            targets = [plan.room] * len(senders)
            expected = plan.messages * len(senders) * (len(ready) - 1)
            for c in ready[len(senders) :][-OBSERVERS:]:
                c.observer = True
        if plan.rate:
            for c in ready:
                c.observer = True
        self.report.expected = expected
        # Deliveries per message sent: the window counts messages, not lines.
        per_message = max(1, expected // max(1, plan.messages * len(senders)))
        if not senders or not targets or plan.messages <= 0:
            return
        prefixes = [f"PRIVMSG {target} :ircbench ".encode() for target in targets[: len(senders)]]
        tails = [f" s{s} {FILLER}\r\n".encode() for s in range(len(senders))]
        if plan.lines_per_write:
            stamp_bytes = len(str(time.perf_counter_ns()))
            for s, client in enumerate(senders):
                line_bytes = len(prefixes[s]) + stamp_bytes + len(tails[s])
                client.write_bytes = plan.lines_per_write * line_bytes
        sent = [0] * len(senders)
        total = plan.messages * len(senders)
        queued = 0

        def queue(s: int, count: int) -> None:
            stamp = str(time.perf_counter_ns()).encode()
            line = prefixes[s] + stamp + tails[s]
            senders[s].out += line * count
            sent[s] += count

        generator_cpu = time.process_time()
        server_cpu = cpu_seconds(plan.pid) if plan.pid else None
        start = time.perf_counter()
        self.last_progress = time.monotonic()
        while True:
            if queued < total:
                if plan.rate:
                    due = min(total, int((time.perf_counter() - start) * plan.rate) + 1)
                    while queued < due:
                        s = queued % len(senders)
                        queue(s, 1)
                        queued += 1
                        self.flush(senders[s])
                elif queued - self.delivered / per_message < WINDOW_MESSAGES:
                    for s, client in enumerate(senders):
                        if len(client.out) < REFILL_BYTES and sent[s] < plan.messages:
                            # Fresh timestamps per batch: one line repeated is
                            # cheap and still stamps the batch's queueing time.
                            count = min(REFILL_MESSAGES, plan.messages - sent[s])
                            queue(s, count)
                            queued += count
                            self.flush(client)
            elif self.delivered >= expected:
                break
            if time.monotonic() - self.last_progress > plan.stall:
                self.report.errors.append(f"stalled {plan.stall} s without a delivery")
                break
            if plan.rate:
                timeout = min(0.001, 1 / plan.rate)
            elif queued - self.delivered / per_message < WINDOW_MESSAGES and any(
                not c.out and sent[s] < plan.messages for s, c in enumerate(senders)
            ):
                # The kernel took all a sender had, it has more to send and
                # the window is open: refill at once. Waiting here for a
                # delivery would pace each batch by the answers to the last,
                # measuring the generator's wake-ups, not the server.
                timeout = 0.0
            else:
                timeout = 0.05
            self.turn(timeout)
        end = self.last_delivery or time.perf_counter()
        seconds = end - start
        report = self.report
        report.send_seconds = seconds
        report.delivered = self.delivered
        report.lost = max(0, expected - self.delivered)
        report.msgs_per_s = self.delivered / seconds if seconds > 0 else 0.0
        cpu = time.process_time() - generator_cpu
        report.generator_cpu = cpu / seconds if seconds > 0 else 0.0
        report.generator_bottleneck = report.generator_cpu >= BOTTLENECK_CPU
        if server_cpu is not None and plan.pid:
            after = cpu_seconds(plan.pid)
            if after is not None and seconds > 0:
                report.server_cpu = (after - server_cpu) / seconds
        if self.latencies:
            values = sorted(self.latencies)
            report.latency_p50_ms = percentile(values, 0.50) / 1e6
            report.latency_p99_ms = percentile(values, 0.99) / 1e6
            report.latency_max_ms = values[-1] / 1e6

    def run(self) -> Report:
        plan = self.plan
        if plan.pid:
            self.report.rss_empty_kb = proc_status_kb(plan.pid, "VmRSS")
        try:
            self.connect_all()
            if plan.pid:
                time.sleep(SETTLE_SECONDS)  # let the server finish its turn before reading RSS
                self.report.rss_idle_kb = proc_status_kb(plan.pid, "VmRSS")
                empty, idle = self.report.rss_empty_kb, self.report.rss_idle_kb
                if empty is not None and idle is not None and self.report.registered:
                    self.report.kb_per_connection = (idle - empty) / self.report.registered
            self.send_all()
            if plan.pid:
                self.report.peak_rss_kb = proc_status_kb(plan.pid, "VmHWM")
        finally:
            for client in self.clients:
                if client.phase != Phase.FAILED:
                    client.sock.close()
            self.sel.close()
        return self.report


def run(plan: Plan) -> Report:
    """Carries out one run of `plan` against a listening server."""
    check_loopback(plan.host)
    raise_fd_limit(plan.clients + 64)
    return Bench(plan).run()


def describe(report: Report) -> str:
    """The report as a few human-readable lines."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} ms"

    lines = [
        f"clients: {report.registered:,}/{report.clients:,} registered, {report.failed:,} failed,"
        f" {report.connections_per_s:,.0f} connections/s ({report.connect_seconds:.3f} s)",
    ]
    if report.expected:
        lines.append(
            f"delivered: {report.delivered:,}/{report.expected:,} in {report.send_seconds:.3f} s"
            f" = {report.msgs_per_s:,.0f} msg/s, lost {report.lost:,}"
        )
        lines.append(
            f"latency: p50 {ms(report.latency_p50_ms)}, p99 {ms(report.latency_p99_ms)},"
            f" max {ms(report.latency_max_ms)}"
        )
        server = "-" if report.server_cpu is None else f"{report.server_cpu:.0%}"
        lines.append(f"CPU while sending: server {server}, generator {report.generator_cpu:.0%}")
        if report.generator_bottleneck:
            lines.append("note: the generator used >= 90 % of a core; it may be the bottleneck")
    if report.rss_empty_kb is not None:
        per = report.kb_per_connection
        lines.append(
            f"server RSS: empty {report.rss_empty_kb:,} kB, with the clients"
            f" {report.rss_idle_kb or 0:,} kB ({'-' if per is None else f'{per:.2f}'} kB each),"
            f" peak {report.peak_rss_kb or 0:,} kB"
        )
    lines.extend(f"error: {error}" for error in report.errors)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs one load against a listening server and prints the report; 1 if anything was lost."""
    parser = argparse.ArgumentParser(description="IRC load generator (loopback targets only).")
    parser.add_argument("--host", default="127.0.0.1", help="server address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=6667, help="server port (6667)")
    parser.add_argument("--clients", type=int, default=50, help="connections (50)")
    parser.add_argument("--senders", type=int, default=5, help="clients that send (5)")
    parser.add_argument("--messages", type=int, default=2000, help="messages per sender (2,000)")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="messages/s over all senders (0: flat out)"
    )
    parser.add_argument(
        "--direct", action="store_true", help="sender i messages client i + senders, not the room"
    )
    parser.add_argument("--no-join", action="store_true", help="register only; join no room")
    parser.add_argument(
        "--concurrency", type=int, default=10, help="connections in progress at once (10; 0: all)"
    )
    parser.add_argument(
        "--stall", type=float, default=10.0, help="seconds without a delivery that end a run"
    )
    parser.add_argument(
        "--setup-timeout", type=float, default=60.0, help="seconds to connect and join (60)"
    )
    parser.add_argument(
        "--lines-per-write", type=int, default=0, help="lines per send of a sender (0: any)"
    )
    parser.add_argument("--room", default=ROOM, help=f"the room joined ({ROOM})")
    parser.add_argument("--pid", type=int, help="the server's PID, for its RSS and CPU")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    plan = Plan(
        host=args.host,
        port=args.port,
        clients=args.clients,
        senders=min(args.senders, args.clients),
        messages=args.messages,
        rate=args.rate,
        direct=args.direct,
        join=not args.no_join and not args.direct,
        concurrency=args.concurrency,
        stall=args.stall,
        setup_timeout=args.setup_timeout,
        pid=args.pid,
        room=args.room,
        lines_per_write=args.lines_per_write,
    )
    report = run(plan)
    print(json.dumps(asdict(report)) if args.json else describe(report))
    return 1 if report.lost or report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Provides a soak benchmark: N clients chat for M minutes; reports RSS over time and losses.

Run it from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/soak.py                 # 20 clients, 2 minutes
    .venv/bin/python benchmarks/soak.py --quick         # a smoke run of a few seconds
    .venv/bin/python benchmarks/soak.py --clients 100 --minutes 30 --rate 0.5
    .venv/bin/python benchmarks/soak.py --help          # every knob

It starts a fresh `easychat serve --db <temporary file> --replay-lines 0` (the one
importable by this Python) on a free loopback port, with every flood and
per-IP limit set to 0 (off) so one loopback address can hold all clients.
N clients register (autojoined to #lobby); each then sends `--rate` messages
a second to #lobby, numbered, for the whole run, and reads everything. When
the time is up the senders stop and the run waits until every message has
reached the N - 1 other clients, or until deliveries stall for `--stall`
seconds. The server's RSS (VmRSS from /proc) is sampled every `--sample`
seconds and printed as it goes.

The report gives the RSS samples, messages sent, deliveries expected and
made, messages lost (must be 0) and out of order (must be 0), and whether
RSS grew after warm-up. The history goes to a file by default: with
`--db :memory:` every message stays in RAM by design (about 300 bytes each),
which reads as steady growth. RSS after warm-up: the mean of the samples in the first quarter after
the `--warmup` fraction of the run is compared with the mean of the last
quarter, and growth past max(2 MiB, 10 %) is reported as "yes". The exit
status is 1 when anything was lost or reordered, the server logged an
error, or (with `--fail-on-growth`) RSS grew. Loopback only; Linux (/proc).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

if __package__:
    from benchmarks import serverctl
else:  # run as a script: benchmarks/ is on sys.path
    import serverctl


from easychat.cli.options.limits import LIMIT_OPTIONS

HOST = "127.0.0.1"
START_SECONDS = 10.0
STOP_SECONDS = 10.0
JOIN_SECONDS = 20.0
# Growth after warm-up below this is noise (allocator arenas, interned strings).
GROWTH_BYTES = 2 * 1024 * 1024
GROWTH_FRACTION = 0.10
# Counted in received bytes: `:nick!user@host PRIVMSG #lobby :soak <sender> <seq>`.
_RELAYED = re.compile(rb" PRIVMSG #lobby :soak (\d+) (\d+)")
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod"


@dataclass
class Client:
    """One chatting client: what it sent, and what it got from each sender."""

    index: int
    sock: socket.socket
    out: bytearray = field(default_factory=bytearray)
    buf: bytes = b""
    joined: bool = False
    sent: int = 0
    next_send: float = 0.0
    # For each sender, the last sequence number seen and how many arrived.
    last_seq: dict[int, int] = field(default_factory=dict)
    received: int = 0
    out_of_order: int = 0

    def queue(self, line: str) -> None:
        self.out += line.encode() + b"\r\n"

    def flush(self) -> None:
        if self.out:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                sent = self.sock.send(self.out)
                del self.out[:sent]

    def on_data(self, chunk: bytes) -> None:
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\r\n")
        for line in lines:
            match = _RELAYED.search(line)
            if match is not None:
                sender, seq = int(match.group(1)), int(match.group(2))
                if seq != self.last_seq.get(sender, -1) + 1:
                    self.out_of_order += 1
                self.last_seq[sender] = seq
                self.received += 1
            elif b" 366 " in line and b"#lobby" in line:
                self.joined = True
            elif line.startswith(b"PING"):
                self.queue("PONG" + line.decode(errors="replace")[4:])


def rss_bytes(pid: int) -> int:
    """The resident set size of `pid` now, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no VmRSS for {pid}")
    return int(match.group(1)) * 1024


def limits_off() -> list[str]:
    """`--<limit> 0` for every flood and per-IP limit this server has."""
    args: list[str] = []
    for opt in LIMIT_OPTIONS:
        if not opt.flag and not opt.repeat:
            args += [f"--{opt.name}", "0"]
    return args


@contextlib.contextmanager
def easychat_server(
    clients: int, db: str
) -> Iterator[tuple[subprocess.Popen[str], int, list[str]]]:
    """A fresh server; yields the process, its port and its output so far (kept up to date)."""
    port = serverctl.free_port(HOST)
    command = [
        *(sys.executable, "-m", "easychat", "serve", "--host", HOST, "--port", str(port)),
        *("--db", db, "--replay-lines", "0", "--log-level", "warning"),
        *("--max-clients", str(clients + 8), "--sendq", str(16 * 1024 * 1024)),
        *limits_off(),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASYCHAT_")}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            if "Waiting for a connection..." in line:
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        if not ready.wait(START_SECONDS) or proc.poll() is not None:
            raise RuntimeError(f"server did not start: {output}")
        yield proc, port, output
    finally:
        serverctl.stop(proc, STOP_SECONDS)


def pump_once(sel: selectors.BaseSelector, timeout: float) -> None:
    """Reads whatever arrived (waiting at most `timeout`) and flushes every client."""
    for key, _ in sel.select(timeout):
        client = key.data
        assert isinstance(client, Client)
        try:
            chunk = client.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            continue
        if not chunk:
            raise RuntimeError(f"server closed client {client.index}")
        client.on_data(chunk)
    for key in sel.get_map().values():
        key.data.flush()


@dataclass
class Report:
    """What one soak run measured."""

    samples: list[tuple[float, int]]
    sent: int
    expected: int
    delivered: int
    out_of_order: int
    warmup_rss: int
    final_rss: int
    grew: bool
    errors: list[str]

    @property
    def lost(self) -> int:
        return self.expected - self.delivered


def soak(args: argparse.Namespace) -> Report:
    """Runs one soak against a fresh server on `--db` (a temporary file by default)."""
    with contextlib.ExitStack() as stack:
        db = args.db
        if db is None:
            db = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "soak.db")
        return _soak(args, db)


def _soak(args: argparse.Namespace, db: str) -> Report:
    n = args.clients
    duration = args.minutes * 60.0
    with easychat_server(n, db) as (proc, port, output), selectors.DefaultSelector() as sel:
        clients: list[Client] = []
        for i in range(n):
            sock = socket.create_connection((HOST, port), timeout=JOIN_SECONDS)
            sock.setblocking(False)
            client = Client(i, sock)
            client.queue(f"NICK soak{i}")
            client.queue(f"USER soak 0 * :Soak {i}")
            clients.append(client)
            sel.register(sock, selectors.EVENT_READ, client)
        deadline = time.monotonic() + JOIN_SECONDS
        while not all(c.joined for c in clients):
            if time.monotonic() > deadline:
                raise RuntimeError("clients did not all join #lobby")
            pump_once(sel, 0.1)

        start = time.monotonic()
        end = start + duration
        interval = 1.0 / args.rate
        for c in clients:  # spread the senders over one interval
            c.next_send = start + interval * c.index / n
        samples: list[tuple[float, int]] = []
        next_sample = start
        print(f"{'seconds':>8} {'RSS MiB':>8} {'delivered':>10}")
        while True:
            now = time.monotonic()
            if now >= next_sample:
                rss = rss_bytes(proc.pid)
                samples.append((now - start, rss))
                delivered = sum(c.received for c in clients)
                print(f"{now - start:8.1f} {rss / 2**20:8.1f} {delivered:10,}", flush=True)
                next_sample += args.sample
            if now >= end:
                break
            for c in clients:
                while c.next_send <= now:
                    c.queue(f"PRIVMSG #lobby :soak {c.index} {c.sent} {FILLER}")
                    c.sent += 1
                    c.next_send += interval
            wake = min(next_sample, end, *(c.next_send for c in clients))
            pump_once(sel, max(0.0, wake - time.monotonic()))

        sent = sum(c.sent for c in clients)
        expected = sent * (n - 1)
        last, progress_at = -1, time.monotonic()
        while (delivered := sum(c.received for c in clients)) < expected:
            if delivered != last:
                last, progress_at = delivered, time.monotonic()
            elif time.monotonic() - progress_at > args.stall:
                break
            pump_once(sel, 0.1)
        samples.append((time.monotonic() - start, rss_bytes(proc.pid)))
        for c in clients:
            sel.unregister(c.sock)
            c.sock.close()

    after = [rss for t, rss in samples if t >= duration * args.warmup]
    quarter = max(1, len(after) // 4)
    warm, final = statistics.mean(after[:quarter]), statistics.mean(after[-quarter:])
    grew = final - warm > max(GROWTH_BYTES, GROWTH_FRACTION * warm)
    errors = [line for line in output if "Traceback" in line or re.search(r"\bERROR\b", line)]
    return Report(
        samples,
        sent,
        expected,
        delivered,
        sum(c.out_of_order for c in clients),
        int(warm),
        int(final),
        grew,
        errors,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=20, help="clients chatting (20)")
    parser.add_argument("--minutes", type=float, default=2.0, help="how long they chat (2)")
    parser.add_argument("--rate", type=float, default=1.0, help="messages/s per client (1)")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument(
        "--warmup", type=float, default=0.25, help="fraction of the run that is warm-up (0.25)"
    )
    parser.add_argument("--stall", type=float, default=5.0, help="seconds without a delivery")
    parser.add_argument(
        "--db", default=None, help="history database (a temporary file; ':memory:' grows by design)"
    )
    parser.add_argument("--fail-on-growth", action="store_true", help="exit 1 if RSS grew")
    parser.add_argument(
        "--quick", action="store_true", help="5 clients, 5 s, 4 msg/s, samples every 0.5 s"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.minutes, args.rate, args.sample = 5, 5 / 60, 4.0, 0.5
    if args.clients < 2 or args.minutes <= 0 or args.rate <= 0 or args.sample <= 0:
        parser.error("need at least 2 clients and positive --minutes, --rate and --sample")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"soak: {args.clients} clients, {args.minutes:g} min, {args.rate:g} msg/s each, "
        f"RSS every {args.sample:g} s"
    )
    report = soak(args)
    rss = [r for _, r in report.samples]
    print(f"RSS MiB: min {min(rss) / 2**20:.1f}, max {max(rss) / 2**20:.1f}")
    print(
        f"RSS after warm-up: {report.warmup_rss / 2**20:.1f} MiB -> "
        f"{report.final_rss / 2**20:.1f} MiB"
    )
    print(f"sent: {report.sent:,}")
    print(f"deliveries: {report.delivered:,} of {report.expected:,}")
    print(f"out of order: {report.out_of_order}")
    print(f"server errors logged: {len(report.errors)}")
    for line in report.errors[:10]:
        print(f"  {line}")
    print(f"rss grew after warm-up: {'yes' if report.grew else 'no'}")
    print(f"lost: {report.lost}")
    failed = report.lost != 0 or report.out_of_order != 0 or bool(report.errors)
    return 1 if failed or (args.fail_on_growth and report.grew) else 0


if __name__ == "__main__":
    sys.exit(main())

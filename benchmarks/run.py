"""Provides `make bench`: EasyChat against ngircd on issue 6's scenarios, as a table of ratios.

Run it from the repository root:

    make bench                                        # the full run (a few minutes)
    .venv/bin/python benchmarks/run.py --quick        # tiny scenarios, 1 run each (seconds)
    .venv/bin/python benchmarks/run.py --servers easychat --only fanout-50
    .venv/bin/python benchmarks/run.py --help

Every run starts a fresh server on a free loopback port, drives it with
benchmarks/ircbench.py (in this process), and stops it; runs alternate
EasyChat and ngircd, 3 of each per scenario by default, and the table shows
the medians and the EasyChat/ngircd ratio (for latency and kB per
connection lower is better, so a ratio below 1 favours EasyChat). Under
the table, each row's ratio per run (one per alternating pair) shows how
far apart the runs were.

EasyChat runs on its defaults, as users run it (`python -m easychat serve`
with history in a SQLite file, `--db` in a fresh temporary directory; log
level `info`; its console, stdout and stderr, written to a pipe that a
thread of this script reads and counts). Only what any load test must turn
off is turned off: every option of easychat.cli.options.limits.LIMIT_OPTIONS
is set to 0 (flood control and the per-IP limits), and `--max-clients` is
raised above the scenario's clients where they are more than the default
1,024. Clients join #lobby (the default autojoin) and JOIN #bench, as on
ngircd. XDG_RUNTIME_DIR points into the temporary directory, so the
default personal Unix socket is created there. The exact command is printed
with the results. The "history-*" scenarios run EasyChat only, with
`--db :memory:` (off) and a file (on).

ngircd runs from a config this script writes: MaxConnections = 0,
MaxConnectionsIP = 0, MaxJoins = 10000, MaxPenaltyTime = 0 (ngircd 26's
switch that turns command penalties off), long ping timeouts, no DNS, ident
or PAM. What cannot be turned off in ngircd: it handles at most a few
commands per client per loop turn (a compiled-in constant), its read
buffer per client is fixed, and it closes a client whose write buffer
passes its compiled-in maximum ("Write buffer space exhausted") -- that
would show here as lost messages and failed clients. Its listen backlog is
a compiled-in 10: the connect burst (2,000 at once) overflows it and the
kernel's SYN retries (1, 3, 7 s...) set its pace; the burst gives up after
20 s and counts the rest as failed. Every other scenario connects 10 at a
time so that no server's backlog is measured there.

Two more rows measure benchmarks/floor.py against ngircd in the one-to-one
scenario: a minimal Python relay without and with a SQLite row per message
(committed per loop turn, as EasyChat's history is). Their first column is
that relay, not EasyChat: they show how much of ngircd's one-to-one rate
any single-threaded CPython relay reaches, and what a durable row per
message leaves of it.

The script raises its soft open-files limit (inherited by both servers) up
to the hard limit; when that cannot hold a scenario's clients, the scenario
is scaled down and the table says so.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

if __package__:
    from benchmarks import ircbench, serverctl
else:  # run as a script: benchmarks/ is on sys.path
    import ircbench
    import serverctl

from easychat.chat.config import MAX_CLIENTS
from easychat.cli.options.limits import LIMIT_OPTIONS

HOST = "127.0.0.1"
FLOOR = Path(__file__).resolve().parent / "floor.py"
START_SECONDS = 15.0
STOP_SECONDS = 5.0
# Bytes of a server's console output kept to explain a failed start.
CONSOLE_TAIL = 4000
# File descriptors beyond the clients: server files, listening socket, the
# generator's own selector and pipes.
SPARE_FDS = 200

NGIRCD_CONFIG = """\
[Global]
Name = bench.ngircd.local
Info = ircbench target
Listen = {host}
Ports = {port}
MotdPhrase = "ircbench"
ServerUID = {uid}

[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 10000
MaxNickLength = 30
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600

[Options]
PAM = no
Ident = no
DNS = no
"""


@dataclass(frozen=True)
class Scenario:
    """One row of the table: a load and the number it is judged by."""

    name: str
    title: str
    plan: ircbench.Plan
    metric: str  # a Report field
    unit: str
    higher_is_better: bool = True
    servers: tuple[str, ...] = ("easychat", "ngircd")


def scenarios(quick: bool) -> list[Scenario]:
    """Issue 6's scenarios, or tiny versions of them with `quick`."""
    P = ircbench.Plan
    q = quick
    fanout_small = P(clients=5 if q else 50, senders=2 if q else 5, messages=100 if q else 2000)
    direct = P(clients=2, senders=1, messages=500 if q else 20000, direct=True, join=False)
    # One sender, one reader in a room, the sender writing 20 lines per send.
    ingest = P(clients=2, senders=1, messages=500 if q else 40000, lines_per_write=20)
    latency = P(
        clients=10 if q else 50,
        senders=2 if q else 5,
        messages=100 if q else 1000,
        rate=500 if q else 1000,
    )
    history = ("easychat", "easychat-memory")
    return [
        Scenario("ingest", "room ingest 1 -> 1, 20 lines per write", ingest, "msgs_per_s", "msg/s"),
        Scenario("fanout-50", "fan-out 50 x 5 x 2,000", fanout_small, "msgs_per_s", "msg/s"),
        Scenario(
            "fanout-500",
            "fan-out 500 x 10 x 200",
            P(clients=20 if q else 500, senders=3 if q else 10, messages=50 if q else 200),
            "msgs_per_s",
            "msg/s",
        ),
        Scenario("direct", "one-to-one 20,000", direct, "msgs_per_s", "msg/s"),
        Scenario(
            "latency",
            "p99 latency at 1,000 msg/s, 50 members",
            latency,
            "latency_p99_ms",
            "ms",
            higher_is_better=False,
        ),
        Scenario(
            "burst",
            "connect burst 2,000",
            P(
                clients=50 if q else 2000,
                messages=0,
                join=False,
                concurrency=0,
                setup_timeout=5 if q else 20,
            ),
            "connections_per_s",
            "conn/s",
        ),
        Scenario(
            "idle",
            "5,000 idle connections, registered and in #lobby",
            # Every JOIN goes to every member: 12.5 million lines for 5,000,
            # which takes ngircd over a minute here.
            P(
                clients=50 if q else 5000,
                messages=0,
                room="#lobby",
                setup_timeout=20 if q else 300,
            ),
            "kb_per_connection",
            "kB/conn",
            higher_is_better=False,
        ),
        Scenario(
            "history",
            "EasyChat history on/off (fan-out 50 x 5 x 2,000)",
            fanout_small,
            "msgs_per_s",
            "msg/s",
            servers=history,
        ),
        Scenario(
            "history-ingest",
            "EasyChat history on/off (room ingest)",
            ingest,
            "msgs_per_s",
            "msg/s",
            servers=history,
        ),
        Scenario(
            "history-direct",
            "EasyChat history on/off (one-to-one 20,000)",
            direct,
            "msgs_per_s",
            "msg/s",
            servers=history,
        ),
        Scenario(
            "history-latency",
            "EasyChat history on/off (p99 latency at 1,000 msg/s, 50 members)",
            latency,
            "latency_p99_ms",
            "ms",
            higher_is_better=False,
            servers=history,
        ),
        # Not EasyChat: benchmarks/floor.py, the least a Python relay does
        # per message, in its first column (see its docstring).
        Scenario(
            "floor",
            "floor: minimal Python relay, one-to-one 20,000",
            direct,
            "msgs_per_s",
            "msg/s",
            servers=("floor", "ngircd"),
        ),
        Scenario(
            "floor-db",
            "floor: minimal Python relay + a SQLite row per message, one-to-one 20,000",
            direct,
            "msgs_per_s",
            "msg/s",
            servers=("floor-db", "ngircd"),
        ),
    ]


class BenchError(Exception):
    """A server could not be started."""


class Console:
    """Reads a server's console (its stdout and stderr, one pipe) on a thread, counting bytes.

    The server writes its log there as it would to a terminal; reading it
    as fast as it comes is what a terminal or a log collector does.
    """

    def __init__(self, pipe: object) -> None:
        self.pipe = pipe
        self.bytes = 0
        self.tail = b""
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        read = self.pipe.read1  # type: ignore[attr-defined]
        while chunk := read(1 << 16):
            self.bytes += len(chunk)
            self.tail = (self.tail + chunk)[-CONSOLE_TAIL:]

    def join(self) -> None:
        """Waits for the end of the output (the server has exited)."""
        self.thread.join(STOP_SECONDS)

    def text(self) -> str:
        return self.tail.decode(errors="replace")


def wait_listening(port: int, proc: subprocess.Popen[bytes], console: Console) -> None:
    """Waits until the server accepts connections on `port`."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            console.join()
            raise BenchError(f"server exited: {console.text()[-2000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port that is not open yet
    raise BenchError(f"server did not listen within {START_SECONDS} s")


def easychat_command(port: int, db: str, clients: int) -> list[str]:
    """`easychat serve` on its defaults, history in `db`, flood control and per-IP limits off."""
    limits = [arg for option in LIMIT_OPTIONS for arg in (f"--{option.name}", "0")]
    # The default total is 1,024 clients; the burst and idle scenarios need more.
    more = ["--max-clients", str(clients + SPARE_FDS)] if clients > MAX_CLIENTS else []
    return [
        *(sys.executable, "-m", "easychat", "serve", "--host", HOST, "--port", str(port)),
        *("--db", db, *more, *limits),
    ]


def settings_text() -> str:
    """The exact servers' settings, for RESULTS.md."""
    command = easychat_command(6667, "<tmp>/history.sqlite3", MAX_CLIENTS + 1)
    command[:2] = ["python", "-m"]
    return (
        f"EasyChat: `{' '.join(command).replace(str(MAX_CLIENTS + 1 + SPARE_FDS), '<N>')}`"
        f" (`--max-clients <N>`, clients + {SPARE_FDS}, only where a scenario has more than"
        f" {MAX_CLIENTS:,} clients; `--db :memory:` for history off); console to a pipe"
        " read by the benchmark; XDG_RUNTIME_DIR in the temporary directory.\n"
        "ngircd: "
        + "; ".join(
            line.strip() for line in NGIRCD_CONFIG.splitlines() if "=" in line and "{" not in line
        )
    )


def ngircd_binary() -> str | None:
    """Path of the ngircd executable, if installed."""
    found = shutil.which("ngircd") or "/usr/sbin/ngircd"
    return found if Path(found).exists() else None


@contextlib.contextmanager
def server(kind: str, clients: int, tmp: Path) -> Iterator[tuple[int, int, Console]]:
    """A fresh server of `kind`; yields its PID, port and console, and stops it."""
    port = serverctl.free_port(HOST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASYCHAT_")}
    runtime = tmp / f"run-{port}"
    runtime.mkdir(mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    if kind == "ngircd":
        binary = ngircd_binary()
        if binary is None:
            raise BenchError("ngircd is not installed (apt-get install ngircd)")
        conf = tmp / f"ngircd-{port}.conf"
        uid = "nobody" if os.getuid() == 0 else str(os.getuid())
        conf.write_text(NGIRCD_CONFIG.format(host=HOST, port=port, uid=uid))
        conf.chmod(0o644)
        command = [binary, "--nodaemon", "--config", str(conf)]
    elif kind.startswith("floor"):
        command = [sys.executable, str(FLOOR), "--port", str(port)]
        if kind == "floor-db":
            command += ["--db", str(tmp / f"floor-{port}.sqlite3")]
    else:
        db = ":memory:" if kind == "easychat-memory" else str(tmp / f"history-{port}.sqlite3")
        command = easychat_command(port, db, clients)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    console = Console(proc.stdout)
    try:
        wait_listening(port, proc, console)
        time.sleep(0.2)  # the probe connection is gone before RSS is read
        yield proc.pid, port, console
    finally:
        serverctl.stop(proc, STOP_SECONDS)
        console.join()
        if proc.stdout is not None:
            proc.stdout.close()


def fit_to_fds(plan: ircbench.Plan, fds: int) -> tuple[ircbench.Plan, str]:
    """`plan` scaled down to what the open-files limit holds, and a note when it was."""
    # The server and the generator each hold one descriptor per client.
    room = fds - SPARE_FDS
    if plan.clients <= room:
        return plan, ""
    return replace(plan, clients=room), f"scaled to {room:,} clients (open-files limit {fds:,})"


def median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def run_scenario(
    scenario: Scenario, runs: int, fds: int, tmp: Path, say: Callable[[str], None]
) -> dict[str, object]:
    """Runs `scenario` `runs` times on each server, alternating; returns its table row."""
    plan, note = fit_to_fds(scenario.plan, fds)
    values: dict[str, list[float]] = {kind: [] for kind in scenario.servers}
    lost = dict.fromkeys(scenario.servers, 0)
    failed = dict.fromkeys(scenario.servers, 0)
    bottleneck = False
    console_bytes = dict.fromkeys(scenario.servers, 0)
    loads: list[float] = []
    by_run: dict[int, dict[str, float]] = {}  # for the ratio of each alternating pair
    for run in range(1, runs + 1):
        for kind in scenario.servers:
            try:
                loads.append(os.getloadavg()[0])
                with server(kind, plan.clients, tmp) as (pid, port, console):
                    report = ircbench.run(replace(plan, port=port, pid=pid))
                console_bytes[kind] += console.bytes
            except (BenchError, OSError) as exc:
                say(f"  {scenario.name} run {run} {kind}: failed: {exc}")
                failed[kind] += plan.clients
                continue
            value = getattr(report, scenario.metric)
            if value is not None:
                values[kind].append(float(value))
                by_run.setdefault(run, {})[kind] = float(value)
            lost[kind] += report.lost
            failed[kind] += report.failed
            bottleneck |= report.generator_bottleneck
            shown = "-" if value is None else f"{value:,.2f}"
            say(
                f"  {scenario.name} run {run} {kind:<15} {shown:>14} {scenario.unit:<8}"
                f" lost {report.lost:,} failed {report.failed:,}"
                f" generator CPU {report.generator_cpu:.0%}"
                f" console {console.bytes:,} B load {loads[-1]:.2f}"
                + ("".join(f"\n    error: {e}" for e in report.errors))
            )
    first = scenario.servers[0]
    second = scenario.servers[1] if len(scenario.servers) > 1 else None
    a = median_or_none(values[first])
    b = median_or_none(values[second]) if second else None
    notes = [note] if note else []
    if second:
        ratios = [
            pair[first] / pair[second]
            for pair in by_run.values()
            if pair.get(second) and first in pair
        ]
        if len(ratios) > 1:  # how much the pairs disagree: this machine's noise
            notes.append("ratio per run: " + ", ".join(f"{ratio:.2f}" for ratio in ratios))
    if loads:
        notes.append(f"load average {min(loads):.2f}-{max(loads):.2f}")
    if console_bytes.get("easychat"):
        notes.append(f"EasyChat console read: {console_bytes['easychat']:,} bytes over {runs} runs")
    if bottleneck:
        notes.append("generator near 100 % CPU in some run: it may be the bottleneck")
    return {
        "scenario": scenario,
        "a": a,
        "b": b,
        "ratio": (a / b) if a is not None and b else None,
        "lost": (lost[first], lost[second] if second else 0),
        "failed": (failed[first], failed[second] if second else 0),
        "notes": notes,
    }


def table(rows: list[dict[str, object]]) -> str:
    """The medians as a Markdown table."""

    def num(value: object) -> str:
        if not isinstance(value, float):
            return "-"
        return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"

    lines = [
        "| scenario | unit | EasyChat | ngircd | EasyChat/ngircd | lost (E/n) | failed (E/n) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    notes: list[str] = []
    for row in rows:
        scenario = row["scenario"]
        assert isinstance(scenario, Scenario)
        ratio = row["ratio"]
        better = "higher is better" if scenario.higher_is_better else "lower is better"
        lost, failed = row["lost"], row["failed"]
        assert isinstance(lost, tuple)
        assert isinstance(failed, tuple)
        title = scenario.title
        if scenario.name.startswith("history"):
            title += " -- columns: on, off; ratio on/off"
        lines.append(
            f"| {title} | {scenario.unit} ({better}) | {num(row['a'])} | {num(row['b'])}"
            f" | {'-' if not isinstance(ratio, float) else f'{ratio:.2f}'}"
            f" | {lost[0]:,}/{lost[1]:,} | {failed[0]:,}/{failed[1]:,} |"
        )
        row_notes = row["notes"]
        assert isinstance(row_notes, list)
        notes.extend(f"{scenario.title}: {n}" for n in row_notes)
    return "\n".join(lines + ([""] + [f"- {n}" for n in notes] if notes else []))


def machine() -> str:
    """nproc, CPU model, Python and ngircd versions, load average."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ngircd = "not installed"
    binary = ngircd_binary()
    if binary:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
        ngircd = (out.stdout.splitlines() or ["?"])[0]
    return (
        f"nproc {os.cpu_count()}, {model}, Python {platform.python_version()}, {ngircd},"
        f" open files {resource.getrlimit(resource.RLIMIT_NOFILE)[0]:,},"
        f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main(argv: list[str] | None = None) -> int:
    """Runs the scenarios and prints the table; 1 if anything was lost or failed."""
    parser = argparse.ArgumentParser(description="EasyChat vs ngircd on issue 6's scenarios.")
    parser.add_argument("--quick", action="store_true", help="tiny scenarios, 1 run each")
    parser.add_argument("--runs", type=int, help="runs per server per scenario (3; 1 with --quick)")
    parser.add_argument(
        "--servers",
        choices=("both", "easychat"),
        default="both",
        help="'easychat' skips ngircd (no ratios)",
    )
    parser.add_argument("--only", nargs="*", help="scenario names to run (all)")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    wanted = max(s.plan.clients for s in scenarios(args.quick)) * 2 + SPARE_FDS
    fds = ircbench.raise_fd_limit(wanted)
    chosen = [s for s in scenarios(args.quick) if not args.only or s.name in args.only]
    if args.servers == "easychat":
        chosen = [replace(s, servers=tuple(k for k in s.servers if k != "ngircd")) for s in chosen]
    print(f"# ircbench: EasyChat vs ngircd, {datetime.date.today().isoformat()}")
    print(f"machine: {machine()}")
    print(
        f"command: {' '.join(['benchmarks/run.py', *(argv if argv is not None else sys.argv[1:])])}"
    )
    print(f"settings: {settings_text()}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ircbench-") as tmp:
        Path(tmp).chmod(0o755)  # ngircd reads its config as "nobody"
        for scenario in chosen:
            rows.append(run_scenario(scenario, runs, fds, Path(tmp), print))
    print()
    print(table(rows))
    bad = any(
        sum(row["lost"]) or sum(row["failed"])  # type: ignore[arg-type]
        for row in rows
    )
    print(f"\nlost or failed: {'yes' if bad else 'none'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

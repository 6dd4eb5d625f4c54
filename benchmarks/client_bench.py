"""Provides the client benchmark: a flood into #lobby, until its last line is on screen, vs irssi.

Run it from the repository root with the project's virtualenv:

    .venv/bin/python benchmarks/client_bench.py            # N = 1,000, 2,000, 20,000
    .venv/bin/python benchmarks/client_bench.py --huge     # and 100,000
    .venv/bin/python benchmarks/client_bench.py --quick    # a smoke run of a few seconds
    .venv/bin/python benchmarks/client_bench.py --help     # every knob

For each N and each client (EasyChat's `easychat join --auto`, then irssi)
it starts a fresh `easychat serve` on a free loopback port, on its defaults
except: flood control and the per-IP limits off (the flood comes from one
sender on 127.0.0.1), history in memory (`--db :memory:`, nothing left on
disk), a 256 MiB send queue (a client that reads slowly is measured, not
cut off) and `--log-level warning`. The client runs alone in a private tmux
server (`tmux -S <socket>`) at `--size` (80x24), with its local log in a
temporary directory. Once the client shows #lobby and is idle, a raw
socket client sends N lines to #lobby, then one with a unique marker, as
fast as the server takes them. The time is from the first byte sent until
`tmux capture-pane` shows the marker (polled every 10 ms); the client's CPU
seconds (utime + stime from /proc/PID/stat) are counted over the same span;
RSS is the client's peak (VmHWM) and its size at the end (VmRSS) from
/proc/PID/status. irssi (`irssi --home=<tmp> -c 127.0.0.1 -p PORT -n NICK`)
is joined to #lobby by the server like everyone, and shown it with
`/window goto #lobby`.

The table gives each figure, the time per line, and EasyChat/irssi ratios;
also the CPU seconds of the server and of the tmux server over the same
span, which tell a client that waits from one that works (tmux parses and
draws whatever the client writes to its terminal).
The issue's targets: at most 3x irssi's time for 20,000 lines, and a flat
time per line from 1,000 to 100,000 lines. Linux only (/proc); loopback only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__:
    from benchmarks import serverctl
else:  # run as a script: benchmarks/ is on sys.path
    import serverctl

HOST = "127.0.0.1"
SIZES = (1_000, 2_000, 20_000)
HUGE = 100_000
QUICK = (200,)
# Flood control and per-IP limits off: the flood comes from one sender.
SERVER_FLAGS = (
    *("--flood-rate", "0"),
    *("--max-clients-per-ip", "0"),
    *("--connects-per-ip", "0"),
    *("--registration-failures-per-ip", "0"),
    *("--db", ":memory:"),
    # Far more than any flood here: the client is measured, never cut off.
    *("--sendq", str(256 * 1024 * 1024)),
    *("--log-level", "warning"),
)
# Longest wait for a client to start, join and go quiet.
START_SECONDS = 60.0
# Longest wait for the last line, per 1,000 lines (a stuck client fails the run).
SECONDS_PER_1000 = 15.0
# How often the screen is read while waiting for the marker.
POLL_SECONDS = 0.01
# A client is idle when it used less CPU than this over a second.
IDLE_CPU = 0.05
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Result:
    """One client's run on one flood."""

    client: str
    lines: int
    seconds: float
    cpu: float
    hwm_mb: float
    rss_mb: float
    server_cpu: float  # the server's CPU seconds over the same span
    tmux_cpu: float  # the tmux server's: drawing what the client writes


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid`, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mb(pid: int) -> tuple[float, float]:
    """VmHWM and VmRSS of `pid`, in MB."""
    values: dict[str, float] = {}
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = row.partition(":")
        if key in {"VmHWM", "VmRSS"}:
            values[key] = int(rest.split()[0]) / 1024
    return values["VmHWM"], values["VmRSS"]


@contextmanager
def server(python: str, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """A fresh `easychat serve` on a free port; yields the port and its pid."""
    port = serverctl.free_port(HOST)
    cmd = [python, "-m", "easychat", "serve", "--host", HOST, "--port", str(port), *SERVER_FLAGS]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.05)
        yield port, proc.pid
    finally:
        serverctl.stop(proc, 5.0)


class Tmux:
    """A private tmux server running one command in one pane."""

    def __init__(self, socket_path: Path, size: tuple[int, int]) -> None:
        self.socket = str(socket_path)
        self.size = size

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def start(self, command: str, env: dict[str, str]) -> int:
        """Starts `command` (exec'd, so the pane's pid is the client's); returns that pid."""
        width, height = self.size
        session = ["new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height)]
        subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", *session, f"exec {command}"],
            env=env,
            check=True,
        )
        return int(self.run("display-message", "-p", "-t", "bench", "#{pane_pid}").strip())

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "bench")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "bench", *keys)

    def wait_for(self, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.screen():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{text!r} never showed:\n{self.screen()}")
            time.sleep(POLL_SECONDS)

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, check=False)


class Flooder:
    """A raw IRC client that sends the flood."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=START_SECONDS)
        self.sock.sendall(b"NICK flooder\r\nUSER flooder 0 * :flooder\r\n")
        self.expect(b" 001 ")

    def expect(self, needle: bytes) -> bytes:
        data = b""
        while needle not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError(f"the server closed before {needle!r}")
            data += chunk
        return data

    def wait_member(self, nick: str, seconds: float) -> None:
        """Waits until `nick` is in #lobby (asking NAMES)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.sock.sendall(b"NAMES #lobby\r\n")
            reply = self.expect(b" 366 ")
            if f" {nick}".encode() in reply or f":{nick}".encode() in reply:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{nick} never joined #lobby")

    def flood(self, lines: int, marker: str) -> None:
        body = b"".join(
            b"PRIVMSG #lobby :flood line %06d: the quick brown fox jumps over the lazy dog\r\n" % i
            for i in range(lines)
        )
        self.sock.sendall(body + f"PRIVMSG #lobby :{marker}\r\n".encode())

    def close(self) -> None:
        self.sock.close()


def wait_idle(pid: int, seconds: float) -> None:
    """Waits until `pid` used less than IDLE_CPU seconds of CPU in a second."""
    deadline = time.monotonic() + seconds
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - before < IDLE_CPU:
            return
        before = now
    raise RuntimeError("the client never went idle")


def measure(client: str, lines: int, args: argparse.Namespace, env: dict[str, str]) -> Result:
    """One flood of `lines` into #lobby, watched by `client` ("easychat" or "irssi")."""
    with (
        tempfile.TemporaryDirectory(prefix="client-bench-") as tmp,
        server(args.python, env) as (port, server_pid),
    ):
        tmux = Tmux(Path(tmp) / "tmux.sock", args.size)
        flooder = Flooder(port)
        nick = "viewer"
        try:
            if client == "easychat":
                command = (
                    f"{args.python} -m easychat join --auto --nick {nick}"
                    f" --server {HOST}:{port} --log-dir {tmp}/logs"
                )
                pid = tmux.start(command, env)
                flooder.wait_member(nick, START_SECONDS)
                tmux.wait_for("#lobby", START_SECONDS)
            else:
                home = Path(tmp) / "irssi"
                home.mkdir()
                pid = tmux.start(f"irssi --home={home} -c {HOST} -p {port} -n {nick}", env)
                flooder.wait_member(nick, START_SECONDS)
                tmux.keys("/window goto #lobby", "Enter")
                tmux.wait_for("#lobby", START_SECONDS)
            wait_idle(pid, START_SECONDS)
            marker = f"END-{uuid.uuid4().hex[:12]}"
            tmux_pid = int(tmux.run("display-message", "-p", "#{pid}").strip())
            cpu_before = cpu_seconds(pid)
            server_before, tmux_before = cpu_seconds(server_pid), cpu_seconds(tmux_pid)
            start = time.monotonic()
            flooder.flood(lines, marker)
            tmux.wait_for(marker, SECONDS_PER_1000 * max(1, lines // 1000) + START_SECONDS)
            seconds = time.monotonic() - start
            cpu = cpu_seconds(pid) - cpu_before
            server_cpu = cpu_seconds(server_pid) - server_before
            tmux_cpu = cpu_seconds(tmux_pid) - tmux_before
            hwm, rss = memory_mb(pid)
            return Result(client, lines, seconds, cpu, hwm, rss, server_cpu, tmux_cpu)
        finally:
            flooder.close()
            tmux.close()


def table(results: list[Result]) -> str:
    """The figures, per N: each client's, then EasyChat/irssi."""
    head = (
        f"{'N':>7}  {'client':8}  {'seconds':>8}  {'us/line':>8}  {'CPU s':>7}"
        f"  {'VmHWM MB':>9}  {'VmRSS MB':>9}  {'server CPU':>10}  {'tmux CPU':>8}"
    )
    rows = [head, "-" * len(head)]
    for lines in sorted({r.lines for r in results}):
        by = {r.client: r for r in results if r.lines == lines}
        for r in by.values():
            rows.append(
                f"{lines:>7,}  {r.client:8}  {r.seconds:8.2f}  {r.seconds / lines * 1e6:8.0f}"
                f"  {r.cpu:7.2f}  {r.hwm_mb:9.1f}  {r.rss_mb:9.1f}"
                f"  {r.server_cpu:10.2f}  {r.tmux_cpu:8.2f}"
            )
        if "easychat" in by and "irssi" in by:
            e, i = by["easychat"], by["irssi"]
            rows.append(
                f"{lines:>7,}  {'ratio':8}  {e.seconds / i.seconds:8.2f}  {'':8}"
                f"  {e.cpu / max(i.cpu, 0.01):7.2f}  {e.hwm_mb / i.hwm_mb:9.2f}"
                f"  {e.rss_mb / i.rss_mb:9.2f}"
            )
    return "\n".join(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--huge", action="store_true", help="also flood 100,000 lines")
    parser.add_argument("--quick", action="store_true", help="one small flood (a smoke run)")
    parser.add_argument("--lines", type=int, nargs="*", help="the flood sizes instead")
    parser.add_argument("--no-irssi", action="store_true", help="measure EasyChat alone")
    parser.add_argument(
        "--size", default="80x24", help="terminal size, WIDTHxHEIGHT (default 80x24)"
    )
    parser.add_argument(
        "--client-src",
        type=Path,
        help="run EasyChat from this src/ tree (e.g. an older checkout, for before/after)",
    )
    parser.add_argument("--python", default=sys.executable, help="the Python that runs EasyChat")
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    args.size = (int(width), int(height))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("tmux") is None:
        print("client_bench: tmux is needed", file=sys.stderr)
        return 2
    sizes = args.lines or (QUICK if args.quick else (*SIZES, *((HUGE,) if args.huge else ())))
    clients = ["easychat"]
    if not args.no_irssi:
        if shutil.which("irssi") is None:
            print("client_bench: irssi not found, measuring EasyChat alone", file=sys.stderr)
        else:
            clients.append("irssi")
    # TMUX unset: the private server is not nested in the caller's tmux.
    env = {k: v for k, v in os.environ.items() if k != "TMUX"} | {"TERM": "xterm-256color"}
    src = args.client_src or Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = str(src)
    width, height = args.size
    print(f"client_bench: {width}x{height} tmux, clients {', '.join(clients)}, N = {sizes}")
    results: list[Result] = []
    for lines in sizes:
        for client in clients:
            result = measure(client, lines, args, env)
            print(
                f"  {client:8} {lines:>7,} lines: {result.seconds:.2f} s,"
                f" CPU {result.cpu:.2f} s, VmHWM {result.hwm_mb:.1f} MB",
                flush=True,
            )
            results.append(result)
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

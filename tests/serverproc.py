"""Provides `easychat serve` as a subprocess for tests, and helpers for IRCv3 clients of it."""

from __future__ import annotations

import os
import queue
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from easychat.proto.message import Message, parse
from tests.ircclient import TIMEOUT, IRCClient
from tests.nolimits import NO_ABUSE_FLAGS

# The capabilities a history-aware client asks for.
HISTORY_CAPS = ("message-tags", "server-time", "echo-message", "batch", "draft/chathistory")

_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
_WAITING = re.compile(re.escape("Waiting for a connection..."))


def clean_env() -> dict[str, str]:
    """The environment without EASYCHAT_* settings that could change the server.

    XDG_RUNTIME_DIR goes too: with it, a server would listen on (and a client
    connect to) the user's own default Unix socket.
    """
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("EASYCHAT_") and k != "XDG_RUNTIME_DIR"
    }


class ServerProcess:
    """`easychat serve` on 127.0.0.1, port 0, in a subprocess, abuse limits off.

    Tests that want flood control or the per-IP limits pass their flags in
    `extra`: given later, they win.

    A thread reads its output line by line, so the process never blocks on a
    full pipe and tests can wait for a log line with a timeout.
    """

    def __init__(self, db: str | Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "easychat", "serve", "--host", "127.0.0.1", "--port", "0"),
                *("--db", str(db), *NO_ABUSE_FLAGS, *extra),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            self.port = int(self.wait_for(_LISTENING).group(1))
            self.wait_for(_WAITING)
        except BaseException:
            self.close()
            raise

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = TIMEOUT) -> re.Match[str]:
        """The first match of `pattern` in the coming output lines."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise TimeoutError(f"no {pattern.pattern!r} in {self.output!r}") from None
            if line is None:
                raise AssertionError(f"server exited before {pattern.pattern!r}: {self.output!r}")
            self.output.append(line)
            if match := pattern.search(line):
                return match

    def kill9(self) -> int:
        """SIGKILL: the process dies at once, with no chance to commit or flush."""
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(TIMEOUT)

    def close(self) -> None:
        """Ends the process if it is still running and releases its pipe."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def server_process(db: str | Path, *extra: str) -> Iterator[ServerProcess]:
    """A running `easychat serve --db DB EXTRA...`, killed on exit if still alive."""
    proc = ServerProcess(db, *extra)
    try:
        yield proc
    finally:
        proc.close()


def history_client(
    port: int, nick: str, caps: Iterable[str] = HISTORY_CAPS, *, password: str | None = None
) -> IRCClient:
    """A registered client (autojoined to #lobby) that negotiated `caps`.

    With `password`, it logs in to the account `nick` with SASL PLAIN first.
    """
    wanted = " ".join([*caps, "sasl"] if password is not None else caps)
    client = IRCClient(port)
    client.send("CAP LS 302")
    client.send(f"CAP REQ :{wanted}")
    ack = client.expect("CAP", lambda m: len(m.params) > 1 and m.params[1] in ("ACK", "NAK"))
    assert ack.params[1] == "ACK", f"caps refused: {ack.params}"
    assert set(ack.params[-1].split()) == set(wanted.split())
    if password is not None:
        client.sasl_plain(nick, password)
    client.send("CAP END")
    client.register(nick)
    return client


class Multiplexer:
    """Reads several blocking test clients at once, for tests that must not wait on one."""

    def __init__(self, clients: Iterable[IRCClient]) -> None:
        self.clients = list(clients)
        self.closed: set[IRCClient] = set()

    def read(self, timeout: float) -> list[tuple[IRCClient, Message]]:
        """Messages that arrive on any open client within `timeout` (0: only what is there).

        Waits at most `timeout` for the first readable socket, then takes the
        complete lines each readable socket holds. A client whose connection
        ends joins `closed` and is not read again.
        """
        found: list[tuple[IRCClient, Message]] = []
        with selectors.DefaultSelector() as sel:
            for client in self.clients:
                if client not in self.closed:
                    sel.register(client.sock, selectors.EVENT_READ, client)
            if not sel.get_map():
                return found
            for key, _ in sel.select(timeout):
                client = key.data
                assert isinstance(client, IRCClient)
                client.sock.settimeout(0)
                try:
                    chunk = client.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    chunk = b""
                finally:
                    client.sock.settimeout(TIMEOUT)
                if not chunk:
                    self.closed.add(client)
                client.buf += chunk
                *lines, client.buf = client.buf.split(b"\r\n")
                for line in lines:
                    msg = parse(line.decode(), strict=False)
                    client.received.append(msg)
                    found.append((client, msg))
        return found

    @property
    def all_closed(self) -> bool:
        """Whether every client's connection has ended."""
        return len(self.closed) == len(self.clients)


def read_batch(client: IRCClient, request: str) -> tuple[str, list[Message]]:
    """Sends a CHATHISTORY request; returns the batch's target and its messages."""
    client.send(request)
    start = client.expect(
        ("BATCH", "FAIL"), lambda m: m.command == "FAIL" or m.params[0].startswith("+")
    )
    assert start.command == "BATCH", f"{request!r} refused: {start.params}"
    ref = start.params[0][1:]
    assert start.params[1] == "chathistory", start.params
    body: list[Message] = []
    while True:
        msg = client.read()
        assert msg is not None, f"connection closed inside batch {ref}"
        if msg.command == "BATCH" and msg.params[0] == f"-{ref}":
            return start.params[2], body
        if msg.tags.get("batch") == ref:
            body.append(msg)

"""Provides a blocking test IRC client and an in-process server runner for tests."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.chat.history import HistoryStore
from easychat.net.server import Server
from easychat.proto.limits import MAX_LINE_BYTES, MAX_TAGS_BYTES
from easychat.proto.message import Message, parse

# Hard ceiling for any single wait in a test; a healthy server answers in ms.
TIMEOUT = 5.0


def parse_from_server(line: str) -> Message:
    """Parses a line a server sent, holding it to the server's limits: the
    rest at most 510 bytes, the tag section (client and server tags, 4094
    bytes each) at most 8191 with its '@' and space."""
    tags, space, rest = line.partition(" ") if line.startswith("@") else ("", "", line)
    assert len(tags.encode()) + len(space) <= MAX_TAGS_BYTES, f"tags too long: {line[:80]!r}"
    assert len(rest.encode()) <= MAX_LINE_BYTES - 2, f"line too long: {line[:80]!r}"
    return parse(line, strict=False)


class RunningServer:
    """An EasyChat server on 127.0.0.1, port 0, served by a background thread."""

    def __init__(
        self,
        config: CoreConfig | None = None,
        sendq: int | None = None,
        port: int = 0,
        history: HistoryStore | None = None,
    ) -> None:
        cfg = config or CoreConfig()
        self.core = ChatCore(replace(cfg), history=history)
        kwargs = {} if sendq is None else {"sendq": sendq}
        self.server = Server(self.core, "127.0.0.1", port, **kwargs)
        _, self.port = self.server.listen()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.serve_forever()
        except BaseException as exc:  # surfaced by stop()
            self.errors.append(exc)

    def stop(self) -> None:
        """Stops the loop and fails the test if the loop itself raised."""
        self.server.stop()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "server loop did not stop"
        assert not self.errors, f"server loop raised: {self.errors!r}"

    def client(self) -> IRCClient:
        """A new raw connection to this server."""
        return IRCClient(self.port)


def plain_token(authcid: str, password: str, authzid: str = "") -> str:
    """The SASL PLAIN response: base64 of `authzid NUL authcid NUL password`."""
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode()).decode()


class IRCClient:
    """A line-oriented blocking client with timeouts, for driving the server."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buf = b""
        self.received: list[Message] = []
        self.nick: str | None = None

    def send_raw(self, data: bytes) -> None:
        """Sends bytes exactly as given."""
        self.sock.sendall(data)

    def send(self, line: str) -> None:
        """Sends one line, adding CRLF."""
        self.sock.sendall(line.encode() + b"\r\n")

    def read_line(self, timeout: float = TIMEOUT) -> bytes | None:
        """The next raw line, or None at EOF. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no complete line from server")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError("no complete line from server") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self, timeout: float = TIMEOUT) -> Message | None:
        """The next message, or None at EOF."""
        line = self.read_line(timeout)
        if line is None:
            return None
        msg = parse_from_server(line.decode())
        self.received.append(msg)
        if msg.command == "PING":
            self.send(f"PONG :{msg.params[-1]}")
        return msg

    def expect(
        self,
        command: str | tuple[str, ...],
        where: Callable[[Message], bool] | None = None,
        timeout: float = TIMEOUT,
    ) -> Message:
        """Reads until a message with `command` (and matching `where`) arrives.

        `command` may be a tuple of commands, any of which matches.
        """
        commands = (command,) if isinstance(command, str) else command
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {command} from server")
            msg = self.read(remaining)
            if msg is None:
                raise ConnectionError(f"connection closed while waiting for {command}")
            if msg.command in commands and (where is None or where(msg)):
                return msg

    def until(self, command: str | tuple[str, ...], timeout: float = TIMEOUT) -> list[Message]:
        """All messages up to and including the first `command`."""
        start = len(self.received)
        self.expect(command, timeout=timeout)
        return self.received[start:]

    def expect_closed(self, timeout: float = TIMEOUT) -> list[Message]:
        """Reads until the server closes the connection; returns what came."""
        start = len(self.received)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("server did not close the connection")
            if self.read(remaining) is None:
                return self.received[start:]

    def register(self, nick: str, autojoined: bool = True) -> list[Message]:
        """NICK/USER, then waits for the end of the burst (and the autojoin)."""
        self.nick = nick
        self.send(f"NICK {nick}")
        self.send(f"USER {nick.lower()} 0 * :{nick} Test")
        end = ("366",) if autojoined else ("376", "422")
        start = len(self.received)
        self.expect(end)
        return self.received[start:]

    def sasl_plain(self, account: str, password: str) -> None:
        """Logs in with SASL PLAIN (sasl already acknowledged) and waits for 903."""
        self.send("AUTHENTICATE PLAIN")
        self.expect("AUTHENTICATE")
        self.send(f"AUTHENTICATE {plain_token(account, password)}")
        self.expect("903")  # RPL_SASLSUCCESS

    def close(self) -> None:
        """Closes the socket."""
        self.sock.close()

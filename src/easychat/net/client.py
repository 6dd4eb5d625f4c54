"""Provides the asyncio client connection: a TCP or Unix socket stream framed into IRC messages."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import logging
import random
import re
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator

from easychat.net.tls import ClientTLS, describe_tls_error, fingerprint
from easychat.net.unixsock import SYSTEM_SOCKET_PATH, default_socket_path, is_socket
from easychat.proto.framing import TOO_LONG, LineBuffer
from easychat.proto.message import Message, ProtocolError, encode, parse

log = logging.getLogger("easychat.client")

# Seconds to wait for the TCP connection to open.
CONNECT_TIMEOUT = 10.0

# Reconnect backoff: the first retry after about a second, doubling up to a
# minute, with jitter so that many clients of a restarted server spread out.
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0

# A server address `unix:/path` names a Unix socket. parse_address returns
# it whole as the host, with port 0.
UNIX_PREFIX = "unix:"


class ConnectError(Exception):
    """The connection could not be opened; the message is for a person."""


def backoff_delays(rng: random.Random | None = None) -> Iterator[float]:
    """Delays before each reconnect attempt: ~1 s, ~2 s, ~4 s ... capped at 60 s."""
    rng = rng or random.Random()
    delay = BACKOFF_FIRST
    while True:
        yield min(BACKOFF_MAX, delay * rng.uniform(0.8, 1.2))
        delay = min(BACKOFF_MAX, delay * 2)


def default_server(tls: bool, system: str = SYSTEM_SOCKET_PATH) -> str:
    """The server `easychat join` connects to when none is given.

    Without TLS: the personal server's Unix socket when it is there, else a
    host-wide server's (`system`), else 127.0.0.1:6667. With TLS:
    127.0.0.1:6697 (a Unix socket needs no TLS).
    """
    if tls:
        return "127.0.0.1:6697"
    for path in (default_socket_path(), system):
        if path is not None and is_socket(path):
            return UNIX_PREFIX + path
    return "127.0.0.1:6667"


def is_unix(host: str) -> bool:
    """Whether a host from parse_address is a Unix socket (`unix:/path`)."""
    return host.startswith(UNIX_PREFIX)


def parse_address(text: str, default_port: int = 6667) -> tuple[str, int]:
    """Splits `host`, `host:port` or `[v6]:port` into host and port.

    `unix:/path` is a Unix socket: returned whole, with port 0.

    Raises:
        ValueError: the text is empty or the port is not a number in 1..65535.
    """
    text = text.strip()
    if not text:
        raise ValueError("Enter a server address, like 127.0.0.1:6667")
    if is_unix(text):
        if not text[len(UNIX_PREFIX) :].startswith("/"):
            raise ValueError("Write a Unix socket as unix:/absolute/path")
        return text, 0
    port_text = ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("Write an IPv6 address as [address]:port")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host = text  # a bare name, IPv4 address or IPv6 address
    if not host:
        raise ValueError("The server address has no host")
    if any(ch.isspace() for ch in host):
        raise ValueError("The host name cannot contain spaces")
    if not host.isprintable():
        raise ValueError("The host name cannot contain control characters")
    if not port_text:
        return host, default_port
    # ASCII digits only: str.isdigit() also accepts "²", which int() rejects.
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"The port must be a number from 1 to 65535, not {port_text!r}")
    return host, int(port_text)


def format_address(host: str, port: int) -> str:
    """`host:port` as a person reads it; an IPv6 address in brackets (`[::1]:6667`)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _all_refused(exc: BaseException) -> bool:
    """Whether asyncio's combined "Multiple exceptions: ..." error is all refusals.

    When a name resolves to several addresses (`localhost`: ::1 and
    127.0.0.1) and every attempt fails, asyncio raises one plain OSError
    whose text lists each attempt's error.
    """
    codes = re.findall(r"\[Errno (\d+)\]", str(exc))
    return bool(codes) and all(int(code) == errno.ECONNREFUSED for code in codes)


def describe(exc: BaseException, host: str, port: int) -> str:
    """A sentence a person can act on, for a failure to connect."""
    where = host if is_unix(host) else format_address(host, port)
    if is_unix(host) and isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return f"No server at {host}: is the server running?"
    if isinstance(exc, UnicodeError):
        return f"Unknown host {host!r}: not a valid host name"
    if isinstance(exc, socket.gaierror):
        return f"Unknown host {host!r}: check the server address"
    if isinstance(exc, ConnectionRefusedError) or _all_refused(exc):
        return f"Connection refused by {where}: is the server running?"
    if isinstance(exc, TimeoutError):
        return f"Timed out connecting to {where}"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"Cannot reach {where}: network unreachable"
    if isinstance(exc, OSError) and exc.strerror:
        return f"Cannot connect to {where}: {exc.strerror}"
    return f"Cannot connect to {where}: {exc}"


class ClientConnection:
    """One connection to an IRC server: TCP (plain or TLS) or a Unix socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.framing = LineBuffer()
        # Lines framed but not yet yielded: they outlive one `messages()`
        # iterator, so a caller that stops at 001 and iterates again loses
        # nothing that arrived in the same read.
        self._pending: deque[bytes | object] = deque()

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        timeout: float = CONNECT_TIMEOUT,
        tls: ClientTLS | None = None,
    ) -> ClientConnection:
        """Connects (over TLS when `tls` is given), or raises ConnectError with a readable reason.

        With a pinned fingerprint the server's certificate must hash to it;
        otherwise it must verify against the system's CAs, unless insecure.
        """
        if is_unix(host):
            if tls is not None:
                raise ConnectError(f"TLS is not used over a Unix socket ({host}): drop --tls")
            opening = asyncio.open_unix_connection(host[len(UNIX_PREFIX) :])
        else:
            context = tls.context() if tls is not None else None
            opening = asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if context else None
            )
        try:
            reader, writer = await asyncio.wait_for(opening, timeout)
        except ssl.SSLError as exc:
            raise ConnectError(describe_tls_error(exc, host, port)) from exc
        except (OSError, TimeoutError, UnicodeError) as exc:
            # UnicodeError: the IDNA codec rejects the name ("a..b", a label
            # over 63 characters) before any lookup happens.
            raise ConnectError(describe(exc, host, port)) from exc
        connection = cls(reader, writer)
        if tls is not None and tls.fingerprint is not None:
            problem = _pin_mismatch(writer, tls.fingerprint, host, port)
            if problem is not None:
                writer.close()
                raise ConnectError(problem)
        return connection

    async def messages(self) -> AsyncIterator[Message]:
        """Each message the server sends, until the connection ends."""
        while True:
            if not self._pending:
                try:
                    data = await self.reader.read(64 * 1024)
                except (ConnectionError, OSError) as exc:
                    log.info("connection lost: %s", exc)
                    return
                if not data:
                    return
                self._pending.extend(self.framing.feed(data))
            while self._pending:
                line = self._pending.popleft()
                if line is TOO_LONG:
                    log.warning("dropped an over-long line from the server")
                    continue
                assert isinstance(line, bytes)
                try:
                    msg = parse(line.decode("utf-8", "replace"), strict=False)
                except ProtocolError as exc:
                    log.warning("ignored a malformed line from the server: %s", exc)
                    continue
                yield msg

    def send(self, messages: Iterable[Message]) -> None:
        """Queues messages for sending (the stream writes them in order)."""
        if self.writer.is_closing():
            return
        data = b"".join(encode(msg) for msg in messages)
        if data:
            self.writer.write(data)

    def send_raw(self, line: str) -> None:
        """Queues one line exactly as given (`/quote`), adding CRLF.

        The caller has checked it is one valid line (no CR, LF or NUL).
        """
        if not self.writer.is_closing():
            self.writer.write(line.encode("utf-8", "surrogateescape") + b"\r\n")

    async def close(self) -> None:
        """Closes the connection, waiting briefly for queued data to go."""
        if self.writer.is_closing():
            return
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self.writer.drain(), 2.0)
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)


def _pin_mismatch(writer: asyncio.StreamWriter, pinned: str, host: str, port: int) -> str | None:
    """Why the server's certificate is not the pinned one, or None if it is."""
    where = format_address(host, port)
    sslobj = writer.get_extra_info("ssl_object")
    der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    if not der:
        return f"{where} presented no certificate to check the pinned fingerprint against"
    actual = fingerprint(der)
    if hmac.compare_digest(actual.replace(":", "").lower(), pinned):
        return None
    return (
        f"The certificate of {where} does not match the pinned fingerprint: "
        f"it is {actual}. If the server's certificate was replaced, check the new "
        "fingerprint with its operator; otherwise someone may be intercepting the connection."
    )

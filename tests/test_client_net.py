"""Tests for the client network shell: addresses, backoff, error texts, a real connection."""

from __future__ import annotations

import asyncio
import errno
import random
import re
import socket
from itertools import islice

import pytest

from easychat.client.events import Registered
from easychat.client.session.session import Session
from easychat.net.client import (
    BACKOFF_MAX,
    ClientConnection,
    ConnectError,
    backoff_delays,
    describe,
    parse_address,
)
from easychat.proto.message import Message
from tests.ircclient import RunningServer

# Seconds a loopback test may wait for the server before failing.
WAIT = 10.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("irc.example.net", ("irc.example.net", 6667)),
        ("127.0.0.1:7000", ("127.0.0.1", 7000)),
        ("  localhost:1  ", ("localhost", 1)),
        ("host:65535", ("host", 65535)),
        ("[::1]:6697", ("::1", 6697)),
        ("[::1]", ("::1", 6667)),
        ("::1", ("::1", 6667)),
        ("fe80::1:2", ("fe80::1:2", 6667)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


def test_parse_address_default_port_is_a_parameter() -> None:
    assert parse_address("example.org", default_port=6697) == ("example.org", 6697)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Enter a server address"),
        ("   ", "Enter a server address"),
        ("host:0", "from 1 to 65535, not '0'"),
        ("host:70000", "from 1 to 65535, not '70000'"),
        ("host:abc", "from 1 to 65535, not 'abc'"),
        ("host:-1", "from 1 to 65535"),
        ("host:²", "from 1 to 65535"),
        ("[::1]:0", "from 1 to 65535"),
        (":6667", "no host"),
        ("[]:6667", "no host"),
        ("[::1", "[address]:port"),
        ("[::1]6667", "[address]:port"),
        ("my host:6667", "spaces"),
        ("my\thost", "spaces"),
        ("ho\x00st", "control characters"),
    ],
)
def test_parse_address_rejects_with_a_readable_reason(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_address(text)


def test_backoff_starts_near_a_second_doubles_and_caps() -> None:
    delays = list(islice(backoff_delays(random.Random(42)), 12))
    assert 0.8 <= delays[0] <= 1.2
    assert 1.6 <= delays[1] <= 2.4
    assert 3.2 <= delays[2] <= 4.8
    assert all(d <= BACKOFF_MAX == 60.0 for d in delays)
    assert all(d >= 0.8 * 60 for d in delays[6:])  # 64 s before the cap and jitter


def test_backoff_is_reproducible_with_a_seed() -> None:
    first = list(islice(backoff_delays(random.Random(7)), 5))
    again = list(islice(backoff_delays(random.Random(7)), 5))
    assert first == again


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), "refused"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "Unknown host"),
        (TimeoutError(), "Timed out"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
        (OSError(errno.EACCES, "Permission denied"), "Permission denied"),
        # asyncio's combined error when every address of a name refused.
        (
            OSError(
                "Multiple exceptions: [Errno 111] Connect call failed ('::1', 6667, 0, 0), "
                "[Errno 111] Connect call failed ('127.0.0.1', 6667)"
            ),
            "refused",
        ),
        (UnicodeError("label empty or too long"), "not a valid host name"),
    ],
)
def test_describe_names_the_failure(exc: BaseException, words: str) -> None:
    text = describe(exc, "example.org", 6667)
    assert words in text
    assert "Traceback" not in text


def test_describe_mixed_multiple_errors_is_not_called_refused() -> None:
    exc = OSError(
        "Multiple exceptions: [Errno 111] Connect call failed ('::1', 6667, 0, 0), "
        "[Errno 101] Network is unreachable"
    )
    assert "refused" not in describe(exc, "localhost", 6667)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_open_to_a_closed_port_is_refused() -> None:
    port = closed_port()
    with pytest.raises(ConnectError, match="refused") as info:
        await ClientConnection.open("127.0.0.1", port)
    assert f"127.0.0.1:{port}" in str(info.value)


@pytest.mark.parametrize("host", ["a..b", "x" * 70 + ".example"])
async def test_open_with_an_impossible_host_name_is_a_connect_error(host: str) -> None:
    with pytest.raises(ConnectError, match="not a valid host name"):
        await ClientConnection.open(host, 6667)


async def read_until(connection: ClientConnection, command: str) -> list[Message]:
    """Messages up to and including the first `command`, within WAIT seconds."""
    seen: list[Message] = []

    async def read() -> None:
        async for msg in connection.messages():
            seen.append(msg)
            if msg.command == command:
                return
        raise AssertionError(f"connection ended before {command}: {seen!r}")

    await asyncio.wait_for(read(), WAIT)
    return seen


async def test_registers_with_a_real_server(server: RunningServer) -> None:
    connection = await ClientConnection.open("127.0.0.1", server.port)
    session = Session("john")
    try:
        connection.send(session.start())
        events = []
        seen: list[Message] = []

        async def run() -> None:
            async for msg in connection.messages():
                seen.append(msg)
                events.extend(session.feed(msg))
                connection.send(session.take_outgoing())
                if session.registered:
                    return
            raise AssertionError(f"connection ended before 001: {seen!r}")

        await asyncio.wait_for(run(), WAIT)
        assert seen[-1].command == "001"
        [welcome] = [e for e in events if isinstance(e, Registered)]
        assert welcome.nick == "john"
        assert welcome.welcome.startswith("Welcome to Easy Chat! You are customer number ")
        # The session keeps talking: the autojoin arrives and PING is answered.
        connection.send([Message("PING", ("check",))])
        rest = await read_until(connection, "PONG")
        assert any(m.command == "JOIN" and m.params[0] == "#lobby" for m in rest)
        assert rest[-1].params[-1] == "check"
    finally:
        await connection.close()


async def test_messages_end_when_the_server_closes(server: RunningServer) -> None:
    connection = await ClientConnection.open("127.0.0.1", server.port)
    try:
        connection.send([Message("QUIT", ("bye",))])
        seen = await read_until(connection, "ERROR")
        assert seen[-1].command == "ERROR"

        async def drain() -> list[Message]:
            return [msg async for msg in connection.messages()]

        assert await asyncio.wait_for(drain(), WAIT) == []
    finally:
        await connection.close()
    connection.send([Message("PING", ("late",))])  # after close: dropped, no error

"""Server TLS: handshakes in the selector loop, plain beside TLS, stalled handshakes, sts."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.net.server import Server
from easychat.net.tls import (
    MIN_TLS_VERSION,
    fingerprint,
    normalize_fingerprint,
    server_context,
)
from tests.ircclient import TIMEOUT, IRCClient, RunningServer
from tests.tlshelpers import Cert, TLSClient, TLSServer, make_cert


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(cert: Cert) -> Iterator[Callable[..., TLSServer]]:
    servers: list[TLSServer] = []

    def start(config: CoreConfig | None = None, **kwargs: Any) -> TLSServer:
        server = TLSServer(cert, config, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def clients() -> Iterator[list[IRCClient]]:
    opened: list[IRCClient] = []
    yield opened
    for client in opened:
        client.close()


def tls_client(server: TLSServer, cert: Cert, opened: list[IRCClient]) -> TLSClient:
    client = TLSClient(server.tls_port, cert.trusting_context())
    opened.append(client)
    return client


def test_register_and_chat_over_tls(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    server = tls_server()
    alice, bob = tls_client(server, cert, clients), tls_client(server, cert, clients)
    assert isinstance(alice.sock, ssl.SSLSocket)
    assert alice.sock.version() in {"TLSv1.2", "TLSv1.3"}
    alice.register("alice")
    bob.register("bob")
    alice.send("PRIVMSG #lobby :hello over TLS")
    msg = bob.expect("PRIVMSG")
    assert msg.params == ("#lobby", "hello over TLS")
    assert msg.source is not None
    assert msg.source.startswith("alice!")


def test_plain_and_tls_side_by_side(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    server = tls_server()
    secure = tls_client(server, cert, clients)
    plain = server.client()
    clients.append(plain)
    secure.register("secure")
    plain.register("plain")
    plain.send("PRIVMSG secure :from plain")
    assert secure.expect("PRIVMSG").params == ("secure", "from plain")
    secure.send("PRIVMSG plain :from TLS")
    assert plain.expect("PRIVMSG").params == ("plain", "from TLS")


def test_large_output_over_tls(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    """A burst far larger than the socket buffer goes out whole (partial TLS writes)."""
    motd = tuple(f"line {i:05d} " + "x" * 300 for i in range(2000))  # ~650 KB
    server = tls_server(CoreConfig(motd=motd))
    client = tls_client(server, cert, clients)
    client.register("reader")
    lines = [m.params[-1] for m in client.received if m.command == "372"]
    assert len(lines) == len(motd)
    assert lines[-1].endswith(motd[-1])


def test_lines_sent_with_the_handshake_are_read(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    """Several lines in one TLS write, sent straight after the handshake, all arrive."""
    server = tls_server()
    client = tls_client(server, cert, clients)
    client.send_raw(b"NICK eager\r\nUSER eager 0 * :Eager\r\nPING :one\r\nPING :two\r\n")
    client.expect("366")
    pongs = [client.expect("PONG").params[-1] for _ in range(2)]
    assert pongs == ["one", "two"]


def test_stalled_handshake_is_dropped_without_blocking_others(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    """A TCP client on the TLS port that sends nothing (or half a ClientHello) is
    closed after the handshake timeout; a TLS client chats normally meanwhile."""
    timeout = 1.0
    server = tls_server(handshake_timeout=timeout)
    silent = socket.create_connection(("127.0.0.1", server.tls_port), timeout=TIMEOUT)
    partial = socket.create_connection(("127.0.0.1", server.tls_port), timeout=TIMEOUT)
    started = time.monotonic()
    partial.sendall(b"\x16\x03\x01\x02\x00\x01")  # a record header and the start of a hello
    try:
        alice, bob = tls_client(server, cert, clients), tls_client(server, cert, clients)
        alice.register("alice")
        bob.register("bob")
        alice.send("PRIVMSG bob :not held up")
        assert bob.expect("PRIVMSG").params == ("bob", "not held up")
        chatted = time.monotonic()
        for stalled in (silent, partial):
            stalled.settimeout(timeout + TIMEOUT)
            assert stalled.recv(1024) == b""  # closed by the server
        closed = time.monotonic()
    finally:
        silent.close()
        partial.close()
    assert chatted < started + timeout, "the TLS clients waited for the stalled handshakes"
    assert closed >= started + timeout * 0.9
    # The stalled connections never became clients of the core.
    assert sorted(c.nick or "" for c in server.core.clients.values()) == ["alice", "bob"]


def test_plain_text_on_the_tls_port_is_dropped(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    server = tls_server()
    confused = IRCClient(server.tls_port)
    clients.append(confused)
    confused.send("NICK confused")
    assert confused.read_line() is None  # closed, nothing sent in plain text
    ok = tls_client(server, cert, clients)
    ok.register("fine")


def test_tls_only_server(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    server = tls_server(plain=False)
    assert server.port is None
    tls_client(server, cert, clients).register("only")


def test_server_needs_something_to_listen_on() -> None:
    with pytest.raises(ValueError, match="nothing to listen on"):
        Server(ChatCore(CoreConfig()), "127.0.0.1", None)


def test_old_tls_versions_are_off(cert: Cert) -> None:
    ctx = server_context(cert.cert, cert.key)
    assert ctx.minimum_version == MIN_TLS_VERSION == ssl.TLSVersion.TLSv1_2


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_tls_1_1_client_is_refused(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    server = tls_server()
    ctx = cert.trusting_context()
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionError)):
        TLSClient(server.tls_port, ctx)


def test_client_verifying_against_the_system_store_rejects_self_signed(
    tls_server: Callable[..., TLSServer],
) -> None:
    server = tls_server()
    with pytest.raises(ssl.SSLCertVerificationError):
        TLSClient(server.tls_port, ssl.create_default_context())


# -- sts ---------------------------------------------------------------------


def cap_ls(client: IRCClient, version: str = "302") -> list[str]:
    client.send(f"CAP LS {version}".strip())
    return client.expect("CAP").params[-1].split()


def test_sts_on_plain_names_the_tls_port(
    tls_server: Callable[..., TLSServer], clients: list[IRCClient]
) -> None:
    """ "Servers MUST NOT send a duration key on insecure connections" and name the port."""
    server = tls_server()
    plain = server.client()
    clients.append(plain)
    caps = cap_ls(plain)
    assert f"sts=port={server.tls_port}" in caps
    assert not any("duration" in cap for cap in caps)


def test_sts_on_tls_gives_the_duration(
    tls_server: Callable[..., TLSServer], cert: Cert, clients: list[IRCClient]
) -> None:
    server = tls_server(sts_duration=2592000)
    caps = cap_ls(tls_client(server, cert, clients))
    assert "sts=duration=2592000" in caps
    assert not any(cap.startswith("sts=port") for cap in caps)


def test_no_sts_without_tls_or_before_302(
    tls_server: Callable[..., TLSServer],
    make_server: Callable[..., RunningServer],
    clients: list[IRCClient],
) -> None:
    no_tls = make_server().client()
    clients.append(no_tls)
    assert not any(cap.startswith("sts") for cap in cap_ls(no_tls))
    server = tls_server()
    old = server.client()
    clients.append(old)
    assert not any(cap.startswith("sts") for cap in cap_ls(old, ""))


def test_sts_cannot_be_requested(
    tls_server: Callable[..., TLSServer], clients: list[IRCClient]
) -> None:
    """ "Clients MUST NOT request this capability with CAP REQ." We refuse it."""
    server = tls_server()
    plain = server.client()
    clients.append(plain)
    plain.send("CAP REQ sts")
    reply = plain.expect("CAP")
    assert reply.params[1] == "NAK"


# -- fingerprints -----------------------------------------------------------------


def test_fingerprint_formats(cert: Cert) -> None:
    der = ssl.PEM_cert_to_DER_cert(cert.cert.read_text())
    printed = fingerprint(der)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", printed)
    plain = printed.replace(":", "").lower()
    assert normalize_fingerprint(printed) == plain
    assert normalize_fingerprint(plain.upper()) == plain
    for bad in ("", "abc", plain[:-2], plain + "00", "zz" + plain[2:]):
        with pytest.raises(ValueError, match="64 hex digits"):
            normalize_fingerprint(bad)


# -- the command line ----------------------------------------------------------------

_TLS_LISTENING = re.compile(rb"listening for TLS on [^:\s]+:(\d+)")
_FINGERPRINT = re.compile(rb"SHA-256 fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")


_READY = re.compile(rb"(Waiting for a connection)")


def _serve(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    base = [sys.executable, "-m", "easychat", "serve", "--host", "127.0.0.1", "--db", ":memory:"]
    return subprocess.Popen(
        [*base, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )


def _startup(proc: subprocess.Popen[bytes]) -> bytes:
    """The output up to "Waiting for a connection"; fails at EOF (the process died)."""
    assert proc.stdout is not None
    seen = b""
    while not _READY.search(seen):
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"server exited before it was ready:\n{seen.decode()}")
        seen += line
    return seen


def _found(pattern: re.Pattern[bytes], output: bytes) -> bytes:
    found = pattern.search(output)
    assert found, f"{pattern.pattern!r} not in:\n{output.decode()}"
    return found.group(1)


def test_self_signed_serves_tls_only_and_prints_its_fingerprint(tmp_path: Path) -> None:
    """`serve --tls-self-signed --port 0` serves TLS only, with the fingerprint it printed."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    proc = _serve(["--port", "0", "--tls-port", "0", "--tls-self-signed"], env)
    try:
        output = _startup(proc)
        printed = _found(_FINGERPRINT, output)
        port_text = _found(_TLS_LISTENING, output)
        assert b"listening on" not in output  # no plain listener
        stored = tmp_path / "data" / "easychat" / "tls"
        assert (stored / "selfsigned-key.pem").stat().st_mode & 0o077 == 0
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection(("127.0.0.1", int(port_text)), timeout=TIMEOUT) as raw,
            ctx.wrap_socket(raw) as sock,
        ):
            der = sock.getpeercert(binary_form=True)
            assert der is not None
            assert fingerprint(der).encode() == printed
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)
    # A restart reuses the pair, so a pinned fingerprint keeps working.
    again = _serve(["--port", "0", "--tls-port", "0", "--tls-self-signed"], env)
    try:
        assert _found(_FINGERPRINT, _startup(again)) == printed
    finally:
        again.terminate()
        again.wait(TIMEOUT)


def test_half_a_pair_is_refused(cert: Cert) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "easychat", "serve", "--tls-cert", str(cert.cert)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    assert result.returncode == 2
    assert "--tls-cert needs --tls-key too" in result.stderr


def test_unusable_key_is_refused(cert: Cert, tmp_path: Path) -> None:
    other = make_cert(tmp_path, "other")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "easychat",
            "serve",
            "--tls-cert",
            str(cert.cert),
            "--tls-key",
            str(other.key),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    assert result.returncode == 2
    assert "TLS: cannot use certificate" in result.stderr

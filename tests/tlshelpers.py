"""Provides TLS test helpers: a throwaway certificate, a TLS server runner, a TLS test client."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from easychat.chat.config import CoreConfig
from easychat.chat.core import ChatCore
from easychat.chat.protection.sts import STS_DURATION
from easychat.net.server import HANDSHAKE_TIMEOUT_SECONDS, Server
from easychat.net.tls import ensure_self_signed, pem_fingerprint, server_context
from tests.ircclient import TIMEOUT, IRCClient


@dataclass(frozen=True)
class Cert:
    """A throwaway self-signed pair for localhost and its SHA-256 fingerprint."""

    cert: Path
    key: Path
    fingerprint: str  # AB:CD:... as the server prints it

    def trusting_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate (full verification)."""
        ctx = ssl.create_default_context(cafile=str(self.cert))
        return ctx


def make_cert(directory: Path, name: str = "localhost") -> Cert:
    """Generates a fresh self-signed certificate for `name` in `directory`."""
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    assert ensure_self_signed(cert, key, (name,))
    return Cert(cert, key, pem_fingerprint(cert))


class TLSServer:
    """An EasyChat server with TLS (and optionally plain TCP) on 127.0.0.1, in a thread."""

    def __init__(
        self,
        cert: Cert,
        config: CoreConfig | None = None,
        *,
        plain: bool = True,
        handshake_timeout: float = HANDSHAKE_TIMEOUT_SECONDS,
        sts_duration: int = STS_DURATION,
    ) -> None:
        self.core = ChatCore(replace(config or CoreConfig()))
        self.server = Server(
            self.core,
            "127.0.0.1",
            0 if plain else None,
            tls=server_context(cert.cert, cert.key),
            tls_port=0,
            handshake_timeout=handshake_timeout,
        )
        self.server.listen()
        self.port = self.server.port
        self.tls_port = self.server.tls_port
        # What `easychat serve` does: the sts policy names the bound TLS port.
        self.core.config = replace(
            self.core.config, sts_port=self.tls_port, sts_duration=sts_duration
        )
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
        """A plain TCP connection."""
        assert self.port is not None
        return IRCClient(self.port)


class TLSClient(IRCClient):
    """IRCClient over TLS: the handshake is done when the constructor returns."""

    def __init__(
        self,
        port: int,
        context: ssl.SSLContext,
        server_hostname: str = "localhost",
        *,
        rcvbuf: int | None = None,
    ):
        """`rcvbuf`: a receive buffer size set before connecting (a slow reader's window)."""
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(TIMEOUT)
        try:
            raw.connect(("127.0.0.1", port))
            self.sock = context.wrap_socket(raw, server_hostname=server_hostname)
        except BaseException:
            raw.close()
            raise
        self.buf = b""
        self.received = []
        self.nick = None

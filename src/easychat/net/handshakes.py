"""Provides the selector server's TLS handshakes: non-blocking steps with a timeout."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import time
from collections.abc import Iterable

from easychat.chat.actions import Action
from easychat.chat.core import ChatCore
from easychat.net.connection import Connection

log = logging.getLogger("easychat.server")

# TLS connections accepted but not yet through their handshake. They are not
# clients yet (the core's client limits do not see them) and each holds an
# OpenSSL session, so they get their own cap; past it a new TLS connection is
# closed at once. Equal to the default client limit: a full server's worth.
MAX_PENDING_HANDSHAKES = 1024


class Handshakes:
    """Drives TLS handshakes inside the selector loop; the core sees a client
    only once its handshake is done.

    The Server creates the state declared here and provides `_apply` and `_read`.
    """

    core: ChatCore
    conns: dict[int, Connection]
    selector: selectors.BaseSelector
    handshake_timeout: float
    _handshakes: dict[int, Connection]

    def _apply(self, actions: Iterable[Action]) -> None:
        raise NotImplementedError

    def _read(self, conn: Connection) -> None:
        raise NotImplementedError

    def _start_handshake(
        self, conn_id: int, sock: socket.socket, host: str, tls: ssl.SSLContext
    ) -> None:
        if len(self._handshakes) >= MAX_PENDING_HANDSHAKES:
            log.warning("refused TLS connection from %s: too many handshakes in progress", host)
            sock.close()
            return
        try:
            wrapped = tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        except (ssl.SSLError, OSError) as exc:
            log.info("TLS setup failed for %s: %s", host, exc)
            sock.close()
            return
        conn = Connection(conn_id, wrapped, host, secure=True)
        conn.deadline = time.monotonic() + self.handshake_timeout
        self._handshakes[conn.id] = conn
        self.selector.register(wrapped, selectors.EVENT_READ, conn)

    def _handshake(self, conn: Connection) -> None:
        """Runs one step of a TLS handshake; on success the core sees a new client."""
        sock = conn.sock
        assert isinstance(sock, ssl.SSLSocket)
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            self.selector.modify(sock, selectors.EVENT_READ, conn)
            return
        except ssl.SSLWantWriteError:
            self.selector.modify(sock, selectors.EVENT_WRITE, conn)
            return
        except (ssl.SSLError, OSError) as exc:
            # Peer input: a plain-text client on the TLS port, a scanner, a
            # client that rejected our certificate. Logged, never raised.
            reason = exc.reason if isinstance(exc, ssl.SSLError) else None
            log.info("TLS handshake with %s failed: %s", conn.host, reason or exc)
            self._end_handshake(conn)
            return
        del self._handshakes[conn.id]
        self.conns[conn.id] = conn
        self.selector.modify(sock, selectors.EVENT_READ, conn)
        log.debug("TLS connection %d from %s: %s", conn.id, conn.host, sock.version())
        self._apply(self.core.connect(conn.id, conn.host, secure=True))
        # Lines sent right behind the handshake may already be here.
        if conn.id in self.conns:
            self._read(conn)

    def _expire_handshakes(self) -> None:
        """Closes TLS connections whose handshake outlived its timeout."""
        now = time.monotonic()
        for conn in [c for c in self._handshakes.values() if c.deadline <= now]:
            log.info("TLS handshake with %s timed out", conn.host)
            self._end_handshake(conn)

    def _end_handshake(self, conn: Connection) -> None:
        del self._handshakes[conn.id]
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(conn.sock)
        conn.sock.close()

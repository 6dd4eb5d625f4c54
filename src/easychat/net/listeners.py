"""Provides the selector server's listening sockets: binding TCP, TLS and Unix, and accepting."""

from __future__ import annotations

import logging
import selectors
import socket
import ssl
from collections.abc import Callable, Iterable

from easychat.chat.actions import Action
from easychat.chat.core import ChatCore
from easychat.net.connection import Connection
from easychat.net.unixsock import bind_unix, file_id, unlink_if_ours

log = logging.getLogger("easychat.server")

# Kernel send buffer per client socket. Left alone, Linux autotunes it up to
# tcp_wmem's maximum (4 MiB by default), so a client that stops reading
# could hold several times SENDQ_BYTES (net/server.py) in the kernel before
# its queue here even starts to grow, and "SendQ exceeded" would fire late
# and at an unpredictable point. 64 KiB (Linux doubles it for bookkeeping) still
# keeps a chat connection's throughput far above what it needs.
SOCKET_SNDBUF = 64 * 1024

# Pending connections the kernel queues for us between two accepts.
LISTEN_BACKLOG = 1024


class Listener:
    """A listening socket: TCP plain or TLS, or the Unix socket (`unix` is its path)."""

    __slots__ = ("sock", "tls", "unix", "unix_id")

    def __init__(
        self, sock: socket.socket, tls: ssl.SSLContext | None, unix: str | None = None
    ) -> None:
        self.sock = sock
        self.tls = tls
        self.unix = unix
        # The socket file's (device, inode), removed at shutdown only if unchanged.
        self.unix_id = file_id(unix) if unix is not None else None


class Listeners:
    """Binds the listening sockets and accepts from them: plain and TLS TCP, the Unix socket.

    The Server creates the state declared here and provides `_apply` and
    `_start_handshake`.
    """

    core: ChatCore
    conns: dict[int, Connection]
    selector: selectors.BaseSelector
    host: str
    port: int | None
    tls: ssl.SSLContext | None
    tls_port: int
    unix: str | None
    unix_mode: int
    peer_user: Callable[[socket.socket], str | None]
    _next_id: int
    _listeners: list[Listener]
    _wake_r: socket.socket

    def _apply(self, actions: Iterable[Action]) -> None:
        raise NotImplementedError

    def _start_handshake(
        self, conn_id: int, sock: socket.socket, host: str, tls: ssl.SSLContext
    ) -> None:
        raise NotImplementedError

    def listen(self) -> tuple[str, int]:
        """Binds and listens; returns the first bound address (port 0 picks one).

        The plain address comes first; with TLS only, the TLS one; with
        neither, `("unix", 0)`. The bound ports are in `port` and `tls_port`
        afterwards.

        Raises:
            OSError: a TCP port cannot be bound.
            UnixSocketError: the Unix socket cannot be set up.
        """
        bound: list[tuple[str, int]] = []
        try:
            if self.port is not None:
                bound.append(self._bind(self.port, None))
                self.port = bound[-1][1]
            if self.tls is not None:
                bound.append(self._bind(self.tls_port, self.tls))
                self.tls_port = bound[-1][1]
            if self.unix is not None:
                sock = bind_unix(self.unix, self.unix_mode)
                listener = Listener(sock, None, self.unix)
                self._listeners.append(listener)
                self.selector.register(sock, selectors.EVENT_READ, listener)
                bound.append(("unix", 0))
        except Exception:
            self._close_listeners()
            raise
        self.selector.register(self._wake_r, selectors.EVENT_READ, self._wake_r)
        return bound[0]

    def _close_listeners(self) -> None:
        """Closes every listening socket, removing the Unix socket's file."""
        for listener in self._listeners:
            self.selector.unregister(listener.sock)
            if listener.unix is not None:
                unlink_if_ours(listener.unix, listener.unix_id)
            listener.sock.close()
        self._listeners.clear()

    def _bind(self, port: int, tls: ssl.SSLContext | None) -> tuple[str, int]:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, port), family=family, backlog=LISTEN_BACKLOG)
        sock.setblocking(False)
        listener = Listener(sock, tls)
        self._listeners.append(listener)
        self.selector.register(sock, selectors.EVENT_READ, listener)
        address = sock.getsockname()
        return str(address[0]), int(address[1])

    def _accept(self, listener: Listener) -> None:
        while True:
            try:
                sock, addr = listener.sock.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # EMFILE and friends: try again next turn
                log.error("accept failed: %s", exc)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SNDBUF)
            self._next_id += 1
            if listener.unix is not None:
                self._accept_local(self._next_id, sock)
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if listener.tls is not None:
                self._start_handshake(self._next_id, sock, str(addr[0]), listener.tls)
                continue
            conn = Connection(self._next_id, sock, str(addr[0]))
            self.conns[conn.id] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)
            self._apply(self.core.connect(conn.id, conn.host))

    def _accept_local(self, conn_id: int, sock: socket.socket) -> None:
        """A peer of the Unix socket: the core hears who it is (no IP, no per-IP limits)."""
        try:
            user = self.peer_user(sock)
        except OSError as exc:
            log.error("cannot read the credentials of a Unix socket peer: %s", exc)
            sock.close()
            return
        conn = Connection(conn_id, sock, "unix")
        self.conns[conn.id] = conn
        self.selector.register(sock, selectors.EVENT_READ, conn)
        self._apply(self.core.connect(conn.id, conn.host, local=True, peer_user=user))

"""Provides the selector server: the loop around ChatCore, reading, timers, commit and shutdown."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import time
from collections.abc import Callable, Sequence

from easychat.chat.core import ChatCore
from easychat.chat.history import HistoryWriteError
from easychat.net.connection import WOULD_BLOCK, Connection
from easychat.net.console import Console
from easychat.net.handshakes import Handshakes
from easychat.net.indexing import Indexing
from easychat.net.listeners import Listener, Listeners
from easychat.net.messagelog import MessageLog
from easychat.net.output import Output
from easychat.net.syncer import Syncer
from easychat.net.unixsock import PERSONAL_MODE, peer_user
from easychat.proto.framing import TOO_LONG

log = logging.getLogger("easychat.server")

# Bytes queued for one client before it is cut off with "SendQ exceeded".
# 1 MiB holds ~2,000 full-length lines: a client that far behind is not
# reading, and holding more only costs memory (ergo and InspIRCd use
# similar per-class limits).
SENDQ_BYTES = 1 << 20

# Bytes read from a socket per recv call.
RECV_BYTES = 64 * 1024

# On shutdown, how long clients get to take what is queued for them (their
# final ERROR last) before their sockets are closed anyway. Short enough
# that SIGTERM ends the process well within a second; long enough for any
# client that is reading to drain a full send queue over loopback or LAN.
SHUTDOWN_GRACE_SECONDS = 0.5

# Upper bound on the time between two timer runs (registration and ping
# timeouts); shorter timeouts shorten it further.
MAX_TICK_SECONDS = 1.0

# A TLS client must finish its handshake within this many seconds of the TCP
# accept, or it is closed. A real handshake takes a few round trips (well
# under a second even across continents); 10 s bounds what a client that
# opens the TLS port and sends nothing can hold. The chat core's
# registration timeout starts only once the handshake is done.
HANDSHAKE_TIMEOUT_SECONDS = 10.0


class Server(Output, Handshakes, Listeners):
    """One thread, one selector: accepts, reads, feeds ChatCore, writes.

    Output for each client is appended to its queue of chunks and sent once
    at the end of the loop turn, the chunks in one system call (scatter-gather;
    joined first for TLS); EVENT_WRITE is registered only while a queue is not
    empty, so a client that stops reading never blocks anyone else.

    With a TLS context it also listens on `tls_port`; TLS handshakes are
    driven by the same loop (each step runs when the socket is ready) and the
    chat core hears of a TLS connection only once its handshake is done.
    `port=None` serves TLS only.

    With `unix` (a path) it also listens on a Unix socket with file mode
    `unix_mode`. Each peer there is told to the chat core as local, with the
    login name `peer_user` finds for it (SO_PEERCRED; tests pass a double).

    With a `console`, the server's own output (log records and, with
    `messages`, the relayed messages) is written once per turn, after the
    clients' output, and never blocks: while the console does not take it,
    its descriptor is watched for EVENT_WRITE (see net/console.py).
    """

    def __init__(
        self,
        core: ChatCore,
        host: str = "0.0.0.0",
        port: int | None = 6667,
        sendq: int = SENDQ_BYTES,
        *,
        tls: ssl.SSLContext | None = None,
        tls_port: int = 6697,
        handshake_timeout: float = HANDSHAKE_TIMEOUT_SECONDS,
        unix: str | None = None,
        unix_mode: int = PERSONAL_MODE,
        peer_user: Callable[[socket.socket], str | None] = peer_user,
        console: Console | None = None,
        messages: MessageLog | None = None,
    ) -> None:
        if port is None and tls is None and unix is None:
            raise ValueError("nothing to listen on: no plain port, TLS context or Unix socket")
        self.core = core
        self.host = host
        self.port = port
        self.sendq = sendq
        self.tls = tls
        self.tls_port = tls_port
        self.handshake_timeout = handshake_timeout
        self.unix = unix
        self.unix_mode = unix_mode
        self.peer_user = peer_user
        self.console = console
        self.messages = messages
        self._console_watched = False
        if messages is not None:
            core.relayed = []
        self._handshakes: dict[int, Connection] = {}
        self.selector = selectors.DefaultSelector()
        self.conns: dict[int, Connection] = {}
        self._next_id = 0
        self._dirty: set[Connection] = set()
        self._drops: list[tuple[Connection, str]] = []
        self._write_failures: list[tuple[int, str]] = []
        # The run of Sends to one room being coalesced (see _apply).
        self._run_targets: Sequence[int] | None = None
        self._run: list[tuple[bytes, int | None]] = []
        self._stopping = False
        # Pipelined group commit (see _release): the history's fsync runs on
        # `_syncer` while the loop goes on; each list holds (connection, its
        # `queued` at the end of a turn) to release when a sync is done.
        self._syncer: Syncer | None = None
        # For each running sync, by its number: what it releases.
        self._in_flight: list[tuple[int, list[tuple[Connection, int]]]] = []
        self._unsynced: list[tuple[Connection, int]] = []  # for the next one
        self._listeners: list[Listener] = []
        self._indexing = Indexing(core.search)  # the search index's steps, between turns
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        cfg = core.config
        self.tick_seconds = min(
            MAX_TICK_SECONDS,
            cfg.registration_timeout / 10,
            cfg.ping_interval / 10,
            cfg.ping_timeout / 10,
            handshake_timeout / 10 if tls is not None else MAX_TICK_SECONDS,
        )

    def stop(self) -> None:
        """Asks the loop to shut down; safe to call from a signal handler."""
        self._stopping = True
        # OSError: a wake-up byte is already pending, or the pair is closed.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def serve_forever(self) -> None:
        """Runs the loop until `stop` is called, then shuts down cleanly."""
        if not self._listeners:
            self.listen()
        history = self.core.history
        if history is not None and history.syncs:
            self._syncer = Syncer(history.sync, self._wake_w)
        next_tick = time.monotonic() + self.tick_seconds
        while not self._stopping:
            timeout = 0.0 if self._indexing.due else max(0.0, next_tick - time.monotonic())
            events = self.selector.select(timeout)
            for key, mask in events:
                self._handle_event(key, mask)
            if self._syncer is not None and (number := self._syncer.finished()):
                self._synced(number)
            self._drop_failed_writers()
            ticked = time.monotonic() >= next_tick
            if ticked:
                self._expire_handshakes()
                self._apply(self.core.tick())
                next_tick = time.monotonic() + self.tick_seconds
            self._end_run()
            self._release(self._commit(sync=self._syncer is None))
            self._flush_dirty()
            self._flush_console()
            self._indexing.after_turn(idle=not events, ticked=ticked)
        self._shutdown()

    # -- events ------------------------------------------------------------

    def _handle_event(self, key: selectors.SelectorKey, mask: int) -> None:
        data = key.data
        if isinstance(data, Listener):
            self._accept(data)
        elif data is self._wake_r:
            with contextlib.suppress(OSError):
                self._wake_r.recv(4096)
        elif data is self.console:
            pass  # writable again: written at the end of the turn
        else:
            assert isinstance(data, Connection)
            conn = data
            if conn.id in self._handshakes:
                self._handshake(conn)
                return
            if conn.id not in self.conns:
                return  # dropped earlier in this turn (SendQ); its socket is closed
            # The one broad except: a bug triggered by one client drops that
            # client and is logged; the server and everyone else carry on.
            try:
                if mask & selectors.EVENT_READ:
                    self._read(conn)
                # A TLS write that wanted to read first is retried now too.
                if conn.id in self.conns and (
                    mask & selectors.EVENT_WRITE or (conn.secure and conn.out)
                ):
                    # Sent at the end of the turn, after the history commit:
                    # the queue may already hold this turn's messages.
                    self._dirty.add(conn)
            except Exception:
                log.exception("internal error while serving connection %d", conn.id)
                if conn.id in self.conns:
                    self._drop(conn, "Internal server error")

    def _read(self, conn: Connection) -> None:
        sock = conn.sock
        try:
            data = sock.recv(RECV_BYTES)
            # TLS hands out one record per recv; decrypted bytes it already
            # holds would not wake the selector again.
            while data and isinstance(sock, ssl.SSLSocket) and sock.pending():
                data += sock.recv(RECV_BYTES)
        except WOULD_BLOCK:
            return
        except ssl.SSLZeroReturnError:
            data = b""  # the peer's TLS close_notify
        except ssl.SSLError as exc:
            self._drop(conn, f"TLS error: {exc.reason or exc}")
            return
        except OSError as exc:
            self._drop(conn, f"Read error: {exc.strerror or exc}")
            return
        if not data:
            self._drop(conn, "Connection closed")
            return
        core = self.core
        lines = conn.framing.feed(data)
        index, count = 0, len(lines)
        while index < count:
            if conn.closing or conn.id not in self.conns:
                break
            if lines[index] is TOO_LONG:
                self._apply(core.line_too_long(conn.id))
                index += 1
            else:
                # A run of plain chat lines at once, or one other line.
                actions, index = core.receive_run(conn.id, lines, index)
                self._apply(actions)

    def _drop_failed_writers(self) -> None:
        """Tells the core about connections whose last write failed."""
        failures, self._write_failures = self._write_failures, []
        for conn_id, reason in failures:
            self._apply(self.core.disconnect(conn_id, reason))

    def _commit(self, *, sync: bool = True) -> bool:
        """Group commit: this turn's history is made durable before its output leaves.

        With `sync=False` the turn is committed and its fsync left to the
        Syncer; returns whether one is owed.

        A failing commit (disk full, I/O error) is logged and the server
        keeps serving; this turn's messages are then delivered but may not
        be in the history.
        """
        try:
            return self.core.end_turn(sync=sync)
        except HistoryWriteError as exc:
            log.error("history commit failed, this turn's messages are not stored: %s", exc)
            return False

    def _release(self, owed: bool) -> None:
        """Decides what of this turn's output may be sent now.

        Without a Syncer all of it. With one, a turn that stored history is
        held until an fsync that started after its commit has ended, and
        behind it, in each of its connections, whatever later turns queue
        there; the loop meanwhile reads and relays the next turns. Output
        to a connection with nothing held, from a turn that stored nothing
        (a PONG, a WHOIS), leaves at once. A sync covers every turn
        committed before it started; up to SYNC_THREADS run at once, so at
        a steady load each fsync carries the turns committed since the last
        one started, and a turn does not wait for an fsync that started
        before its commit (nor for its end: any later one releases it).
        """
        syncer = self._syncer
        dirty = self._dirty
        if syncer is None:
            for conn in dirty:
                conn.released = conn.queued
            return
        if owed:
            for conn in dirty:
                self._unsynced.append((conn, conn.queued))
                conn.marked = conn.queued
                conn.sealed = True
        else:
            # Behind the last of what is held: the next sync's, else the newest running one's.
            behind = self._unsynced
            if not behind and self._in_flight:
                behind = self._in_flight[-1][1]
            for conn in dirty:
                if conn.marked <= conn.released:
                    conn.released = conn.queued  # nothing held here
                else:
                    behind.append((conn, conn.queued))
                    conn.marked = conn.queued
                    conn.sealed = True
        if self._unsynced and syncer.free:
            self._in_flight.append((syncer.start(), self._unsynced))
            self._unsynced = []

    def _synced(self, number: int) -> None:
        """Sync `number` ended: the turns it covers may send their output.

        It covers every turn committed before it started, whether or not the
        syncs started earlier have ended; this turn's flush sends the output.
        """
        assert self._syncer is not None
        if self._syncer.error is not None:
            log.error("history fsync failed, messages may not be stored: %s", self._syncer.error)
        in_flight = self._in_flight
        done = 0
        while done < len(in_flight) and in_flight[done][0] <= number:
            for conn, queued in in_flight[done][1]:
                conn.released = max(conn.released, queued)
                if conn.id in self.conns:
                    self._dirty.add(conn)
            done += 1
        del in_flight[:done]

    def _flush_console(self) -> None:
        """Shows the turn's relayed messages and writes the console what it takes now.

        A console that would block is watched for EVENT_WRITE, so the loop
        wakes when it can take more (a regular file or device never blocks
        and cannot be watched; after a write error the next tick retries).
        """
        console = self.console
        if console is None:
            return
        if self.messages is not None and self.core.relayed is not None:
            self.messages.turn(self.core.relayed)
        would_block = console.flush() if console.pending else False
        if would_block != self._console_watched:
            if would_block:
                self.selector.register(console.fd, selectors.EVENT_WRITE, console)
            else:
                self.selector.unregister(console.fd)
            self._console_watched = would_block

    def _drop(self, conn: Connection, reason: str) -> None:
        """Closes a connection the core did not ask to close, telling the core."""
        conn.closing = True
        self._close(conn)
        self._apply(self.core.disconnect(conn.id, reason))

    def _close(self, conn: Connection) -> None:
        if self.conns.pop(conn.id, None) is None:
            return
        self._dirty.discard(conn)
        with contextlib.suppress(KeyError, ValueError):  # already unregistered
            self.selector.unregister(conn.sock)
        conn.sock.close()

    def _shutdown(self) -> None:
        log.info("shutting down: telling %d clients", len(self.conns))
        self._close_listeners()
        for conn in list(self._handshakes.values()):
            self._end_handshake(conn)
        self._drop_failed_writers()
        self._apply(self.core.shutdown())
        self._end_run()
        if self._syncer is not None:
            self._syncer.close()  # its turns are synced by the commit below
            self._syncer = None
        self._commit()
        for conn in self.conns.values():
            conn.released = conn.marked = conn.queued
        self._in_flight.clear()
        self._unsynced.clear()
        self._dirty.clear()
        if self.messages is not None and self.core.relayed is not None:
            self.messages.close(self.core.relayed)
        if self._console_watched and self.console is not None:
            self.selector.unregister(self.console.fd)
            self._console_watched = False
        self._linger(SHUTDOWN_GRACE_SECONDS)
        for conn in list(self.conns.values()):
            self._close(conn)
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _linger(self, seconds: float) -> None:
        """Gives closing clients up to `seconds` to take what is queued for them.

        Each socket sends its queue, then half-closes (FIN) and is closed when
        the peer closes too. Incoming bytes are read and discarded meanwhile:
        closing a socket with unread input makes the kernel reset the
        connection, and a reset can destroy what the peer had not read yet,
        the final ERROR included.
        """
        deadline = time.monotonic() + seconds
        half_closed: set[Connection] = set()
        for conn in self.conns.values():
            self.selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        while self.conns:
            for conn in [c for c in self.conns.values() if not c.out and c not in half_closed]:
                half_closed.add(conn)
                try:
                    conn.sock.shutdown(socket.SHUT_WR)
                    self.selector.modify(conn.sock, selectors.EVENT_READ, conn)
                except OSError:
                    self._close(conn)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for key, mask in self.selector.select(remaining):
                conn = key.data
                if conn is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                assert isinstance(conn, Connection)
                if conn.id not in self.conns:
                    continue
                try:
                    if mask & selectors.EVENT_READ and not conn.sock.recv(RECV_BYTES):
                        self._close(conn)  # the peer is done: a clean close
                        continue
                    if mask & selectors.EVENT_WRITE and conn.out:
                        self._send(conn)
                except WOULD_BLOCK:
                    pass
                except OSError:
                    self._close(conn)

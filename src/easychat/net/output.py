"""Provides the selector server's output side: queuing chunks, coalescing runs, SendQ, sending."""

from __future__ import annotations

import selectors
from collections.abc import Iterable, Sequence

from easychat.chat.actions import Action, Close, Send, SendBytes
from easychat.net.connection import WOULD_BLOCK, Connection

# Most chunks handed to one sendmsg call: Linux's IOV_MAX (UIO_MAXIOV), past
# which the call fails with EMSGSIZE. A longer queue is sent over several
# calls, the rest when the socket is writable again.
IOV_MAX = 1024

# A TLS socket has no sendmsg, so its pending chunks are joined into one
# buffer of at least this many bytes (or all of them) before a send. The
# join copies, but encryption copies anyway, and one larger write makes
# fewer, fuller TLS records than a write per chunk. 64 KiB is about what the
# kernel takes in one go (SOCKET_SNDBUF).
TLS_WRITE_BYTES = 64 * 1024


class Output:
    """Carries out the core's Send, SendBytes and Close actions into connection output queues.

    The Server creates the state declared here and provides `_drop` and `_close`.
    """

    conns: dict[int, Connection]
    sendq: int
    _dirty: set[Connection]
    _drops: list[tuple[Connection, str]]
    _run_targets: Sequence[int] | None
    _run: list[tuple[bytes, int | None]]
    _write_failures: list[tuple[int, str]]
    selector: selectors.BaseSelector

    def _drop(self, conn: Connection, reason: str) -> None:
        raise NotImplementedError

    def _close(self, conn: Connection) -> None:
        raise NotImplementedError

    def _apply(self, actions: Iterable[Action]) -> None:
        """Carries out the core's actions: queue bytes, schedule closes.

        Consecutive Sends to the same room or person (the same `targets`
        object) are held as a run and written as one chunk per member when
        anything else happens or the turn ends: per-member work is then per
        turn, not per message. Anything else ends the run first, so every
        connection still gets its lines in the order the core produced them.
        """
        conns = self.conns
        for action in actions:
            if isinstance(action, Send | SendBytes):
                data = action.data if isinstance(action, SendBytes) else action.message.to_bytes()
                if action.targets is self._run_targets:
                    self._run.append((data, action.exclude))
                    continue
                self._end_run()
                self._run_targets = action.targets
                self._run = [(data, action.exclude)]
            elif isinstance(action, Close):
                self._end_run()
                conn = conns.get(action.conn)
                if conn is not None:
                    conn.closing = True
                    self._dirty.add(conn)
        self._process_drops()

    def _process_drops(self) -> None:
        """Drops the clients whose send queue overflowed."""
        while self._drops:
            conn, reason = self._drops.pop()
            if conn.id in self.conns:
                conn.clear_output()
                self._drop(conn, reason)

    def _end_run(self) -> None:
        """Writes the held run: the whole chunk to each member, and to each
        excluded sender the run without its own lines.

        The chunk is joined once and shared: each member's queue references
        it (Connection.queue copies only small chunks, to merge them).
        """
        targets = self._run_targets
        if targets is None:
            return
        run, self._run, self._run_targets = self._run, [], None
        if len(run) == 1:
            self._queue(targets, run[0][0], run[0][1])
            self._process_drops()
            return
        excluded = {exclude for _, exclude in run if exclude is not None}
        for sender in excluded:
            if sender in targets:
                rest = b"".join(data for data, exclude in run if exclude != sender)
                if rest:
                    self._queue((sender,), rest, None)
        self._queue(targets, b"".join(data for data, _ in run), excluded)
        self._process_drops()

    def _queue(self, targets: Sequence[int], data: bytes, skip: int | set[int] | None) -> None:
        """Queues `data` for each target (but `skip`), with the SendQ check on queued bytes."""
        conns = self.conns
        dirty = self._dirty
        sendq = self.sendq
        skipped = skip if isinstance(skip, set) else {skip} if skip is not None else ()
        for target in targets:
            if target in skipped:
                continue
            conn = conns.get(target)
            if conn is None or conn.closing:
                continue
            conn.queue(data)
            dirty.add(conn)
            if conn.out_bytes > sendq:
                conn.closing = True
                self._drops.append((conn, "SendQ exceeded"))

    def _flush_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for conn in dirty:
            if conn.id in self.conns:
                self._flush(conn)

    def _flush(self, conn: Connection) -> None:
        sendable = conn.sendable()
        if sendable:
            try:
                self._send(conn, sendable)
            except WOULD_BLOCK:
                pass
            except OSError as exc:
                # The core hears of it next turn: the QUIT it sends others is
                # then stored and committed before it goes out.
                self._close(conn)
                self._write_failures.append((conn.id, f"Write error: {exc.strerror or exc}"))
                return
        if conn.closing and conn.queued == conn.released:
            # Held output (waiting for its fsync) goes first. Then what did
            # not fit in one last send is abandoned: a closing client gets
            # its final ERROR only if it is still reading.
            self._close(conn)
            return
        want_write = conn.sendable() > 0
        if want_write != conn.writing:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0)
            self.selector.modify(conn.sock, events, conn)
            conn.writing = want_write

    def _send(self, conn: Connection, limit: int | None = None) -> None:
        """Sends what the kernel takes of `conn`'s pending output, in one call.

        With `limit`, of its first `limit` bytes only (the rest is held;
        `limit` ends on a chunk boundary, see Connection.sealed).

        Raises what the socket raises; then nothing was sent.
        """
        out = conn.out
        if limit is not None and limit < conn.out_bytes:
            total = count = 0
            while total < limit:
                total += len(out[count])
                count += 1
            assert total == limit, "held output must start on a chunk boundary"
            out = out[:count]
        if conn.secure:
            # An SSL write that would block must be retried with the same
            # bytes. The joined head replaces the chunks it was made of, so
            # a retry starts with the same bytes (and may carry more).
            if len(out) > 1 and len(out[0]) < TLS_WRITE_BYTES:
                size = count = 0
                while count < len(out) and size < TLS_WRITE_BYTES:
                    size += len(out[count])
                    count += 1
                head = b"".join(out[:count])
                conn.out[:count] = [head]
                if out is not conn.out:
                    out[:count] = [head]
            sent = conn.sock.send(out[0])
        elif len(out) == 1:
            sent = conn.sock.send(out[0])
        else:
            sent = conn.sock.sendmsg(out[:IOV_MAX])
        conn.sent(sent)

"""Provides the selector server's output side: queuing chunks, coalescing room runs, SendQ."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from easychat.chat.actions import Action, Close, Send, SendBytes
from easychat.net.connection import Connection


class Output:
    """Carries out the core's Send, SendBytes and Close actions into connection output queues.

    The Server creates the state declared here and provides `_drop`.
    """

    conns: dict[int, Connection]
    sendq: int
    _dirty: set[Connection]
    _drops: list[tuple[Connection, str]]
    _run_targets: Sequence[int] | None
    _run: list[tuple[bytes, int | None]]

    def _drop(self, conn: Connection, reason: str) -> None:
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

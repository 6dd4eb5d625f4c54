"""Provides SQLiteHistory: the server's durable message history (WAL, group commit)."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

from easychat.chat.history import HistoryWriteError, Record, Selector
from easychat.proto.message import format_message, parse
from easychat.store.history_schema import (
    CONVERSATION_SQL,
    SCHEMA_VERSION,
    HistoryVersionError,
    conversations,
    migrate,
)
from easychat.store.private import private_sqlite

__all__ = ["SCHEMA_VERSION", "HistoryVersionError", "SQLiteHistory"]

_COLUMNS = "id, msgid, target, time_ms, line"

Row = tuple[int, str, str, int, str]

_INSERT_SQL = (
    "INSERT OR IGNORE INTO messages (msgid, target, time_ms, command, line) VALUES (?, ?, ?, ?, ?)"
)

# An id above every stored id.
_NO_ID = 1 << 62

# How often the checkpointer copies committed turns from the WAL into the
# database file. At relay speed (tens of thousands of ~200-byte rows a
# second) half a second of turns is a few MB of WAL: bounded, and each
# checkpoint is large enough to be written efficiently.
CHECKPOINT_SECONDS = 0.5

# WAL pages past which a commit on the loop checkpoints after all (SQLite's
# automatic checkpoint, default 1,000 pages). A PASSIVE checkpoint on
# another connection never finishes while the writer keeps appending, and
# only a finished one lets the WAL start over: under a flood that never
# pauses, this backstop keeps the WAL at most about 16 MiB (4 KiB pages).
# The checkpointer has then already copied nearly all of it, so the loop's
# share is small.
WAL_BACKSTOP_PAGES = 4096


class _Checkpointer:
    """Checkpoints a WAL database from its own thread and connection.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000
    WAL pages: on the server loop, a turn that copies megabytes and fsyncs
    the database file while every client waits. Here a PASSIVE checkpoint
    (which never blocks the writer, nor waits for it) runs every
    CHECKPOINT_SECONDS on a second connection; sqlite3 releases the GIL
    while SQLite works, so the loop keeps relaying. The thread touches the
    file only, never chat state, and a commit is as durable as before: a
    checkpoint copies only what the WAL already holds.
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._stop = threading.Event()
        self.frames = 0  # frames copied into the database file so far
        self._thread = threading.Thread(target=self._run, name="history-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_SECONDS):
            self.checkpoint()

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint (a failure is retried on the next round)."""
        try:
            row = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            return  # busy or I/O error: the WAL keeps the data; next round
        if row is not None and row[2] > 0:
            self.frames += int(row[2])

    def close(self) -> None:
        """Stops the thread and closes its connection."""
        self._stop.set()
        self._thread.join()
        self._db.close()


class SQLiteHistory:
    """History in one SQLite file (or ":memory:").

    `append` buffers rows; they are inserted with one `executemany` before
    any read and at `commit`, and `commit` ends the transaction, so a server
    loop turn costs one fsync however many messages it carried.
    """

    def __init__(self, path: str | Path, *, db: sqlite3.Connection | None = None) -> None:
        """Opens (creating or migrating) the history in `path`; with `db`, uses that connection."""
        self.path = str(path)
        owned = db is None
        if db is None:
            if self.path != ":memory:":
                private_sqlite(Path(self.path))  # 0600 before SQLite creates it 0644
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a COMMIT writes the WAL without an fsync; `sync` does
            # that fsync, so a committed and synced turn survives power loss,
            # as with FULL, and the server can sync one turn while it reads
            # the next (net/syncer.py).
            db.execute("PRAGMA synchronous=NORMAL")
        self.db = db
        migrate(db, self.path)
        self._pending: list[tuple[str, str, int, str, str]] = []
        self._private = False  # whether _pending holds a private conversation's row
        self._in_tx = False
        self._checkpointer: _Checkpointer | None = None
        self._wal_fd: int | None = None
        self._wal_ino = 0
        self._syncs = owned and self.path != ":memory:"
        if owned and self.path != ":memory:":
            # Checkpoints leave the loop's commits (see _Checkpointer).
            db.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
            self._checkpointer = _Checkpointer(self.path)

    @classmethod
    def read_only(cls, path: str | Path) -> SQLiteHistory:
        """The history in an existing file, for reading: the file is never written.

        A file at this schema is opened read-only. An older one is copied
        into memory and the copy migrated, so reading it (an export) never
        upgrades a file that an older server may still be using.

        Raises:
            HistoryVersionError: the file was written by a newer EasyChat.
            sqlite3.Error: the file is not a SQLite database.
        """
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        source = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            version = source.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:  # a newer one is refused by migrate()
                return cls(path, db=source)
            copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            source.backup(copy)
        except BaseException:
            source.close()
            raise
        source.close()
        return cls(path, db=copy)

    def close(self) -> None:
        """Commits what is pending and closes the file (SQLite checkpoints the WAL at close)."""
        self.commit()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None
        self.db.close()

    @property
    def syncs(self) -> bool:
        """Whether `commit(sync=False)` leaves an fsync to `sync` (a file opened here)."""
        return self._syncs

    def sync(self) -> None:
        """Fsyncs the WAL: every turn committed before the call is then durable.

        Thread-safe: it touches only a file descriptor of the WAL (the same
        inode SQLite writes), never the connection.

        Raises:
            OSError: the fsync failed.
        """
        if not self._syncs:
            return
        wal = self.path + "-wal"
        try:
            ino = os.stat(wal).st_ino
        except FileNotFoundError:
            return  # nothing written since the last close: nothing to sync
        if self._wal_fd is None or ino != self._wal_ino:
            if self._wal_fd is not None:
                os.close(self._wal_fd)
            self._wal_fd = os.open(wal, os.O_RDONLY)
            self._wal_ino = ino
        os.fsync(self._wal_fd)

    def checkpointed_frames(self) -> int:
        """WAL frames the checkpointer has copied into the database file so far."""
        return self._checkpointer.frames if self._checkpointer is not None else 0

    # -- writing -----------------------------------------------------------

    def append(self, record: Record) -> None:
        """Buffers a record for the current transaction.

        Records come in time order (the chat core's clock never goes
        backwards): the time queries rely on ids growing with time.
        """
        msg = record.message
        line = format_message(replace(msg, tags=record.tags) if record.tags else msg)
        self._pending.append((record.msgid, record.target, record.time_ms, msg.command, line))
        if "\0" in record.target:
            self._private = True

    def append_line(self, msgid: str, time_ms: int, target: str, command: str, line: str) -> None:
        """`append` for a message already formatted: `line` is `format_message`
        of it as relayed, with its client-only tags and no others."""
        self._pending.append((msgid, target, time_ms, command, line))
        if "\0" in target:
            self._private = True

    def _flush(self) -> None:
        if not self._pending:
            return
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True
        self.db.executemany(_INSERT_SQL, self._pending)
        if self._private:  # room rows (most of them) need no conversations entry
            self.db.executemany(CONVERSATION_SQL, conversations(row[1] for row in self._pending))
            self._private = False
        self._pending.clear()

    def commit(self, *, sync: bool = True) -> None:
        """Inserts what is buffered and commits the transaction; with `sync`, fsyncs it.

        `sync=False` leaves the fsync to a call of `sync`, which the server
        makes beside its loop before it sends the turn's output.

        Raises:
            HistoryWriteError: the database refused the write (disk full,
                I/O error); what was buffered is dropped.
        """
        try:
            self._flush()
            if self._in_tx:
                self.db.execute("COMMIT")
                self._in_tx = False
                if sync:
                    self.sync()
        except OSError as exc:
            raise HistoryWriteError(f"fsync: {exc}") from exc
        except sqlite3.Error as exc:
            self._pending.clear()
            self._private = False
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            self._in_tx = False
            raise HistoryWriteError(str(exc)) from exc

    # -- reading -----------------------------------------------------------

    def _query(self, sql: str, args: tuple[object, ...]) -> list[Record]:
        self._flush()
        return [_record(row) for row in self.db.execute(sql, args)]

    # Selectors become id bounds. Ids grow with time (the chat core never
    # lets time go backwards), so "after 12:00" is "after the last id at or
    # before 12:00" and every query walks the (target, id) index.

    def _first_id_at(self, time_ms: int) -> int:
        """An id bound for a time: records below it are older than `time_ms`,
        records at or above it are not.

        A binary search on the rowid (ids grow with time), so no index on
        time is kept: about 30 rowid lookups for a billion records.
        """
        self._flush()
        low, high = self.db.execute(
            "SELECT (SELECT MIN(id) FROM messages), (SELECT MAX(id) FROM messages)"
        ).fetchone()
        if low is None:
            return 1
        low, high = int(low), int(high) + 1
        while low < high:
            mid = (low + high) // 2
            seq, when = self.db.execute(
                "SELECT id, time_ms FROM messages WHERE id >= ? ORDER BY id LIMIT 1", (mid,)
            ).fetchone()
            if when >= time_ms:
                high = mid
            else:
                low = int(seq) + 1
        return low

    def _after_id(self, target: str, point: Selector) -> int | None:
        """Records after `point` have ids above this; None for an unknown msgid."""
        self._flush()
        if point.msgid is not None:
            return self._msgid_id(target, point.msgid)
        bound = self._first_id_at((point.time_ms or 0) + 1)
        row = self.db.execute(
            "SELECT MAX(id) FROM messages WHERE target = ? AND id < ?", (target, bound)
        ).fetchone()
        return int(row[0] or 0)

    def _before_id(self, target: str, point: Selector) -> int | None:
        """Records before `point` have ids below this; None for an unknown msgid."""
        self._flush()
        if point.msgid is not None:
            return self._msgid_id(target, point.msgid)
        bound = self._first_id_at(point.time_ms or 0)
        row = self.db.execute(
            "SELECT MIN(id) FROM messages WHERE target = ? AND id >= ?", (target, bound)
        ).fetchone()
        return int(row[0]) if row[0] is not None else _NO_ID

    def _msgid_id(self, target: str, msgid: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM messages WHERE msgid = ? AND target = ?", (msgid, target)
        ).fetchone()
        return None if row is None else int(row[0])

    # Both pages name their index: with statistics (ANALYZE, PRAGMA optimize)
    # SQLite may prefer walking the rowid backwards and filtering on target,
    # which reads the whole table for a quiet room among busy ones.

    def _older(self, target: str, below: int, limit: int, only: bool) -> list[Record]:
        rows = self._query(
            f"SELECT {_COLUMNS} FROM messages INDEXED BY messages_target_id"
            f" WHERE target = ? AND id < ?{_only(only)}"
            " ORDER BY id DESC LIMIT ?",
            (target, below, limit),
        )
        return rows[::-1]

    def _newer(self, target: str, above: int, limit: int, only: bool) -> list[Record]:
        return self._query(
            f"SELECT {_COLUMNS} FROM messages INDEXED BY messages_target_id"
            f" WHERE target = ? AND id > ?{_only(only)}"
            " ORDER BY id ASC LIMIT ?",
            (target, above, limit),
        )

    def latest(
        self,
        target: str,
        limit: int,
        after: Selector | None = None,
        *,
        messages_only: bool = False,
    ) -> list[Record]:
        """The last `limit` records, optionally only those after `after`."""
        newest = self._older(target, _NO_ID, limit, messages_only)
        if after is None:
            return newest
        above = self._after_id(target, after)
        if above is None:
            return []
        return [r for r in newest if r.seq > above]

    def before(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records just before `point` (exclusive)."""
        below = self._before_id(target, point)
        return [] if below is None else self._older(target, below, limit, messages_only)

    def after(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records just after `point` (exclusive)."""
        above = self._after_id(target, point)
        return [] if above is None else self._newer(target, above, limit, messages_only)

    def around(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records centred on `point` (a msgid's own record included)."""
        below = self._before_id(target, point)
        if below is None:
            return []
        # The point itself counts in the newer half, so a limit of 1 is the point.
        older = self._older(target, below, limit // 2, messages_only)
        return older + self._newer(target, below - 1, limit - len(older), messages_only)

    def between(
        self,
        target: str,
        start: Selector,
        end: Selector,
        limit: int,
        *,
        messages_only: bool = False,
    ) -> list[Record]:
        """Up to `limit` records strictly between two points.

        From `start` towards `end`: when `start` is the later point, the
        records nearest to it are returned (still in ascending order).
        """
        start_above, start_below = self._after_id(target, start), self._before_id(target, start)
        end_above, end_below = self._after_id(target, end), self._before_id(target, end)
        if start_above is None or start_below is None or end_above is None or end_below is None:
            return []
        if start_above <= end_above:
            rows = self._newer(target, start_above, limit, messages_only)
            return [r for r in rows if r.seq < end_below]
        rows = self._older(target, start_below, limit, messages_only)
        return [r for r in rows if r.seq > end_above]

    def targets(
        self, keys: list[str], start_ms: int, end_ms: int, limit: int
    ) -> list[tuple[str, int]]:
        """Of `keys`, those with records in the time range, with their latest time."""
        if not keys:
            return []
        low, high = min(start_ms, end_ms), max(start_ms, end_ms)
        above, below = self._first_id_at(low + 1), self._first_id_at(high)
        found: list[tuple[int, str, int]] = []
        for target in dict.fromkeys(keys):
            row = self.db.execute(
                "SELECT id, time_ms FROM messages WHERE id = (SELECT MAX(id) FROM messages"
                " WHERE target = ? AND id >= ? AND id < ?)",
                (target, above, below),
            ).fetchone()
            if row is not None:
                found.append((int(row[0]), target, int(row[1])))
        return [(target, latest) for _, target, latest in sorted(found)[:limit]]

    def private_keys(self, nick_key: str) -> list[str]:
        """The private-conversation keys that involve this casefolded nick."""
        self._flush()
        rows = self.db.execute(
            "SELECT target FROM conversations WHERE first = ?"
            " UNION SELECT target FROM conversations WHERE second = ?",
            (nick_key, nick_key),
        )
        return [str(target) for (target,) in rows]

    def prune(self, before_ms: int) -> int:
        """Deletes records older than `before_ms`; returns how many."""
        self.commit()
        bound = self._first_id_at(before_ms)
        cursor = self.db.execute("DELETE FROM messages WHERE id < ?", (bound,))
        return cursor.rowcount

    def forget(self, target: str) -> int:
        """Deletes every record of one target (a dropped room); returns how many."""
        self.commit()
        cursor = self.db.execute("DELETE FROM messages WHERE target = ?", (target,))
        return cursor.rowcount

    def last_time_ms(self) -> int:
        """The time of the newest record (0 when empty)."""
        self._flush()
        row = self.db.execute("SELECT time_ms FROM messages ORDER BY id DESC LIMIT 1").fetchone()
        return int(row[0]) if row is not None else 0

    def export(self, target: str) -> list[Record]:
        """Every record of one target, oldest first (for operators)."""
        return self._query(
            f"SELECT {_COLUMNS} FROM messages WHERE target = ? ORDER BY id ASC", (target,)
        )


def _only(messages_only: bool) -> str:
    """The SQL condition that keeps messages and drops room events."""
    return " AND command IN ('PRIVMSG', 'NOTICE', 'TAGMSG')" if messages_only else ""


def _record(row: Row) -> Record:
    seq, msgid, target, time_ms, line = row
    message = parse(line, strict=False)
    tags = message.tags
    if tags:
        message = replace(message, tags={})
    return Record(msgid, time_ms, target, message, tags, seq)

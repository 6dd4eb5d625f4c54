"""Provides SQLiteHistory: the server's durable message history (WAL, group commit)."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

from easychat.chat.history import HistoryWriteError, Record
from easychat.proto.message import format_message
from easychat.store import history_blocks as blocks
from easychat.store.history_blocks import OFFSET_BITS, Pending
from easychat.store.history_reads import NO_PLACE, BlockReads
from easychat.store.history_schema import (
    BLOCK_INSERT_SQL,
    CONVERSATION_SQL,
    SCHEMA_VERSION,
    HistoryVersionError,
    conversations,
    immediate,
    migrate,
)
from easychat.store.history_wal import WAL_BACKSTOP_PAGES, Checkpointer
from easychat.store.private import private_sqlite

__all__ = ["SCHEMA_VERSION", "WAL_BACKSTOP_PAGES", "HistoryVersionError", "SQLiteHistory"]


class SQLiteHistory(BlockReads):
    """History in one SQLite file (or ":memory:").

    `append` buffers records; they are inserted as blocks (one row per run
    of one target's records, see store/history_blocks.py) before any read
    and at `commit`, and `commit` ends the transaction, so a server loop
    turn costs one fsync however many messages it carried, and one row per
    room it spoke in.

    A record's `seq` is its place, `block id << OFFSET_BITS | offset`:
    places grow with time, and queries turn selectors into place bounds.
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
        self._pending: list[Pending] = []
        self._private = False  # whether _pending holds a private conversation's row
        self._in_tx = False
        self._checkpointer: Checkpointer | None = None
        self._wal_fd: int | None = None
        self._wal_ino = 0
        self._wal_lock = threading.Lock()  # guards _wal_fd for concurrent syncs
        self._syncs = owned and self.path != ":memory:"
        if owned and self.path != ":memory:":
            # Checkpoints leave the loop's commits (see _Checkpointer).
            db.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
            self._checkpointer = Checkpointer(self.path)

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

        An fdatasync, as SQLite's own syncs: the WAL's data and its size
        (what reading it back needs), not its modification time.

        Thread-safe, and several may run at once (net/syncer.py): each
        syncs its own duplicate of a descriptor of the WAL (the inode
        SQLite writes), never touching the connection.

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
        with self._wal_lock:
            if self._wal_fd is None or ino != self._wal_ino:
                if self._wal_fd is not None:
                    os.close(self._wal_fd)  # a sync running on it holds a duplicate
                self._wal_fd = os.open(wal, os.O_RDONLY)
                self._wal_ino = ino
            fd = os.dup(self._wal_fd)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

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
        self.db.executemany(BLOCK_INSERT_SQL, blocks.build(self._pending))
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

    def redact(self, target: str, msgid: str, time_ms: int, source: str) -> bool:
        """Removes one record of `target` in the current transaction; False if none.

        Its entry is emptied in its block (offsets of the others stay), so
        no query returns it again, and `redactions` notes who removed it and
        when. Like an append, it is durable at the next `commit`, which the
        server makes before the turn's output (the REDACT) is sent.
        """
        place = self._msgid_place(target, msgid)  # flushes what is buffered first
        if place is None:
            return False
        block_id, offset = place >> OFFSET_BITS, place & (blocks.BLOCK_CAP - 1)
        (body,) = self.db.execute("SELECT body FROM blocks WHERE id = ?", (block_id,)).fetchone()
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True
        self.db.execute(
            "UPDATE blocks SET body = ?, count = count - 1 WHERE id = ?",
            (blocks.remove_at(str(body), offset), block_id),
        )
        self.db.execute(
            "INSERT OR REPLACE INTO redactions (target, msgid, time_ms, source)"
            " VALUES (?, ?, ?, ?)",
            (target, msgid, time_ms, source),
        )
        return True

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
        bound = self._first_place_at(before_ms)
        first_kept, end = bound >> OFFSET_BITS, bound & (blocks.BLOCK_CAP - 1)
        with immediate(self.db):
            (removed,) = self.db.execute(
                "SELECT COALESCE(SUM(count), 0) FROM blocks WHERE id < ?", (first_kept,)
            ).fetchone()
            self.db.execute("DELETE FROM blocks WHERE id < ?", (first_kept,))
            self.db.execute("DELETE FROM redactions WHERE time_ms < ?", (before_ms,))
            row = self.db.execute("SELECT body FROM blocks WHERE id = ?", (first_kept,)).fetchone()
            if end and row is not None:
                body, held = blocks.remove_before(str(row[0]), end)
                self.db.execute(
                    "UPDATE blocks SET body = ?, count = count - ? WHERE id = ?",
                    (body, held, first_kept),
                )
                removed += held
        return int(removed)

    def forget(self, target: str) -> int:
        """Deletes every record of one target (a dropped room); returns how many."""
        self.commit()
        with immediate(self.db):
            (removed,) = self.db.execute(
                "SELECT COALESCE(SUM(count), 0) FROM blocks WHERE target = ?", (target,)
            ).fetchone()
            self.db.execute("DELETE FROM blocks WHERE target = ?", (target,))
            self.db.execute("DELETE FROM redactions WHERE target = ?", (target,))
        return int(removed)

    def rename(self, target: str, new: str) -> int:
        """Moves every record of one target to another key (a renamed room); returns how many.

        The records keep their lines, which name the room as it was called;
        CHATHISTORY replays them under its current name.
        """
        self.commit()
        with immediate(self.db):
            (moved,) = self.db.execute(
                "SELECT COALESCE(SUM(count), 0) FROM blocks WHERE target = ?", (target,)
            ).fetchone()
            self.db.execute("UPDATE blocks SET target = ? WHERE target = ?", (new, target))
        return int(moved)

    def last_time_ms(self) -> int:
        """The time of the newest record (0 when empty)."""
        self._flush()
        row = self.db.execute("SELECT last_ms FROM blocks ORDER BY id DESC LIMIT 1").fetchone()
        return int(row[0]) if row is not None else 0

    def export(self, target: str) -> list[Record]:
        """Every record of one target, oldest first (for operators)."""
        return self._newer(target, -1, NO_PLACE, False)

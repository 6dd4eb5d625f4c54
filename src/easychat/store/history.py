"""Provides SQLiteHistory: the server's durable message history (WAL, group commit)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from easychat.chat.history import HistoryWriteError, Record, Selector
from easychat.proto.message import Message, format_message, parse

# The schema version this code writes; older files are migrated on open.
SCHEMA_VERSION = 3


# Migration i takes a file from user_version i to i + 1; each runs in one
# transaction together with the version bump.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE messages (
        id      INTEGER PRIMARY KEY,
        msgid   TEXT NOT NULL UNIQUE,
        target  TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        command TEXT NOT NULL,
        source  TEXT,
        params  TEXT NOT NULL,
        tags    TEXT
    );
    -- "the latest 100 in a room" and "the 100 before this message":
    -- both walk this index from a point, never the table.
    CREATE INDEX messages_target_id ON messages (target, id);
    -- timestamp selectors and TARGETS.
    CREATE INDEX messages_target_time ON messages (target, time_ms);
    -- retention (--history-days).
    CREATE INDEX messages_time ON messages (time_ms);
    """,
    # 2: a msgid is unique per target, not overall: a QUIT or NICK is one
    # event with one msgid, stored in every room of the user. And the
    # private conversations get their own table, so "the conversations of
    # bob" is an index lookup (SQL string functions stop at the NUL that
    # separates the two nicks of a key).
    """
    CREATE TABLE messages_v2 (
        id      INTEGER PRIMARY KEY,
        msgid   TEXT NOT NULL,
        target  TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        command TEXT NOT NULL,
        source  TEXT,
        params  TEXT NOT NULL,
        tags    TEXT,
        UNIQUE (target, msgid)
    );
    INSERT INTO messages_v2 SELECT id, msgid, target, time_ms, command, source, params, tags
        FROM messages;
    DROP TABLE messages;
    ALTER TABLE messages_v2 RENAME TO messages;
    CREATE INDEX messages_target_id ON messages (target, id);
    CREATE INDEX messages_target_time ON messages (target, time_ms);
    CREATE INDEX messages_time ON messages (time_ms);
    CREATE TABLE conversations (
        target TEXT PRIMARY KEY,
        first  TEXT NOT NULL,
        second TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX conversations_first ON conversations (first);
    CREATE INDEX conversations_second ON conversations (second);
    """,
    # 3: a record is stored as the IRC line it was relayed as (client-only
    # tags included), not as JSON columns, and the two time indexes are
    # gone: ids grow with time, so a time is turned into an id bound by a
    # binary search on the rowid (see `_first_id_at`). Each message then
    # costs one table row and two index entries instead of five. The rows
    # are copied by `_migrate_to_3`, which formats each old one.
    """
    CREATE TABLE messages_v3 (
        id      INTEGER PRIMARY KEY,
        target  TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        msgid   TEXT NOT NULL,
        command TEXT NOT NULL,
        line    TEXT NOT NULL,
        UNIQUE (target, msgid)
    );
    """,
)

# Run after migration 3's statement and its copy, in the same transaction
# (one statement each: `executescript` would commit first).
_MIGRATION_3_END = (
    "DROP TABLE messages",
    "ALTER TABLE messages_v3 RENAME TO messages",
    "CREATE INDEX messages_target_id ON messages (target, id)",
)

_COLUMNS = "id, msgid, target, time_ms, line"

Row = tuple[int, str, str, int, str]

_INSERT_SQL = (
    "INSERT OR IGNORE INTO messages (msgid, target, time_ms, command, line) VALUES (?, ?, ?, ?, ?)"
)

# An id above every stored id.
_NO_ID = 1 << 62


class HistoryVersionError(Exception):
    """The database was written by a newer EasyChat."""


class SQLiteHistory:
    """History in one SQLite file (or ":memory:").

    `append` buffers rows; they are inserted with one `executemany` before
    any read and at `commit`, and `commit` ends the transaction, so a server
    loop turn costs one fsync however many messages it carried.
    """

    def __init__(self, path: str | Path, *, db: sqlite3.Connection | None = None) -> None:
        """Opens (creating or migrating) the history in `path`; with `db`, uses that connection."""
        self.path = str(path)
        if db is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed turn survives power loss, not only a crash.
            db.execute("PRAGMA synchronous=FULL")
        self.db = db
        self._migrate()
        self._pending: list[tuple[str, str, int, str, str]] = []
        self._in_tx = False

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
            if version >= SCHEMA_VERSION:  # a newer one is refused by _migrate
                return cls(path, db=source)
            copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            source.backup(copy)
        except BaseException:
            source.close()
            raise
        source.close()
        return cls(path, db=copy)

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryVersionError(
                f"{self.path} has history schema {version}; this EasyChat knows {SCHEMA_VERSION}"
            )
        for step in range(version, SCHEMA_VERSION):
            if step == 2:
                self._migrate_to_3()
                continue
            self.db.executescript(
                f"BEGIN IMMEDIATE; {_MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;"
            )
        if 0 < version < 2:  # private conversations written before the table existed
            rows = self.db.execute("SELECT DISTINCT target FROM messages").fetchall()
            self.db.executemany(_CONVERSATION_SQL, _conversations(str(t) for (t,) in rows))

    def _migrate_to_3(self) -> None:
        """Copies every schema-2 row into the line format, in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(_MIGRATIONS[2])
            old = self.db.execute(
                "SELECT id, msgid, target, time_ms, command, source, params, tags"
                " FROM messages ORDER BY id"
            )
            while rows := old.fetchmany(1000):
                self.db.executemany(
                    "INSERT INTO messages_v3 (id, target, time_ms, msgid, command, line)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (seq, target, time_ms, msgid, command, _line(command, source, params, tags))
                        for seq, msgid, target, time_ms, command, source, params, tags in rows
                    ],
                )
            for statement in _MIGRATION_3_END:
                self.db.execute(statement)
            self.db.execute("PRAGMA user_version = 3")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Commits what is pending and closes the file."""
        self.commit()
        self.db.close()

    # -- writing -----------------------------------------------------------

    def append(self, record: Record) -> None:
        """Buffers a record for the current transaction.

        Records come in time order (the chat core's clock never goes
        backwards): the time queries rely on ids growing with time.
        """
        msg = record.message
        line = format_message(replace(msg, tags=record.tags) if record.tags else msg)
        self._pending.append((record.msgid, record.target, record.time_ms, msg.command, line))

    def append_line(self, msgid: str, time_ms: int, target: str, command: str, line: str) -> None:
        """`append` for a message already formatted: `line` is `format_message`
        of it as relayed, with its client-only tags and no others."""
        self._pending.append((msgid, target, time_ms, command, line))

    def _flush(self) -> None:
        if not self._pending:
            return
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True
        self.db.executemany(_INSERT_SQL, self._pending)
        self.db.executemany(_CONVERSATION_SQL, _conversations(row[1] for row in self._pending))
        self._pending.clear()

    def commit(self) -> None:
        """Inserts what is buffered and commits the transaction (one fsync).

        Raises:
            HistoryWriteError: the database refused the write (disk full,
                I/O error); what was buffered is dropped.
        """
        try:
            self._flush()
            if self._in_tx:
                self.db.execute("COMMIT")
                self._in_tx = False
        except sqlite3.Error as exc:
            self._pending.clear()
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


_CONVERSATION_SQL = "INSERT OR IGNORE INTO conversations (target, first, second) VALUES (?, ?, ?)"


def _conversations(targets: Iterable[str]) -> list[tuple[str, str, str]]:
    """The private-conversation keys among `targets`, with their two nicks."""
    found: dict[str, tuple[str, str, str]] = {}
    for target in targets:
        first, sep, second = target.partition("\0")
        if sep and target not in found:
            found[target] = (target, first, second)
    return list(found.values())


def _record(row: Row) -> Record:
    seq, msgid, target, time_ms, line = row
    message = parse(line, strict=False)
    tags = message.tags
    if tags:
        message = replace(message, tags={})
    return Record(msgid, time_ms, target, message, tags, seq)


def _line(command: str, source: str | None, params: str, tags: str | None) -> str:
    """A schema-2 row (JSON params and tags) as the line schema 3 stores."""
    message = Message(command, tuple(json.loads(params)), source, json.loads(tags) if tags else {})
    return format_message(message)

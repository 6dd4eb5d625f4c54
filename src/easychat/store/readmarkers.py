"""Provides SQLiteReadMarkers: accounts' read markers (draft/read-marker) in SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from easychat.chat.readmarkers import MarkerStoreError

# The read markers schema this code writes, kept in its own table (not the
# file's user_version, which belongs to the history schema; accounts and
# rooms have theirs).
SCHEMA_VERSION = 1

# Migration i takes the read markers schema from version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    # 1: one row per account and conversation, both casefolded; `time_ms`
    # is the newest message read there, in milliseconds since the epoch.
    """
    CREATE TABLE read_markers (
        account TEXT NOT NULL,
        target  TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        PRIMARY KEY (account, target)
    ) WITHOUT ROWID;
    """,
)


class ReadMarkersVersionError(Exception):
    """The database holds a read markers schema newer than this EasyChat knows."""


class SQLiteReadMarkers:
    """Read markers in a SQLite database, sharing the history's connection or its own.

    As with rooms (store/rooms.py): on the history's connection a write made
    while the loop turn has history pending joins that turn's transaction
    and is committed with it; otherwise it is committed at once (the
    connection is in autocommit). Writes come from the loop thread only.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._migrate()

    @classmethod
    def open(cls, path: str | Path) -> SQLiteReadMarkers:
        """Read markers in their own connection to `path` (for tools and tests)."""
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        return cls(db)

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS read_markers_schema (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM read_markers_schema").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise ReadMarkersVersionError(
                f"read markers schema {version}; this EasyChat knows {SCHEMA_VERSION}"
            )
        for step in range(version, SCHEMA_VERSION):
            self.db.executescript(
                f"BEGIN IMMEDIATE; {_MIGRATIONS[step]};"
                " DELETE FROM read_markers_schema;"
                f" INSERT INTO read_markers_schema (version) VALUES ({step + 1}); COMMIT;"
            )

    def get_marker(self, account: str, target: str) -> int | None:
        """The stored marker of `account` on `target` (both casefolded), if any."""
        try:
            row = self.db.execute(
                "SELECT time_ms FROM read_markers WHERE account = ? AND target = ?",
                (account, target),
            ).fetchone()
        except sqlite3.Error as exc:
            raise MarkerStoreError(str(exc)) from exc
        return None if row is None else int(row[0])

    def count_markers(self, account: str) -> int:
        """How many targets `account` has a marker on."""
        try:
            row = self.db.execute(
                "SELECT COUNT(*) FROM read_markers WHERE account = ?", (account,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise MarkerStoreError(str(exc)) from exc
        return int(row[0])

    def set_marker(self, account: str, target: str, time_ms: int) -> None:
        """Stores the marker of `account` on `target`, replacing the old one."""
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO read_markers (account, target, time_ms) VALUES (?, ?, ?)",
                (account, target, time_ms),
            )
        except sqlite3.Error as exc:
            raise MarkerStoreError(str(exc)) from exc

    def close(self) -> None:
        """Closes the connection (only when opened with `open`)."""
        self.db.close()

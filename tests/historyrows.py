"""What a history file holds, read through any SQLite connection (another process's view)."""

from __future__ import annotations

import sqlite3

from easychat.store.history_blocks import walk

# place, target, time_ms, msgid, command, line
StoredRow = tuple[int, str, int, str, str, str]


def stored_rows(db: sqlite3.Connection) -> list[StoredRow]:
    """Every record committed (or in `db`'s own transaction), in the order stored."""
    targets = dict(db.execute("SELECT id, target FROM blocks").fetchall())
    rows = db.execute("SELECT id, body FROM blocks ORDER BY id").fetchall()
    return [
        (place, targets[place >> 12], e.time_ms, e.msgid, e.command, e.line)
        for place, e in walk(rows)
    ]


def stored_lines(db: sqlite3.Connection, command: str) -> list[str]:
    """The lines of the records with this command, in the order stored."""
    return [row[5] for row in stored_rows(db) if row[4] == command]

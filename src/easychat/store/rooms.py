"""Provides SQLiteRooms: kept rooms (modes, topic, bans, invitations, operators) in SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from easychat.chat.rooms import StoredRoom
from easychat.chat.state import Ban

# The rooms schema this code writes, kept in its own table (not the file's
# user_version, which belongs to the history schema; accounts have theirs).
SCHEMA_VERSION = 1

# Migration i takes the rooms schema from version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    # 1: one row per kept room (chat/rooms.py). The lists (bans, invited
    # accounts, operator accounts) are JSON arrays in the row, so a change
    # is one statement, atomic without a transaction of its own; `modes`
    # holds the flag modes (e.g. "imnst").
    """
    CREATE TABLE rooms (
        folded       TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        created      INTEGER NOT NULL,
        modes        TEXT NOT NULL,
        key          TEXT,
        user_limit   INTEGER,
        topic        TEXT NOT NULL,
        topic_setter TEXT NOT NULL,
        topic_time   INTEGER NOT NULL,
        bans         TEXT NOT NULL,
        invited      TEXT NOT NULL,
        operators    TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
)

_COLUMNS = (
    "folded, name, created, modes, key, user_limit, topic, topic_setter, topic_time,"
    " bans, invited, operators"
)


class RoomsVersionError(Exception):
    """The database holds a rooms schema newer than this EasyChat knows."""


class SQLiteRooms:
    """Kept rooms in a SQLite database, sharing the history's connection or its own.

    As with accounts (store/accounts.py): on the history's connection a
    write made while the loop turn has history pending joins that turn's
    transaction and is committed with it; otherwise it is committed at once
    (the connection is in autocommit). Writes come from the loop thread only.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._migrate()

    @classmethod
    def open(cls, path: str | Path) -> SQLiteRooms:
        """Rooms in their own connection to `path` (for tools and tests)."""
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        return cls(db)

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS rooms_schema (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM rooms_schema").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise RoomsVersionError(f"rooms schema {version}; this EasyChat knows {SCHEMA_VERSION}")
        for step in range(version, SCHEMA_VERSION):
            self.db.executescript(
                f"BEGIN IMMEDIATE; {_MIGRATIONS[step]};"
                " DELETE FROM rooms_schema;"
                f" INSERT INTO rooms_schema (version) VALUES ({step + 1}); COMMIT;"
            )

    def load_rooms(self) -> list[StoredRoom]:
        """Every stored room, by name."""
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM rooms ORDER BY folded")
        return [_room(row) for row in rows]

    def save_room(self, room: StoredRoom) -> None:
        """Stores a room, replacing what was stored under its name."""
        # One list for the three type A modes: a ban is [mask, setter, time],
        # an exception or invite exception carries its mode letter fourth.
        bans: list[list[object]] = [[b.mask, b.setter, b.set_at] for b in room.bans]
        bans += [[b.mask, b.setter, b.set_at, "e"] for b in room.excepts]
        bans += [[b.mask, b.setter, b.set_at, "I"] for b in room.invexes]
        self.db.execute(
            f"INSERT OR REPLACE INTO rooms ({_COLUMNS}) VALUES ({', '.join('?' * 12)})",
            (
                room.folded,
                room.name,
                room.created,
                "".join(sorted(room.modes)),
                room.key,
                room.limit,
                room.topic,
                room.topic_setter,
                room.topic_time,
                json.dumps(bans),
                json.dumps(sorted(room.invited_accounts)),
                json.dumps(sorted(room.op_accounts)),
            ),
        )

    def remove_room(self, folded: str) -> None:
        """Forgets the room with this casefolded name, if stored."""
        self.db.execute("DELETE FROM rooms WHERE folded = ?", (folded,))

    def close(self) -> None:
        """Closes the connection (only when opened with `open`)."""
        self.db.close()


def _room(row: tuple[object, ...]) -> StoredRoom:
    (_, name, created, modes, key, limit, topic, setter, when, bans, invited, ops) = row
    lists: dict[str, list[Ban]] = {"b": [], "e": [], "I": []}
    for entry in json.loads(str(bans)):
        mask, who, at, *kind = entry
        lists[str(kind[0]) if kind else "b"].append(Ban(str(mask), str(who), int(at)))
    return StoredRoom(
        name=str(name),
        created=int(str(created)),
        modes=frozenset(str(modes)),
        key=None if key is None else str(key),
        limit=None if limit is None else int(str(limit)),
        topic=str(topic),
        topic_setter=str(setter),
        topic_time=int(str(when)),
        bans=tuple(lists["b"]),
        invited_accounts=frozenset(str(a) for a in json.loads(str(invited))),
        op_accounts=frozenset(str(a) for a in json.loads(str(ops))),
        excepts=tuple(lists["e"]),
        invexes=tuple(lists["I"]),
    )

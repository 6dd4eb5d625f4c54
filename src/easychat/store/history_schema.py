"""Provides the history file's schema: its versions, and the migrations between them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from easychat.proto.message import Message, format_message
from easychat.store.history_blocks import BLOCK_CAP, build


class HistoryVersionError(Exception):
    """The database was written by a newer EasyChat."""


# The schema version this code writes; older files are migrated on open.
SCHEMA_VERSION = 5


# Migration i takes a file from user_version i to i + 1; each runs in one
# transaction together with the version bump.
MIGRATIONS: tuple[str, ...] = (
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
    # 4: one row per run of one target's records (store/history_blocks.py),
    # so a turn that relays 200 lines into a room costs one row and two
    # index entries instead of 200 rows and 400 entries. A msgid is found
    # by its run and counter (blocks_msgid), not by an index entry of its
    # own. The rows are copied by `_migrate_to_4`.
    """
    CREATE TABLE blocks (
        id           INTEGER PRIMARY KEY,
        target       TEXT NOT NULL,
        last_ms      INTEGER NOT NULL,
        run          TEXT NOT NULL,
        last_counter INTEGER NOT NULL,
        count        INTEGER NOT NULL,
        body         TEXT NOT NULL
    );
    """,
    # 5: message redaction (IRCv3 draft/message-redaction). A redacted
    # record's entry is emptied in its block, as retention does, so no read
    # ever finds it; this table keeps who redacted which msgid and when
    # (never the text), for operators and so a redaction is not repeated.
    """
    CREATE TABLE redactions (
        target  TEXT NOT NULL,
        msgid   TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        source  TEXT NOT NULL,
        PRIMARY KEY (target, msgid)
    ) WITHOUT ROWID;
    CREATE INDEX redactions_time ON redactions (time_ms);
    """,
)

# Run after migration 3's statement and its copy, in the same transaction
# (one statement each: `executescript` would commit first).
MIGRATION_3_END = (
    "DROP TABLE messages",
    "ALTER TABLE messages_v3 RENAME TO messages",
    "CREATE INDEX messages_target_id ON messages (target, id)",
)

# Run after migration 4's statement and its copy, in the same transaction.
MIGRATION_4_END = (
    "DROP TABLE messages",
    "CREATE INDEX blocks_target_id ON blocks (target, id)",
    "CREATE INDEX blocks_msgid ON blocks (target, run, last_counter)",
)


def migrate(db: sqlite3.Connection, path: str) -> None:
    """Brings the history in `db` (the file `path`) to SCHEMA_VERSION.

    Raises:
        HistoryVersionError: the file was written by a newer EasyChat.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryVersionError(
            f"{path} has history schema {version}; this EasyChat knows {SCHEMA_VERSION}"
        )
    for step in range(version, SCHEMA_VERSION):
        if step == 2:
            _migrate_to_3(db)
            continue
        if step == 3:
            _migrate_to_4(db)
            continue
        db.executescript(
            f"BEGIN IMMEDIATE; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;"
        )
    if 0 < version < 2:  # private conversations written before the table existed
        rows = db.execute("SELECT DISTINCT target FROM blocks").fetchall()
        db.executemany(CONVERSATION_SQL, conversations(str(t) for (t,) in rows))


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (BEGIN IMMEDIATE): committed, or rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _migrate_to_3(db: sqlite3.Connection) -> None:
    """Copies every schema-2 row into the line format, in one transaction."""
    with immediate(db):
        db.execute(MIGRATIONS[2])
        old = db.execute(
            "SELECT id, msgid, target, time_ms, command, source, params, tags"
            " FROM messages ORDER BY id"
        )
        while rows := old.fetchmany(1000):
            db.executemany(
                "INSERT INTO messages_v3 (id, target, time_ms, msgid, command, line)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (seq, target, time_ms, msgid, command, _line(command, source, params, tags))
                    for seq, msgid, target, time_ms, command, source, params, tags in rows
                ],
            )
        for statement in MIGRATION_3_END:
            db.execute(statement)
        db.execute("PRAGMA user_version = 3")


def _migrate_to_4(db: sqlite3.Connection) -> None:
    """Copies every schema-3 row into blocks, in one transaction."""
    with immediate(db):
        db.execute(MIGRATIONS[3])
        old = db.execute("SELECT msgid, target, time_ms, command, line FROM messages ORDER BY id")
        while rows := old.fetchmany(BLOCK_CAP):
            db.executemany(BLOCK_INSERT_SQL, build(rows))
        for statement in MIGRATION_4_END:
            db.execute(statement)
        db.execute("PRAGMA user_version = 4")


BLOCK_INSERT_SQL = (
    "INSERT INTO blocks (target, last_ms, run, last_counter, count, body) VALUES (?, ?, ?, ?, ?, ?)"
)

CONVERSATION_SQL = "INSERT OR IGNORE INTO conversations (target, first, second) VALUES (?, ?, ?)"


def conversations(targets: Iterable[str]) -> list[tuple[str, str, str]]:
    """The private-conversation keys among `targets`, with their two nicks."""
    found: dict[str, tuple[str, str, str]] = {}
    for target in targets:
        first, sep, second = target.partition("\0")
        if sep and target not in found:
            found[target] = (target, first, second)
    return list(found.values())


def _line(command: str, source: str | None, params: str, tags: str | None) -> str:
    """A schema-2 row (JSON params and tags) as the line schema 3 stores."""
    message = Message(command, tuple(json.loads(params)), source, json.loads(tags) if tags else {})
    return format_message(message)

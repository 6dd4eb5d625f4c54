"""Provides the client's local log: one SQLite file per server, every conversation in it."""

from __future__ import annotations

import math
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from easychat.proto.names import casefold
from easychat.store.private import private_sqlite


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One logged line of a conversation."""

    time: float
    kind: str
    sender: str
    text: str
    own: bool
    msgid: str | None


class LogVersionError(Exception):
    """The log file was written by a newer EasyChat with a schema we do not know."""


def _migrate_to_1(db: sqlite3.Connection) -> None:
    # `conversations` keeps the spelling last used for display; `lines.conv`
    # holds the casefolded name, so lookups ignore case.
    db.execute(
        "CREATE TABLE conversations ( conv TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE lines ("
        " id INTEGER PRIMARY KEY,"
        " conv TEXT NOT NULL,"
        " time REAL NOT NULL,"
        " kind TEXT NOT NULL,"
        " sender TEXT NOT NULL,"
        " text TEXT NOT NULL,"
        " own INTEGER NOT NULL,"
        " msgid TEXT"
        ")"
    )
    # "The last N lines of a conversation" walks this index backwards.
    db.execute("CREATE INDEX lines_by_conv_time ON lines (conv, time, id)")
    # IRCv3 message-ids: a message seen twice (echo, history replay) is logged once.
    db.execute("CREATE UNIQUE INDEX lines_msgid ON lines (conv, msgid) WHERE msgid IS NOT NULL")


# Step i migrates a file from schema version i to i + 1; a new version appends a step.
_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migrate_to_1,)

SCHEMA_VERSION = len(_MIGRATIONS)


class ClientLog:
    """The local log of one server's conversations, in one SQLite file.

    Conversations are matched case-insensitively (CASEMAPPING=ascii); the
    spelling most recently appended is the one `conversations` shows.
    """

    def __init__(self, path: Path) -> None:
        """Opens the log at `path`, creating it and its directories if needed.

        Args:
            path: The SQLite file, e.g. from `log_path`.

        Raises:
            LogVersionError: If the file has a newer schema than this code knows.
            sqlite3.Error: If the file cannot be opened or is not a database.
        """
        private_sqlite(path)  # private messages: 0600 in 0700 directories
        # isolation_level=None: each append commits on its own; migrations
        # open their own transactions.
        self._db = sqlite3.connect(path, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL loses at most the last commits on power loss,
            # never corrupts, and saves an fsync per append.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except BaseException:
            self._db.close()
            raise
        self._closed = False

    def _migrate(self) -> None:
        version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LogVersionError(
                f"log schema version {version} is newer than {SCHEMA_VERSION}; "
                "upgrade EasyChat or use another --log-dir"
            )
        for step in range(version, SCHEMA_VERSION):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                _MIGRATIONS[step](self._db)
                self._db.execute(f"PRAGMA user_version = {step + 1}")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def append(
        self,
        conversation: str,
        when: float,
        kind: str,
        sender: str,
        text: str,
        *,
        own: bool = False,
        msgid: str | None = None,
    ) -> None:
        """Logs one line of a conversation.

        A line whose `msgid` is already logged in the same conversation is ignored.

        Args:
            conversation: The room or nick, in the spelling to display.
            when: The time of the line, in seconds since the epoch.
            kind: "message", "action", "notice" or "event".
            sender: The nick that sent it ("" for events without one).
            text: The text, as received.
            own: Whether the user sent it.
            msgid: The IRCv3 message id, when the server gave one.
        """
        conv = casefold(conversation)
        self._db.execute("BEGIN")
        try:
            self._db.execute(
                "INSERT INTO conversations (conv, name) VALUES (?, ?)"
                " ON CONFLICT (conv) DO UPDATE SET name = excluded.name",
                (conv, conversation),
            )
            self._db.execute(
                "INSERT INTO lines (conv, time, kind, sender, text, own, msgid)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (conv, msgid) WHERE msgid IS NOT NULL DO NOTHING",
                (conv, when, kind, sender, text, int(own), msgid),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def redact(self, conversation: str, msgid: str, kind: str, text: str) -> None:
        """Rewrites a logged message that was deleted (REDACT): its kind and text,
        so its words are gone from the file and a restart shows it deleted.

        Args:
            conversation: The room or nick, in any case.
            msgid: The deleted message's IRCv3 message id.
            kind: Its new kind ("deleted").
            text: What it says now, in place of the text.
        """
        self._db.execute(
            "UPDATE lines SET kind = ?, text = ? WHERE conv = ? AND msgid = ?",
            (kind, text, casefold(conversation), msgid),
        )

    def recent(self, conversation: str, limit: int = 50) -> list[LogEntry]:
        """The last lines of a conversation, oldest first.

        Lines are ordered by their time, then by the order they were logged.

        Args:
            conversation: The room or nick, in any case.
            limit: How many lines at most.

        Returns:
            Up to `limit` entries, the most recent last.
        """
        return self.before(conversation, math.inf, limit)

    def before(self, conversation: str, when: float, limit: int = 50) -> list[LogEntry]:
        """The last lines of a conversation at or before `when`, oldest first.

        Lines of the same time as `when` are included, so none is skipped
        when several share a time; the caller drops those it has.

        Args:
            conversation: The room or nick, in any case.
            when: The time of the oldest line the caller has.
            limit: How many lines at most.

        Returns:
            Up to `limit` entries, the most recent last.
        """
        if limit <= 0:
            return []
        rows = self._db.execute(
            "SELECT time, kind, sender, text, own, msgid FROM lines"
            " WHERE conv = ? AND time <= ? ORDER BY time DESC, id DESC LIMIT ?",
            (casefold(conversation), when, limit),
        ).fetchall()
        return [
            LogEntry(time, kind, sender, text, bool(own), msgid)
            for time, kind, sender, text, own, msgid in reversed(rows)
        ]

    def conversations(self) -> list[str]:
        """The logged conversations, in their display spelling, sorted case-insensitively."""
        rows = self._db.execute("SELECT name FROM conversations ORDER BY conv").fetchall()
        return [name for (name,) in rows]

    def close(self) -> None:
        """Closes the file; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._db.close()

    def __enter__(self) -> ClientLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def default_log_dir() -> Path:
    """The directory for local logs: `$XDG_DATA_HOME/easychat/logs`.

    Per the XDG Base Directory spec, an unset, empty or relative
    `XDG_DATA_HOME` means `~/.local/share`.

    Returns:
        The directory (not created).
    """
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "easychat" / "logs"


# Anything but these becomes '_' in a file name: no separators, no ':' (IPv6,
# Windows drives), no control or shell-special characters.
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9.-]")


def log_path(log_dir: Path, host: str, port: int) -> Path:
    """The log file for one server, e.g. `127.0.0.1_6667.sqlite3`.

    Host names are lowercased (DNS ignores case), IPv6 brackets are dropped,
    and every character that is not a letter, digit, '.' or '-' becomes '_'.

    Args:
        log_dir: The directory of logs, e.g. from `default_log_dir`.
        host: The server's host name or address, or `unix:/path` (see parse_address).
        port: The server's port (unused for a Unix socket).

    Returns:
        The path of the SQLite file inside `log_dir`.
    """
    if host.startswith("unix:"):  # a Unix socket: its path names the log, case kept
        return log_dir / f"{_UNSAFE_FILENAME.sub('_', host.replace(':/', '_', 1))}.sqlite3"
    name = _UNSAFE_FILENAME.sub("_", host.strip("[]").lower())
    return log_dir / f"{name}_{port}.sqlite3"

"""Provides SQLiteAccounts: registered accounts in the server's SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from easychat.chat.identity.accounts import Account
from easychat.chat.protection.access import Kline
from easychat.proto.names import casefold

# The accounts schema this code writes, kept in its own table (not the
# file's user_version, which belongs to the history schema).
SCHEMA_VERSION = 2

# Migration i takes the accounts schema from version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        folded        TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        email         TEXT,
        created_ms    INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: K-lines, so that a server ban outlives a restart. `expires` is in
    # seconds since the epoch (the core's clock); NULL: until UNKLINE.
    """
    CREATE TABLE klines (
        mask    TEXT PRIMARY KEY,
        reason  TEXT NOT NULL,
        setter  TEXT NOT NULL,
        expires REAL
    ) WITHOUT ROWID;
    """,
)


class AccountsVersionError(Exception):
    """The database holds an accounts schema newer than this EasyChat knows."""


class SQLiteAccounts:
    """Accounts and K-lines in a SQLite database, sharing the history's connection or its own.

    Sharing the history store's connection (`SQLiteHistory.db`) keeps one
    writer on the file: an account created while the loop turn has history
    pending joins that turn's transaction and is committed with it;
    otherwise it is committed at once (the connection is in autocommit).
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._migrate()

    @classmethod
    def open(cls, path: str | Path) -> SQLiteAccounts:
        """Accounts in their own connection to `path` (for tools and tests)."""
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        return cls(db)

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS accounts_schema (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM accounts_schema").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise AccountsVersionError(
                f"accounts schema {version}; this EasyChat knows {SCHEMA_VERSION}"
            )
        for step in range(version, SCHEMA_VERSION):
            self.db.executescript(
                f"BEGIN IMMEDIATE; {_MIGRATIONS[step]};"
                " DELETE FROM accounts_schema;"
                f" INSERT INTO accounts_schema (version) VALUES ({step + 1}); COMMIT;"
            )

    def get(self, name: str) -> Account | None:
        """The account called `name` (casefolded), if any."""
        row = self.db.execute(
            "SELECT name, password_hash, email, created_ms FROM accounts WHERE folded = ?",
            (casefold(name),),
        ).fetchone()
        return None if row is None else Account(str(row[0]), str(row[1]), row[2], int(row[3]))

    def create(self, account: Account) -> bool:
        """Stores a new account; False when its name is taken."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO accounts (folded, name, password_hash, email, created_ms)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                casefold(account.name),
                account.name,
                account.password_hash,
                account.email,
                account.created_ms,
            ),
        )
        return cursor.rowcount == 1

    # -- K-lines (the core's KlineStore) ------------------------------------

    def load_klines(self) -> list[Kline]:
        """Every stored K-line."""
        rows = self.db.execute("SELECT mask, reason, setter, expires FROM klines ORDER BY mask")
        return [
            Kline(str(mask), str(reason), str(setter), None if until is None else float(until))
            for mask, reason, setter, until in rows
        ]

    def save_kline(self, kline: Kline) -> None:
        """Stores a K-line, replacing one on the same mask."""
        self.db.execute(
            "INSERT OR REPLACE INTO klines (mask, reason, setter, expires) VALUES (?, ?, ?, ?)",
            (kline.mask, kline.reason, kline.setter, kline.expires),
        )

    def remove_kline(self, mask: str) -> None:
        """Forgets the K-line on `mask`, if any."""
        self.db.execute("DELETE FROM klines WHERE mask = ?", (mask,))

    def close(self) -> None:
        """Closes the connection (only when opened with `open`)."""
        self.db.close()

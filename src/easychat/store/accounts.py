"""Provides SQLiteAccounts: registered accounts in the server's SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from easychat.chat.identity.accounts import Account
from easychat.chat.protection.access import Kline
from easychat.proto.names import casefold
from easychat.proto.scram import ScramKeys

# The accounts schema this code writes, kept in its own table (not the
# file's user_version, which belongs to the history schema).
SCHEMA_VERSION = 3

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
    # 3: SCRAM-SHA-256 keys (RFC 5802 section 5: salt, iteration count,
    # StoredKey, ServerKey). NULL for accounts made before: their next PLAIN
    # login fills them in, once the password is known again.
    """
    ALTER TABLE accounts ADD COLUMN scram_salt BLOB;
    ALTER TABLE accounts ADD COLUMN scram_iterations INTEGER;
    ALTER TABLE accounts ADD COLUMN scram_stored_key BLOB;
    ALTER TABLE accounts ADD COLUMN scram_server_key BLOB;
    """,
)

_COLUMNS = (
    "name, password_hash, email, created_ms,"
    " scram_salt, scram_iterations, scram_stored_key, scram_server_key"
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
            f"SELECT {_COLUMNS} FROM accounts WHERE folded = ?", (casefold(name),)
        ).fetchone()
        if row is None:
            return None
        name, password_hash, email, created_ms, salt, iterations, stored, server = row
        keys = None
        if salt is not None and iterations is not None and stored is not None and server:
            keys = ScramKeys(bytes(salt), int(iterations), bytes(stored), bytes(server))
        return Account(str(name), str(password_hash), email, int(created_ms), keys)

    def create(self, account: Account) -> bool:
        """Stores a new account; False when its name is taken."""
        keys = account.scram
        scram = (
            (None, None, None, None)
            if keys is None
            else (keys.salt, keys.iterations, keys.stored_key, keys.server_key)
        )
        cursor = self.db.execute(
            f"INSERT OR IGNORE INTO accounts (folded, {_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                casefold(account.name),
                account.name,
                account.password_hash,
                account.email,
                account.created_ms,
                *scram,
            ),
        )
        return cursor.rowcount == 1

    def set_scram(self, name: str, keys: ScramKeys) -> None:
        """Gives the account called `name` its SCRAM keys."""
        self.db.execute(
            "UPDATE accounts SET scram_salt = ?, scram_iterations = ?, scram_stored_key = ?,"
            " scram_server_key = ? WHERE folded = ?",
            (keys.salt, keys.iterations, keys.stored_key, keys.server_key, casefold(name)),
        )

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

"""Provides HistorySearch: a full-text index (SQLite FTS5) of the history's messages."""

from __future__ import annotations

import logging
import re
import sqlite3

from easychat.chat.history import Record
from easychat.chat.search import SearchQuery
from easychat.proto.message import parse
from easychat.proto.names import casefold
from easychat.store.history import SQLiteHistory
from easychat.store.history_blocks import OFFSET_BITS
from easychat.store.history_reads import NO_PLACE, record_at

# The search schema this code writes, kept in its own table (not the file's
# user_version, which belongs to the history schema; rooms and accounts
# have theirs).
SCHEMA_VERSION = 1

# Migration i takes the search schema from version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    # 1: one contentless FTS5 row per PRIVMSG or NOTICE, its rowid the
    # record's place in the history (block id << OFFSET_BITS | offset), so
    # the text is stored once, in its block, and read from there; a match
    # whose record retention removed is simply not found there. `target`
    # and `sender` hold one token each (`token`), so a query names the
    # conversations it may read inside the MATCH and FTS5 finds nothing
    # else. remove_diacritics 0: a match is the word as written, which is
    # also what `_holds` checks.
    """
    CREATE VIRTUAL TABLE search_text USING fts5(
        body, target, sender, content='', tokenize='unicode61 remove_diacritics 0'
    );
    CREATE TABLE search_state (indexed INTEGER NOT NULL);
    INSERT INTO search_state (indexed) VALUES (-1);
    """,
)

log = logging.getLogger("easychat.search")

# An FTS5 row: the record's place, its text, its target's and sender's tokens.
IndexRow = tuple[int, str, str, str]

_INSERT_SQL = "INSERT INTO search_text (rowid, body, target, sender) VALUES (?, ?, ?, ?)"

_LAST_OFFSET = (1 << OFFSET_BITS) - 1  # a block's last possible place, as the mark of a done one

_INDEXED_COMMANDS = frozenset(("PRIVMSG", "NOTICE"))

# unicode61's token characters: letters, numbers and private-use (no "_").
_TOKEN = re.compile(r"[^\W_]+")


class SearchVersionError(Exception):
    """The database holds a search schema newer than this EasyChat knows."""


def token(key: str) -> str:
    """A history key or nick as one FTS5 token: `k` and its UTF-8 in hex."""
    return "k" + key.encode("utf-8", "surrogateescape").hex()


def searchable_text(text: str) -> str | None:
    """The text of a message as searched: a /me without its CTCP framing, no other CTCP."""
    if text.startswith("\x01"):
        if text.startswith("\x01ACTION "):
            return text[8:].removesuffix("\x01")
        return None
    return text


class HistorySearch:
    """A full-text index over an SQLiteHistory's blocks, in the same file.

    Indexing follows the places (`search_state.indexed`: the place of the
    last record looked at, a block's last possible place once it is done,
    -1 before the first), a bounded step at a time, on the history's
    connection and thread: the server loop calls `index_some` in turns that relay
    nothing. A step inside a turn's open transaction joins it; otherwise
    it commits on its own, without an fsync of its own (the index is
    rebuilt from the blocks, it holds nothing they do not).
    """

    def __init__(self, history: SQLiteHistory) -> None:
        self.history = history
        self.db: sqlite3.Connection = history.db
        self._migrate()

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS search_schema (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM search_schema").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise SearchVersionError(
                f"search schema {version}; this EasyChat knows {SCHEMA_VERSION}"
            )
        for step in range(version, SCHEMA_VERSION):
            self.db.executescript(
                f"BEGIN IMMEDIATE; {_MIGRATIONS[step]};"
                " DELETE FROM search_schema;"
                f" INSERT INTO search_schema (version) VALUES ({step + 1}); COMMIT;"
            )

    # -- indexing ----------------------------------------------------------

    def index_some(self, budget: int) -> bool:
        """Indexes whole blocks past the last one indexed, until `budget` records.

        Returns whether blocks are left for a later step. A database error
        is logged and ends the step (the index lags; the history is intact).
        """
        try:
            return self._index_some(budget)
        except sqlite3.Error as exc:
            log.error("search index: indexing failed: %s", exc)
            return False

    def _index_some(self, budget: int) -> bool:
        db = self.db
        (indexed,) = db.execute("SELECT indexed FROM search_state").fetchone()
        block, offset = indexed >> OFFSET_BITS, indexed & _LAST_OFFSET
        if offset == _LAST_OFFSET:  # that block is done: is there a newer one?
            (newest,) = db.execute("SELECT MAX(id) FROM blocks").fetchone()
            if newest is None or newest <= block:
                if newest is not None and newest < block:  # deleted: their ids come back
                    self._set_indexed(int(newest) << OFFSET_BITS | _LAST_OFFSET)
                return False
            block += 1
        rows: list[IndexRow] = []
        last = int(indexed)
        cursor = db.execute(
            "SELECT id, target, body FROM blocks WHERE id >= ? ORDER BY id", (block,)
        )
        for block_id, target, body in cursor:
            last = index_rows(rows, (int(block_id), str(target), str(body)), last, budget)
            if len(rows) >= budget:
                break
        cursor.close()
        own = not db.in_transaction
        if own:
            db.execute("BEGIN")
        try:
            db.executemany(_INSERT_SQL, rows)
            self._set_indexed(last)
        except BaseException:
            if own:
                db.execute("ROLLBACK")
            raise
        if own:
            db.execute("COMMIT")
        return len(rows) >= budget

    def _set_indexed(self, place: int) -> None:
        self.db.execute("UPDATE search_state SET indexed = ?", (place,))

    # -- searching ---------------------------------------------------------

    def search(self, query: SearchQuery) -> list[Record]:
        """Matching PRIVMSG and NOTICE records, at most `query.limit`, oldest first."""
        if not query.keys or query.limit <= 0:
            return []
        words = [t for word in query.words for t in _TOKEN.findall(word.lower())]
        parts = ["target : (" + " OR ".join(f'"{token(k)}"' for k in query.keys) + ")"]
        if words:
            parts.append("body : (" + " AND ".join(f'"{w}"' for w in words) + ")")
        if query.sender is not None:
            parts.append(f'sender : "{token(query.sender)}"')
        history = self.history
        low = 0 if query.after_ms is None else history.place_at(query.after_ms)
        high = NO_PLACE if query.before_ms is None else history.place_at(query.before_ms + 1) - 1
        order = "ASC" if query.after_ms is not None else "DESC"
        cursor = self.db.execute(
            "SELECT rowid FROM search_text WHERE search_text MATCH ?"
            f" AND rowid >= ? AND rowid <= ? ORDER BY rowid {order}",
            (" AND ".join(parts), low, high),
        )
        keys = set(query.keys)
        found: list[Record] = []
        for (place,) in cursor:
            record = record_at(self.db, int(place))
            if record is None or record.target not in keys:
                continue  # removed by retention, or its place taken by another block
            if record.message.command not in _INDEXED_COMMANDS:
                continue
            if not _holds(record, words, query.sender):
                continue
            if query.accept is not None and not query.accept(record):
                continue
            found.append(record)
            if len(found) == query.limit:
                break
        cursor.close()
        return found if order == "ASC" else found[::-1]


def index_rows(rows: list[IndexRow], block: tuple[int, str, str], after: int, budget: int) -> int:
    """Adds the index rows of a block's (id, target, body) PRIVMSG and NOTICE
    entries placed after `after`, until `rows` holds `budget`.

    Returns the place of the last entry looked at, or the block's last
    possible place once all of it is (so a finished block is never read again).
    """
    block_id, target, body = block
    base = block_id << OFFSET_BITS
    target_token = token(target)
    senders: dict[str, str] = {}  # nick -> its token, once per block
    last = base | _LAST_OFFSET
    for offset, entry in enumerate(body.split("\n")):
        place = base | offset
        if place <= after:
            continue
        if len(rows) >= budget:
            return place - 1
        if not entry:
            continue
        _msgid, _time, command, line = entry.split("\t", 3)
        if command not in _INDEXED_COMMANDS:
            continue
        said = sender_and_text(line)
        if said is None:
            continue
        nick, text = said
        searched = searchable_text(text)
        if searched:
            sender = senders.get(nick)
            if sender is None:
                sender = senders[nick] = token(casefold(nick))
            rows.append((place, searched, target_token, sender))
    return last


def sender_and_text(line: str) -> tuple[str, str] | None:
    """The sender's nick and the text of a stored PRIVMSG or NOTICE line.

    Stored lines are the server's own (`[@tags ]:nick!user@host CMD target
    :text`), so they are split by hand, which costs a tenth of `parse`;
    any other shape goes through `parse`.
    """
    rest = line.split(" ", 1)[1] if line.startswith("@") else line
    parts = rest.split(" ", 3)
    if len(parts) == 4 and parts[0].startswith(":") and parts[3].startswith(":"):
        return parts[0][1:].split("!", 1)[0], parts[3][1:]
    message = parse(line, strict=False)
    if len(message.params) < 2:
        return None
    return message.nick or "", message.params[1]


def _holds(record: Record, words: list[str], sender: str | None) -> bool:
    """Whether the record still says what the index says (a reused place would not)."""
    if sender is not None and casefold(record.message.nick or "") != sender:
        return False
    if not words:
        return True
    text = searchable_text(record.message.params[1]) if len(record.message.params) > 1 else None
    if text is None:
        return False
    present = set(_TOKEN.findall(text.lower()))
    return all(word in present for word in words)

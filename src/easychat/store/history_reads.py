"""Provides BlockReads: the history's queries over its blocks (selectors, pages, targets)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from easychat.chat.history import Record, Selector
from easychat.proto.message import parse
from easychat.store import history_blocks as blocks
from easychat.store.history_blocks import OFFSET_BITS, Entry

# A place above every stored record's.
NO_PLACE = 1 << 62

# A target's blocks from a block id on, newest or oldest first. Both name
# their index: with statistics (ANALYZE, PRAGMA optimize) SQLite may prefer
# walking the rowid and filtering on target, which reads the whole table
# for a quiet room among busy ones.
_OLDER_SQL = (
    "SELECT id, body FROM blocks INDEXED BY blocks_target_id"
    " WHERE target = ? AND id <= ? ORDER BY id DESC"
)
_NEWER_SQL = (
    "SELECT id, body FROM blocks INDEXED BY blocks_target_id"
    " WHERE target = ? AND id >= ? ORDER BY id ASC"
)

_MESSAGE_COMMANDS = frozenset(("PRIVMSG", "NOTICE", "TAGMSG"))


class BlockReads:
    """The read side of SQLiteHistory (store/history.py), which provides
    the connection and `_flush` (reads see what is buffered)."""

    db: sqlite3.Connection

    def _flush(self) -> None:
        raise NotImplementedError

    # Selectors become place bounds. Places grow with time (the chat core
    # never lets time go backwards), so "after 12:00" is "at or after the
    # first place past 12:00", found by a binary search on the block ids.

    def _first_place_at(self, time_ms: int) -> int:
        """A place bound for a time: records below it are older than `time_ms`,
        records at or above it are not.

        A binary search on the block ids by each block's last time (which
        grows with the id), so no index on time is kept: about 30 rowid
        lookups for a billion blocks, then one block read.
        """
        self._flush()
        # Two subqueries: each is one rowid lookup; MIN and MAX in one
        # SELECT would scan the table.
        low, high = self.db.execute(
            "SELECT (SELECT MIN(id) FROM blocks), (SELECT MAX(id) FROM blocks)"
        ).fetchone()
        if low is None:
            return 0
        low, high = int(low), int(high) + 1
        while low < high:
            mid = (low + high) // 2
            block_id, last_ms = self.db.execute(
                "SELECT id, last_ms FROM blocks WHERE id >= ? ORDER BY id LIMIT 1", (mid,)
            ).fetchone()
            if last_ms >= time_ms:
                high = mid
            else:
                low = int(block_id) + 1
        row = self.db.execute(
            "SELECT id, body FROM blocks WHERE id >= ? ORDER BY id LIMIT 1", (low,)
        ).fetchone()
        if row is None:
            return low << OFFSET_BITS
        block_id, body = int(row[0]), str(row[1])
        offset = blocks.first_at(body, time_ms)
        if offset is None:  # its last records were removed
            return (block_id + 1) << OFFSET_BITS
        return block_id << OFFSET_BITS | offset

    def place_at(self, time_ms: int) -> int:
        """The place bound for a time: records below it are older than `time_ms`."""
        return self._first_place_at(time_ms)

    def _after_place(self, target: str, point: Selector) -> int | None:
        """Records after `point` have places above this; None for an unknown msgid."""
        if point.msgid is not None:
            return self._msgid_place(target, point.msgid)
        return self._first_place_at((point.time_ms or 0) + 1) - 1

    def _before_place(self, target: str, point: Selector) -> int | None:
        """Records before `point` have places below this; None for an unknown msgid."""
        if point.msgid is not None:
            return self._msgid_place(target, point.msgid)
        return self._first_place_at(point.time_ms or 0)

    def _msgid_place(self, target: str, msgid: str) -> int | None:
        """The place of a msgid's record in `target`: its block by run and
        counter (blocks_msgid), then its entry."""
        self._flush()
        run, counter = blocks.msgid_key(msgid)
        row = self.db.execute(
            "SELECT id, body FROM blocks INDEXED BY blocks_msgid"
            " WHERE target = ? AND run = ? AND last_counter >= ? ORDER BY last_counter LIMIT 1",
            (target, run, counter),
        ).fetchone()
        if row is None:
            return None
        offset = blocks.offset_of(str(row[1]), msgid)
        return None if offset is None else int(row[0]) << OFFSET_BITS | offset

    def _older(self, target: str, below: int, limit: int, only: bool) -> list[Record]:
        """Up to `limit` of the target's records with places below `below`, oldest first."""
        self._flush()
        found: list[Record] = []
        if limit <= 0:
            return found
        cursor = self.db.execute(_OLDER_SQL, (target, below >> OFFSET_BITS))
        for place, entry in blocks.walk(cursor, backwards=True):
            if place >= below or (only and entry.command not in _MESSAGE_COMMANDS):
                continue
            found.append(_record(place, target, entry))
            if len(found) == limit:
                break
        cursor.close()
        return found[::-1]

    def _newer(self, target: str, above: int, limit: int, only: bool) -> list[Record]:
        """Up to `limit` of the target's records with places above `above`, oldest first."""
        self._flush()
        found: list[Record] = []
        if limit <= 0:
            return found
        cursor = self.db.execute(_NEWER_SQL, (target, max(above, 0) >> OFFSET_BITS))
        for place, entry in blocks.walk(cursor):
            if place <= above or (only and entry.command not in _MESSAGE_COMMANDS):
                continue
            found.append(_record(place, target, entry))
            if len(found) == limit:
                break
        cursor.close()
        return found

    def latest(
        self,
        target: str,
        limit: int,
        after: Selector | None = None,
        *,
        messages_only: bool = False,
    ) -> list[Record]:
        """The last `limit` records, optionally only those after `after`."""
        newest = self._older(target, NO_PLACE, limit, messages_only)
        if after is None:
            return newest
        above = self._after_place(target, after)
        if above is None:
            return []
        return [r for r in newest if r.seq > above]

    def before(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records just before `point` (exclusive)."""
        below = self._before_place(target, point)
        return [] if below is None else self._older(target, below, limit, messages_only)

    def after(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records just after `point` (exclusive)."""
        above = self._after_place(target, point)
        return [] if above is None else self._newer(target, above, limit, messages_only)

    def around(
        self, target: str, point: Selector, limit: int, *, messages_only: bool = False
    ) -> list[Record]:
        """Up to `limit` records centred on `point` (a msgid's own record included)."""
        below = self._before_place(target, point)
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
        start_above, start_below = (
            self._after_place(target, start),
            self._before_place(target, start),
        )
        end_above, end_below = self._after_place(target, end), self._before_place(target, end)
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
        above, below = self._first_place_at(low + 1), self._first_place_at(high)
        found: list[tuple[int, str, int]] = []
        for target in dict.fromkeys(keys):
            last = self._older(target, below, 1, False)
            if last and last[0].seq >= above:
                found.append((last[0].seq, target, last[0].time_ms))
        return [(target, latest) for _, target, latest in sorted(found)[:limit]]


def record_at(db: sqlite3.Connection, place: int) -> Record | None:
    """The record at a place, or None where there is none (removed, or never)."""
    row = db.execute(
        "SELECT target, body FROM blocks WHERE id = ?", (place >> OFFSET_BITS,)
    ).fetchone()
    if row is None:
        return None
    parts = str(row[1]).split("\n")
    offset = place & (blocks.BLOCK_CAP - 1)
    if offset >= len(parts) or not parts[offset]:
        return None
    return _record(place, str(row[0]), blocks.decode(parts[offset]))


def _record(place: int, target: str, entry: Entry) -> Record:
    message = parse(entry.line, strict=False)
    tags = message.tags
    if tags:
        message = replace(message, tags={})
    return Record(entry.msgid, entry.time_ms, target, message, tags, place)

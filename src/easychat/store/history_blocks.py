"""Provides the history file's block format: a run of one target's records in one row.

A server turn that relays 200 lines into a room stores them as one row of
the `blocks` table rather than 200 rows, so SQLite does its per-row work
(a B-tree insert and two index entries) once per run instead of once per
message. A block holds consecutive records of one target: the blocks in
id order are the records in the order they were stored, so a record's
place is `block id << OFFSET_BITS | offset`, and times never go down from
one block to the next.

The body is one entry per record, joined by newlines (an IRC line never
holds one): `msgid TAB time_ms TAB command TAB line`, the line last as it
may hold tabs. An entry removed by retention becomes empty, so the
offsets of the others do not move.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

# Bits of a record's place taken by its offset in its block; a block holds
# at most BLOCK_CAP records.
OFFSET_BITS = 12
BLOCK_CAP = 1 << OFFSET_BITS

# The chat core's msgids are 12 hex digits naming the server run, then a
# hex counter (chat/delivery.py). A block holds msgids of one run with
# growing counters, so the block of a msgid is found by its run and
# counter through an index, without an index entry per message.
_RUN_DIGITS = 12
_MAX_COUNTER_DIGITS = 15  # below 2**63, an SQLite integer
_LONGEST = _RUN_DIGITS + _MAX_COUNTER_DIGITS

# What `SQLiteHistory` buffers for each record: msgid, target, time_ms,
# command, and the line as relayed (client-only tags included).
Pending = tuple[str, str, int, str, str]


class BlockRow(NamedTuple):
    """The columns of one `blocks` row, but its id."""

    target: str
    last_ms: int  # the time of its last record
    run: str  # the msgid run of its records (see `msgid_key`)
    last_counter: int  # the counter of its last record's msgid
    held: int  # records held (removed entries not counted)
    body: str


class Entry(NamedTuple):
    """One record as a block holds it."""

    msgid: str
    time_ms: int
    command: str
    line: str


def msgid_key(msgid: str) -> tuple[str, int]:
    """The run and counter of a msgid; any msgid not of the core's shape is its own run."""
    if _RUN_DIGITS < len(msgid) <= _LONGEST:
        try:
            return msgid[:_RUN_DIGITS], int(msgid[_RUN_DIGITS:], 16)
        except ValueError:
            pass
    return msgid, 0


def build(pending: Iterable[Pending]) -> list[BlockRow]:
    """The blocks that store `pending`, in order.

    A new block starts where the target or the msgid run changes, where a
    counter does not grow (so each block's counters are increasing and a
    msgid lookup needs only its block's last counter), and at BLOCK_CAP.
    A msgid repeated in one target right after itself is stored once.
    """
    rows: list[BlockRow] = []
    entries: list[str] = []
    target = run = last_msgid = ""
    last_counter = -1
    last_ms = 0
    for msgid, key, time_ms, command, line in pending:
        # msgid_key, inline: this loop runs for every message relayed (and
        # try/except, as contextlib.suppress costs an object per message).
        if _RUN_DIGITS < len(msgid) <= _LONGEST:
            try:
                this_run, counter = msgid[:_RUN_DIGITS], int(msgid[_RUN_DIGITS:], 16)
            except ValueError:
                this_run, counter = msgid, 0
        else:
            this_run, counter = msgid, 0
        if key != target or this_run != run or counter <= last_counter or len(entries) == BLOCK_CAP:
            if key == target and msgid == last_msgid:
                continue
            if entries:
                rows.append(
                    BlockRow(target, last_ms, run, last_counter, len(entries), "\n".join(entries))
                )
            entries = []
            target, run = key, this_run
        entries.append(f"{msgid}\t{time_ms}\t{command}\t{line}")
        last_counter, last_ms, last_msgid = counter, time_ms, msgid
    if entries:
        rows.append(BlockRow(target, last_ms, run, last_counter, len(entries), "\n".join(entries)))
    return rows


def decode(entry: str) -> Entry:
    """One non-empty entry of a body."""
    msgid, time_ms, command, line = entry.split("\t", 3)
    return Entry(msgid, int(time_ms), command, line)


def offset_of(body: str, msgid: str) -> int | None:
    """The offset of `msgid`'s entry in a body, or None."""
    start = msgid + "\t"
    for offset, entry in enumerate(body.split("\n")):
        if entry.startswith(start):
            return offset
    return None


def first_at(body: str, time_ms: int) -> int | None:
    """The offset of the first record at or after `time_ms` in a body, or None."""
    for offset, entry in enumerate(body.split("\n")):
        if entry and decode(entry).time_ms >= time_ms:
            return offset
    return None


def remove_before(body: str, end: int) -> tuple[str, int]:
    """The body with its entries below offset `end` removed, and how many were held."""
    parts = body.split("\n")
    removed = sum(1 for entry in parts[:end] if entry)
    parts[:end] = [""] * min(end, len(parts))
    return "\n".join(parts), removed


def remove_at(body: str, offset: int) -> str:
    """The body with the entry at `offset` removed (emptied: the others keep their offsets)."""
    parts = body.split("\n")
    parts[offset] = ""
    return "\n".join(parts)


def walk(
    rows: Iterable[tuple[int, str]], *, backwards: bool = False
) -> Iterator[tuple[int, Entry]]:
    """The records of `(id, body)` rows with their places, each row's in order (or reversed)."""
    for block_id, body in rows:
        base = block_id << OFFSET_BITS
        parts = body.split("\n")
        offsets = range(len(parts) - 1, -1, -1) if backwards else range(len(parts))
        for offset in offsets:
            entry = parts[offset]
            if entry:
                yield base | offset, decode(entry)

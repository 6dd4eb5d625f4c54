"""The history's blocks: one row per run of a target's records, read back as records.

The store is checked against a plain list of what was appended (the
model): every query over every selector answers what the list says, for
msgids of the chat core's shape (a run prefix and a hex counter, so many
records share a block) and of any other shape.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from easychat.chat.history import Record, Selector
from easychat.proto.message import Message
from easychat.store.history import SCHEMA_VERSION, SQLiteHistory
from easychat.store.history_blocks import BLOCK_CAP
from tests.historyrows import stored_rows

T0 = 1_700_000_000_000
RUN = "0123456789ab"  # a server run's msgid prefix


@dataclass
class Model:
    """What was appended, in order: the answers every query must give."""

    records: list[Record]

    def of(self, target: str) -> list[Record]:
        return [r for r in self.records if r.target == target]


def record(counter: int, target: str, time_ms: int, *, run: str = RUN) -> Record:
    command = "JOIN" if counter % 7 == 0 else "PRIVMSG"
    to = target.rpartition("\0")[2]  # a private conversation's line names the nick
    params = (to,) if command == "JOIN" else (to, f"line {counter}\twith a tab")
    msgid = f"{run}{counter:x}"
    return Record(msgid, time_ms, target, Message(command, params, "alice!a@h"))


def fill(store: SQLiteHistory, seed: int) -> Model:
    """Turns of records into three targets, times with repeats, as a server writes them."""
    rng = random.Random(seed)
    model = Model([])
    counter, now = 0, T0
    for _ in range(40):
        for _ in range(rng.randrange(1, 4)):  # a few senders' reads per turn
            target = rng.choice(("#a", "#a", "#b", "bob\0carol"))
            for _ in range(rng.randrange(1, 20)):
                counter += 1
                now += rng.choice((0, 0, 1, 3))
                rec = record(counter, target, now)
                store.append(rec)
                model.records.append(rec)
        store.commit()
    return model


def msgids(records: list[Record]) -> list[str]:
    return [r.msgid for r in records]


@pytest.mark.parametrize("seed", range(4))
def test_every_query_answers_what_was_appended(tmp_path: Path, seed: int) -> None:
    """latest, before, after and around, by msgid and by time, match the model."""
    store = SQLiteHistory(tmp_path / "h.db")
    model = fill(store, seed)
    rows = store.db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0]
    assert rows < len(model.records) / 2  # runs share rows
    rng = random.Random(seed + 100)
    for target in ("#a", "#b", "bob\0carol"):
        mine = model.of(target)
        assert msgids(store.export(target)) == msgids(mine)
        assert msgids(store.latest(target, 5)) == msgids(mine[-5:])
        only = [r for r in mine if r.message.command == "PRIVMSG"]
        assert msgids(store.latest(target, 7, messages_only=True)) == msgids(only[-7:])
        for _ in range(25):
            i = rng.randrange(len(mine))
            point, limit = mine[i], rng.randrange(1, 12)
            by_id = Selector(msgid=point.msgid)
            assert msgids(store.before(target, by_id, limit)) == msgids(mine[max(0, i - limit) : i])
            assert msgids(store.after(target, by_id, limit)) == msgids(mine[i + 1 : i + 1 + limit])
            older = mine[max(0, i - limit // 2) : i]
            newer = mine[i : i + limit - len(older)]
            assert msgids(store.around(target, by_id, limit)) == msgids(older + newer)
            when = point.time_ms
            earlier = [r for r in mine if r.time_ms < when]
            later = [r for r in mine if r.time_ms > when]
            at_time = Selector(time_ms=when)
            assert msgids(store.before(target, at_time, limit)) == msgids(earlier[-limit:])
            assert msgids(store.after(target, at_time, limit)) == msgids(later[:limit])
            low = rng.randrange(i + 1)
            start = Selector(msgid=mine[low].msgid)
            inside = msgids(mine[low + 1 : i])
            assert msgids(store.between(target, start, by_id, limit)) == inside[:limit]
            assert (
                msgids(store.between(target, by_id, start, limit)) == inside[-limit:][: len(inside)]
            )
        assert store.after(target, Selector(msgid=RUN + "fffffff"), 5) == []
        latest = store.targets([target], T0, mine[-1].time_ms + 1, 10)
        assert latest == [(target, mine[-1].time_ms)]
    store.close()


def test_a_turns_run_into_a_room_is_one_row_and_a_new_target_starts_a_block(
    tmp_path: Path,
) -> None:
    """200 lines of one turn into a room are one row; another target or turn is another."""
    store = SQLiteHistory(tmp_path / "h.db")
    for n in range(1, 201):
        store.append(record(n, "#a", T0 + n))
    store.append(record(201, "#b", T0 + 201))
    store.append(record(202, "#a", T0 + 202))
    store.commit()
    store.append(record(203, "#a", T0 + 203))
    store.commit()
    counts = store.db.execute("SELECT target, count FROM blocks ORDER BY id").fetchall()
    assert counts == [("#a", 200), ("#b", 1), ("#a", 1), ("#a", 1)]
    # Another connection (another process) reads the same records back.
    other = sqlite3.connect(tmp_path / "h.db")
    assert [row[3] for row in stored_rows(other)] == [f"{RUN}{n:x}" for n in range(1, 204)]
    other.close()
    store.close()


def test_a_block_holds_at_most_block_cap_records(tmp_path: Path) -> None:
    """A turn longer than BLOCK_CAP fills one block and starts another; places stay ordered."""
    store = SQLiteHistory(":memory:")
    total = BLOCK_CAP + 10
    for n in range(1, total + 1):
        store.append(record(n, "#a", T0 + n // 100))
    store.commit()
    counts = [c for (c,) in store.db.execute("SELECT count FROM blocks ORDER BY id")]
    assert counts == [BLOCK_CAP, 10]
    edge = f"{RUN}{BLOCK_CAP:x}"  # the last record of the first block
    after = store.after("#a", Selector(msgid=edge), 3)
    assert msgids(after) == [f"{RUN}{n:x}" for n in range(BLOCK_CAP + 1, BLOCK_CAP + 4)]
    before = store.before("#a", Selector(msgid=f"{RUN}{BLOCK_CAP + 1:x}"), 2)
    assert msgids(before) == [f"{RUN}{n:x}" for n in (BLOCK_CAP - 1, BLOCK_CAP)]
    places = [r.seq for r in store.export("#a")]
    assert places == sorted(places)
    assert len(set(places)) == total
    store.close()


def test_prune_inside_a_block_removes_exactly_the_older_records(tmp_path: Path) -> None:
    """Retention cuts through a block: the count is exact and later queries still hold."""
    store = SQLiteHistory(tmp_path / "h.db")
    for n in range(1, 101):
        store.append(record(n, "#a", T0 + n))
    store.commit()
    assert store.prune(T0 + 41) == 40
    kept = store.export("#a")
    assert msgids(kept) == [f"{RUN}{n:x}" for n in range(41, 101)]
    assert store.before("#a", Selector(msgid=f"{RUN}{45:x}"), 10)[0].msgid == f"{RUN}{41:x}"
    assert store.after("#a", Selector(time_ms=T0), 1)[0].msgid == f"{RUN}{41:x}"
    assert store.before("#a", Selector(msgid=f"{RUN}{10:x}"), 5) == []  # pruned: unknown
    assert store.prune(T0 + 1000) == 60
    assert store.export("#a") == []
    assert store.forget("#a") == 0
    store.close()


@pytest.mark.parametrize(
    "msgid",
    ["m1", "not-hex-at-all-zz", RUN + "g1", RUN + "1" * 40, "550e8400-e29b-41d4-a716-446655440000"],
)
def test_msgids_of_any_shape_are_found(tmp_path: Path, msgid: str) -> None:
    """A msgid that is not a run and a counter (another server's, an old file's) is its own run."""
    store = SQLiteHistory(tmp_path / "h.db")
    store.append(record(1, "#a", T0))
    store.append(Record(msgid, T0 + 1, "#a", Message("PRIVMSG", ("#a", "odd"), "x!x@h")))
    store.append(record(3, "#a", T0 + 2))
    store.commit()
    assert msgids(store.around("#a", Selector(msgid=msgid), 1)) == [msgid]
    assert msgids(store.after("#a", Selector(msgid=msgid), 5)) == [f"{RUN}3"]
    store.close()


def test_version_3_file_is_migrated_to_blocks(tmp_path: Path) -> None:
    """Schema 3 rows (one per record) become blocks; order, msgids and lines survive."""
    path = tmp_path / "h.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, target TEXT NOT NULL,"
        " time_ms INTEGER NOT NULL, msgid TEXT NOT NULL, command TEXT NOT NULL,"
        " line TEXT NOT NULL, UNIQUE (target, msgid));"
        " CREATE INDEX messages_target_id ON messages (target, id);"
        " CREATE TABLE conversations (target TEXT PRIMARY KEY, first TEXT NOT NULL,"
        " second TEXT NOT NULL) WITHOUT ROWID;"
        " PRAGMA user_version = 3;"
    )
    lines = [
        ("#a", f"{RUN}1", "PRIVMSG", ":alice!a@h PRIVMSG #a :one"),
        ("#a", f"{RUN}2", "PRIVMSG", "@+react=x :alice!a@h PRIVMSG #a :two"),
        ("#b", f"{RUN}3", "JOIN", ":bob!b@h JOIN #b"),
        ("#a", "old-style-id", "NOTICE", ":alice!a@h NOTICE #a :three"),
    ]
    db.executemany(
        "INSERT INTO messages (target, time_ms, msgid, command, line) VALUES (?, ?, ?, ?, ?)",
        [(t, T0 + i, m, c, line) for i, (t, m, c, line) in enumerate(lines)],
    )
    db.commit()
    db.close()
    store = SQLiteHistory(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {name for (name,) in store.db.execute("SELECT name FROM sqlite_master")}
    assert "messages" not in tables
    assert "blocks" in tables
    a = store.export("#a")
    assert [(r.msgid, r.time_ms, r.message.params[-1]) for r in a] == [
        (f"{RUN}1", T0, "one"),
        (f"{RUN}2", T0 + 1, "two"),
        ("old-style-id", T0 + 3, "three"),
    ]
    assert a[1].tags == {"+react": "x"}
    assert msgids(store.after("#a", Selector(msgid=f"{RUN}1"), 5)) == [f"{RUN}2", "old-style-id"]
    assert msgids(store.export("#b")) == [f"{RUN}3"]
    store.close()

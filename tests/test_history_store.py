"""SQLiteHistory on real files: durability, schema versions, every query's bounds, indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from easychat.chat.history import HistoryWriteError, Record, Selector, private_key
from easychat.proto.message import Message
from easychat.store.history import SCHEMA_VERSION, HistoryVersionError, SQLiteHistory
from tests.historyrows import stored_rows

ROOM = "#lobby"
# Far from zero, so a bug treating 0 as "no time" shows.
T0 = 1_700_000_000_000


def say(n: int, target: str = ROOM, time_ms: int | None = None, nick: str = "alice") -> Record:
    """Message number `n`: msgid `m{n}`, one second after the previous one."""
    # A private conversation's key holds both nicks; the line names the peer.
    text = Message("PRIVMSG", (target.rpartition("\0")[2], f"text {n}"), f"{nick}!{nick}@host")
    when = T0 + n * 1000 if time_ms is None else time_ms
    return Record(f"m{n}", when, target, text)


def join(n: int, target: str = ROOM, nick: str = "bob") -> Record:
    """A JOIN event numbered like the messages, so it sits between them."""
    return Record(f"m{n}", T0 + n * 1000, target, Message("JOIN", (target,), f"{nick}!u@h"))


def numbers(records: list[Record]) -> list[int]:
    """The message numbers of `records`, in order."""
    return [int(r.msgid[1:]) for r in records]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteHistory]:
    """A store holding messages m1..m20 of #lobby, one second apart, committed."""
    history = SQLiteHistory(tmp_path / "h.db")
    for n in range(1, 21):
        history.append(say(n))
    history.commit()
    yield history
    history.db.close()


def at(n: int) -> Selector:
    """The msgid selector of message `n`."""
    return Selector(msgid=f"m{n}")


def time_of(n: int) -> Selector:
    """The timestamp selector of message `n`'s time."""
    return Selector(time_ms=T0 + n * 1000)


# -- durability and schema --------------------------------------------------


def test_committed_rows_survive_reopen(tmp_path: Path) -> None:
    """Appended and committed records are read back, equal, after reopening the file."""
    path = tmp_path / "h.db"
    history = SQLiteHistory(path)
    tagged = Record("t1", T0, ROOM, Message("PRIVMSG", (ROOM, "héllo"), "a!a@h"), {"+x": "1"})
    history.append(tagged)
    history.append(say(2))
    history.commit()
    history.db.close()  # no close(): nothing may depend on a final commit
    reopened = SQLiteHistory(path)
    got = reopened.export(ROOM)
    assert [(r.msgid, r.time_ms, r.target, r.message, r.tags) for r in got] == [
        ("t1", T0, ROOM, tagged.message, {"+x": "1"}),
        ("m2", T0 + 2000, ROOM, say(2).message, {}),
    ]
    reopened.close()


def test_uncommitted_rows_are_read_but_lost_without_commit(tmp_path: Path) -> None:
    """Reads see the current transaction; other readers and a reopen do not."""
    path = tmp_path / "h.db"
    history = SQLiteHistory(path)
    history.append(say(1))
    history.commit()
    history.append(say(2))
    assert numbers(history.latest(ROOM, 10)) == [1, 2]  # flushed into the transaction
    other = sqlite3.connect(path)
    assert [row[3] for row in stored_rows(other)] == ["m1"]
    other.close()
    history.db.close()  # "kill -9" before the end of the turn
    reopened = SQLiteHistory(path)
    assert numbers(reopened.export(ROOM)) == [1]
    reopened.close()


def test_commit_makes_rows_visible_to_other_connections(tmp_path: Path) -> None:
    """After commit, a second connection (another process) reads the rows."""
    path = tmp_path / "h.db"
    history = SQLiteHistory(path)
    history.append(say(1))
    history.latest(ROOM, 1)
    history.commit()
    other = sqlite3.connect(path)
    assert [row[3] for row in stored_rows(other)] == ["m1"]
    other.close()
    history.close()


def test_schema_version_and_wal(tmp_path: Path) -> None:
    """A new file is at the current schema version, in WAL mode."""
    history = SQLiteHistory(tmp_path / "h.db")
    assert SCHEMA_VERSION == 5
    assert history.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert history.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    history.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A file written by a newer EasyChat raises HistoryVersionError, untouched."""
    path = tmp_path / "h.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(HistoryVersionError, match="99"):
        SQLiteHistory(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    db.close()


V1_SCHEMA = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, msgid TEXT NOT NULL UNIQUE, target TEXT NOT NULL,
    time_ms INTEGER NOT NULL, command TEXT NOT NULL, source TEXT,
    params TEXT NOT NULL, tags TEXT
);
CREATE INDEX messages_target_id ON messages (target, id);
CREATE INDEX messages_target_time ON messages (target, time_ms);
CREATE INDEX messages_time ON messages (time_ms);
PRAGMA user_version = 1;
"""


def test_version_1_file_is_migrated_keeping_rows(tmp_path: Path) -> None:
    """A file from schema 1 keeps its rows and its private conversations are found."""
    path = tmp_path / "h.db"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    key = private_key("alice", "bob")
    db.executemany(
        "INSERT INTO messages (msgid, target, time_ms, command, source, params)"
        " VALUES (?, ?, ?, 'PRIVMSG', 'alice!a@h', '[\"x\", \"y\"]')",
        [("m1", ROOM, T0), ("m2", key, T0 + 1)],
    )
    db.commit()
    db.close()
    history = SQLiteHistory(path)
    assert history.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert numbers(history.export(ROOM)) == [1]
    assert history.private_keys("bob") == [key]
    history.close()


def test_version_2_file_is_migrated_to_lines(tmp_path: Path) -> None:
    """Schema 2 rows (JSON columns) become lines: params, source and client tags survive."""
    path = tmp_path / "h.db"
    history = SQLiteHistory(path)
    history.db.executescript(
        "DROP TABLE blocks; DROP TABLE redactions;"
        " CREATE TABLE messages (id INTEGER PRIMARY KEY, msgid TEXT NOT NULL,"
        " target TEXT NOT NULL, time_ms INTEGER NOT NULL, command TEXT NOT NULL, source TEXT,"
        " params TEXT NOT NULL, tags TEXT, UNIQUE (target, msgid));"
        " PRAGMA user_version = 2;"
    )
    history.db.executemany(
        "INSERT INTO messages (msgid, target, time_ms, command, source, params, tags)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("m1", ROOM, T0, "PRIVMSG", "alice!a@h", '["#lobby", "hello there"]', None),
            ("m2", ROOM, T0 + 1, "TAGMSG", "alice!a@h", '["#lobby"]', '{"+react": "a b;c"}'),
            ("m3", ROOM, T0 + 2, "JOIN", "bob!b@h", '["#lobby"]', None),
            ("m4", ROOM, T0 + 3, "QUIT", "bob!b@h", '[""]', None),
        ],
    )
    history.db.close()
    history = SQLiteHistory(path)
    assert history.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    records = history.export(ROOM)
    assert [(r.msgid, r.time_ms, r.message, r.tags) for r in records] == [
        ("m1", T0, Message("PRIVMSG", (ROOM, "hello there"), "alice!a@h"), {}),
        ("m2", T0 + 1, Message("TAGMSG", (ROOM,), "alice!a@h"), {"+react": "a b;c"}),
        ("m3", T0 + 2, Message("JOIN", (ROOM,), "bob!b@h"), {}),
        ("m4", T0 + 3, Message("QUIT", ("",), "bob!b@h"), {}),
    ]
    assert numbers(history.after(ROOM, at(2), 10)) == [3, 4]
    assert numbers(history.latest(ROOM, 10, messages_only=True)) == [1, 2]
    history.close()


def test_time_selectors_across_gaps_in_ids(tmp_path: Path) -> None:
    """Time bounds come from a binary search on ids; forgotten ranges and equal times hold."""
    history = SQLiteHistory(tmp_path / "h.db")
    times = [T0, T0, T0 + 5, T0 + 5, T0 + 5, T0 + 9, T0 + 20, T0 + 20]
    for n, when in enumerate(times, start=1):
        record = say(n, time_ms=when)
        if n in (2, 4, 7):  # stored elsewhere, then forgotten: gaps in the ids
            record = replace(record, target="#gone")
        history.append(record)
    history.commit()
    assert history.forget("#gone") == 3
    assert numbers(history.after(ROOM, Selector(time_ms=T0), 10)) == [3, 5, 6, 8]
    assert numbers(history.after(ROOM, Selector(time_ms=T0 + 4), 10)) == [3, 5, 6, 8]
    assert numbers(history.before(ROOM, Selector(time_ms=T0 + 5), 10)) == [1]
    assert numbers(history.before(ROOM, Selector(time_ms=T0 + 6), 10)) == [1, 3, 5]
    assert numbers(history.after(ROOM, Selector(time_ms=T0 + 20), 10)) == []
    assert numbers(history.before(ROOM, Selector(time_ms=T0 + 99), 10)) == [1, 3, 5, 6, 8]
    assert history.prune(T0 + 9) == 3
    assert numbers(history.export(ROOM)) == [6, 8]
    history.close()


def test_a_record_appended_twice_in_one_turn_is_stored_once(tmp_path: Path) -> None:
    """The same msgid twice in a row in one target keeps the first record only.

    (Msgids are unique by construction, a random run prefix and a counter;
    no index checks it across turns.)
    """
    store = SQLiteHistory(tmp_path / "h.db")
    first = say(1)
    store.append(first)
    store.append(replace(first, message=Message("PRIVMSG", (ROOM, "again"), "x!x@h")))
    store.append(say(2))
    store.commit()
    records = store.export(ROOM)
    assert numbers(records) == [1, 2]
    assert records[0].message.params[1] == "text 1"
    store.close()


def test_one_event_is_stored_in_each_of_its_rooms(store: SQLiteHistory) -> None:
    """A QUIT is one event with one msgid, recorded in every room of the quitter."""
    quit_msg = Message("QUIT", ("bye",), "alice!a@h")
    for room in ("#a", "#b"):
        store.append(Record("q1", T0 + 30_000, room, quit_msg))
    store.commit()
    assert [r.msgid for r in store.export("#a")] == ["q1"]
    assert [r.msgid for r in store.export("#b")] == ["q1"]
    assert numbers(store.after("#b", Selector(msgid="q1"), 5)) == []


# -- queries ---------------------------------------------------------------


def test_latest(store: SQLiteHistory) -> None:
    """The newest `limit`, ascending; fewer when the room has fewer."""
    assert numbers(store.latest(ROOM, 3)) == [18, 19, 20]
    assert numbers(store.latest(ROOM, 100)) == list(range(1, 21))
    assert store.latest("#empty", 10) == []


def test_latest_after(store: SQLiteHistory) -> None:
    """With `after`, only newer records (exclusive), still the newest `limit` of them."""
    assert numbers(store.latest(ROOM, 100, at(17))) == [18, 19, 20]
    assert numbers(store.latest(ROOM, 2, at(10))) == [19, 20]
    assert numbers(store.latest(ROOM, 100, time_of(17))) == [18, 19, 20]
    assert store.latest(ROOM, 10, at(20)) == []
    assert store.latest(ROOM, 10, Selector(msgid="nope")) == []


def test_before(store: SQLiteHistory) -> None:
    """Up to `limit` just before the point, excluding it, ascending."""
    assert numbers(store.before(ROOM, at(10), 3)) == [7, 8, 9]
    assert numbers(store.before(ROOM, at(3), 10)) == [1, 2]
    assert store.before(ROOM, at(1), 10) == []
    assert numbers(store.before(ROOM, time_of(10), 3)) == [7, 8, 9]
    assert numbers(store.before(ROOM, Selector(time_ms=T0 + 10_500), 2)) == [9, 10]
    assert numbers(store.before(ROOM, Selector(time_ms=T0 + 99_000), 2)) == [19, 20]
    assert store.before(ROOM, Selector(msgid="nope"), 10) == []


def test_after(store: SQLiteHistory) -> None:
    """Up to `limit` just after the point, excluding it, ascending."""
    assert numbers(store.after(ROOM, at(10), 3)) == [11, 12, 13]
    assert numbers(store.after(ROOM, at(18), 10)) == [19, 20]
    assert store.after(ROOM, at(20), 10) == []
    assert numbers(store.after(ROOM, time_of(10), 3)) == [11, 12, 13]
    assert numbers(store.after(ROOM, Selector(time_ms=T0 + 9_500), 2)) == [10, 11]
    assert numbers(store.after(ROOM, Selector(time_ms=0), 2)) == [1, 2]
    assert store.after(ROOM, Selector(msgid="nope"), 10) == []


def test_around(store: SQLiteHistory) -> None:
    """Centred on the point, a msgid's own record included, never over `limit`."""
    assert numbers(store.around(ROOM, at(10), 5)) == [8, 9, 10, 11, 12]
    assert numbers(store.around(ROOM, at(10), 4)) == [8, 9, 10, 11]
    assert numbers(store.around(ROOM, at(10), 1)) == [10]
    assert numbers(store.around(ROOM, at(2), 6)) == [1, 2, 3, 4, 5, 6]
    assert numbers(store.around(ROOM, at(20), 4)) == [18, 19, 20]
    assert numbers(store.around(ROOM, time_of(10), 4)) == [8, 9, 10, 11]
    assert store.around(ROOM, Selector(msgid="nope"), 4) == []


def test_between_forward_and_backward(store: SQLiteHistory) -> None:
    """Strictly between; from `start` towards `end`; ascending either way."""
    assert numbers(store.between(ROOM, at(5), at(10), 100)) == [6, 7, 8, 9]
    assert numbers(store.between(ROOM, at(5), at(10), 2)) == [6, 7]
    assert numbers(store.between(ROOM, at(10), at(5), 100)) == [6, 7, 8, 9]
    assert numbers(store.between(ROOM, at(10), at(5), 2)) == [8, 9]
    assert numbers(store.between(ROOM, time_of(5), time_of(10), 100)) == [6, 7, 8, 9]
    assert numbers(store.between(ROOM, time_of(10), at(5), 2)) == [8, 9]
    assert store.between(ROOM, at(5), at(6), 100) == []
    assert store.between(ROOM, at(5), Selector(msgid="nope"), 100) == []
    assert store.between(ROOM, Selector(msgid="nope"), at(5), 100) == []


def test_msgid_of_another_target_is_unknown(store: SQLiteHistory) -> None:
    """A msgid from another room cannot be used as a point in this one."""
    store.append(say(100, target="#other"))
    assert store.before(ROOM, at(100), 10) == []
    assert store.after(ROOM, at(100), 10) == []


def test_messages_only_drops_events_but_fills_the_limit(tmp_path: Path) -> None:
    """Events are skipped inside the query, so `limit` messages still come back."""
    history = SQLiteHistory(tmp_path / "h.db")
    for n in range(1, 21):
        history.append(join(n) if n % 2 else say(n))
    history.commit()
    assert numbers(history.latest(ROOM, 3)) == [18, 19, 20]
    assert numbers(history.latest(ROOM, 3, messages_only=True)) == [16, 18, 20]
    assert numbers(history.before(ROOM, at(15), 3, messages_only=True)) == [10, 12, 14]
    assert numbers(history.after(ROOM, at(5), 3, messages_only=True)) == [6, 8, 10]
    assert numbers(history.around(ROOM, at(10), 4, messages_only=True)) == [6, 8, 10, 12]
    assert numbers(history.between(ROOM, at(1), at(19), 3, messages_only=True)) == [2, 4, 6]
    assert numbers(history.between(ROOM, at(19), at(1), 3, messages_only=True)) == [14, 16, 18]
    history.close()


def test_targets(store: SQLiteHistory) -> None:
    """Of the keys asked for, those active in the range, with their latest time there."""
    store.append(say(30, target="#b"))
    store.append(say(40, target="#c"))
    keys = [ROOM, "#b", "#c", "#none"]
    assert store.targets(keys, T0, T0 + 100_000, 10) == [
        (ROOM, T0 + 20_000),
        ("#b", T0 + 30_000),
        ("#c", T0 + 40_000),
    ]
    assert store.targets(keys, T0 + 35_000, T0 + 100_000, 10) == [("#c", T0 + 40_000)]
    assert store.targets(keys, T0 + 100_000, T0, 10)[-1] == ("#c", T0 + 40_000)
    assert store.targets(keys, T0, T0 + 15_000, 10) == [(ROOM, T0 + 14_000)]
    assert len(store.targets(keys, T0, T0 + 100_000, 2)) == 2
    assert store.targets(["#b"], T0, T0 + 100_000, 10) == [("#b", T0 + 30_000)]
    assert store.targets([], T0, T0 + 100_000, 10) == []


def test_private_keys(store: SQLiteHistory) -> None:
    """Only the conversations a nick is in: never rooms, never other people's."""
    ab, bc, a_b = private_key("alice", "bob"), private_key("bob", "carol"), private_key("a_", "b")
    for n, key in enumerate((ab, bc, a_b), start=50):
        store.append(say(n, target=key))
    assert sorted(store.private_keys("bob")) == sorted([ab, bc])
    assert store.private_keys("alice") == [ab]
    assert store.private_keys("carol") == [bc]
    assert store.private_keys("a_") == [a_b]
    assert store.private_keys("a") == []
    assert store.private_keys("dave") == []


def test_prune(store: SQLiteHistory) -> None:
    """Records strictly older than the cut are deleted and counted."""
    assert store.prune(T0 + 11_000) == 10
    assert numbers(store.export(ROOM)) == list(range(11, 21))
    assert store.prune(T0 + 11_000) == 0
    assert store.last_time_ms() == T0 + 20_000


def test_last_time_ms(tmp_path: Path) -> None:
    """0 for an empty store, else the newest time, pending rows included."""
    history = SQLiteHistory(tmp_path / "h.db")
    assert history.last_time_ms() == 0
    history.append(say(3))
    assert history.last_time_ms() == T0 + 3000
    history.close()


# -- indexes ---------------------------------------------------------------


def plan(history: SQLiteHistory, sql: str, args: tuple[object, ...]) -> str:
    """EXPLAIN QUERY PLAN of `sql`, its details joined by newlines."""
    rows = history.db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()
    return "\n".join(str(row[3]) for row in rows)


class SpyConnection:
    """Wraps a connection and keeps every SQL text it executes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.sql: list[tuple[str, tuple[object, ...]]] = []

    def execute(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        self.sql.append((sql, args))
        return self.db.execute(sql, args)

    def executemany(self, sql: str, rows: list[tuple[object, ...]]) -> sqlite3.Cursor:
        return self.db.executemany(sql, rows)


@pytest.mark.parametrize("only", [False, True])
def test_latest_and_before_walk_the_target_id_index(store: SQLiteHistory, only: bool) -> None:
    """ "The latest 100" and "the 100 before" search blocks_target_id: no scan, no sort.

    The statements checked are the ones the store really runs (captured),
    so a change of query shows here.
    """
    store.db.execute("ANALYZE")  # the plan must hold with statistics too
    spy = SpyConnection(store.db)
    store.db = spy  # type: ignore[assignment]
    store.latest(ROOM, 100, messages_only=only)
    store.before(ROOM, at(15), 100, messages_only=only)
    store.before(ROOM, time_of(15), 100, messages_only=only)
    store.db = spy.db
    selects = [(sql, args) for sql, args in spy.sql if "INDEXED BY blocks_target_id" in sql]
    assert len(selects) == 3
    for sql, args in spy.sql:
        detail = plan(store, sql, args)
        assert "SCAN blocks" not in detail, (sql, detail)
        assert "TEMP B-TREE" not in detail, (sql, detail)
    for sql, args in selects:
        assert "INDEX blocks_target_id (target=? AND id<?)" in plan(store, sql, args), sql
    lookups = [(sql, args) for sql, args in spy.sql if "INDEXED BY blocks_msgid" in sql]
    assert len(lookups) == 1  # the msgid of at(15)
    for sql, args in lookups:
        detail = plan(store, sql, args)
        assert "INDEX blocks_msgid (target=? AND run=? AND last_counter>?)" in detail, sql


def test_a_failed_commit_raises_history_write_error_and_recovers(tmp_path: Path) -> None:
    """A write the database refuses becomes HistoryWriteError; later turns still commit."""
    store = SQLiteHistory(tmp_path / "h.db")
    store.db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON blocks BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    store.append(Record("m1", 1, "#a", Message("PRIVMSG", ("#a", "lost"), "x!y@z")))
    with pytest.raises(HistoryWriteError, match="disk full"):
        store.commit()
    store.db.execute("DROP TRIGGER refuse")
    store.append(Record("m2", 2, "#a", Message("PRIVMSG", ("#a", "kept"), "x!y@z")))
    store.commit()
    assert [r.message.params[1] for r in store.latest("#a", 10)] == ["kept"]
    store.close()


def test_retention_prunes_old_history_from_the_core_timer() -> None:
    """--history-days: the core's timer deletes records older than that, keeps newer ones."""
    from easychat.chat.config import CoreConfig
    from easychat.chat.core import ChatCore
    from tests.chatcore_harness import FakeClock

    clock = FakeClock()
    store = SQLiteHistory(":memory:")
    core = ChatCore(CoreConfig(history_days=1), clock=clock, history=store)
    msg = Message("PRIVMSG", ("#a", "old"), "x!y@z")
    msgid, time_ms = core.stamp()
    core.record("#a", msg, msgid, time_ms)
    core.end_turn()
    clock.advance(2 * 86400)
    msgid, time_ms = core.stamp()
    core.record("#a", Message("PRIVMSG", ("#a", "new"), "x!y@z"), msgid, time_ms)
    core.end_turn()
    core.tick()
    assert [r.message.params[1] for r in store.latest("#a", 10)] == ["new"]


def test_fail_context_from_the_client_is_made_sendable() -> None:
    """A CHATHISTORY subcommand holding a space is echoed as `*` in the FAIL, not a broken line."""
    from tests.chatcore_harness import CoreDriver

    driver = CoreDriver()
    driver.core.history = SQLiteHistory(":memory:")
    conn = driver.open()
    driver.send(conn, "NICK alice")
    driver.send(conn, "USER a 0 * :A")
    (fail,) = [m for m in driver.send(conn, "CHATHISTORY :a b") if m.command == "FAIL"]
    assert fail.params[:3] == ("CHATHISTORY", "INVALID_PARAMS", "*")

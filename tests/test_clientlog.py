"""Tests the client's local SQLite log, on real files in tmp_path."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.store.clientlog import (
    SCHEMA_VERSION,
    ClientLog,
    LogEntry,
    LogVersionError,
    default_log_dir,
    log_path,
)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[ClientLog]:
    opened = ClientLog(tmp_path / "logs" / "server.sqlite3")
    yield opened
    opened.close()


def test_append_then_recent_oldest_first(log: ClientLog) -> None:
    log.append("#lobby", 1.0, "message", "john", "How are you?")
    log.append("#lobby", 2.0, "message", "doe", "Fine. Let's go to San Francisco", own=True)
    log.append("#lobby", 3.0, "action", "john", "nods", msgid="m3")
    assert log.recent("#lobby") == [
        LogEntry(1.0, "message", "john", "How are you?", False, None),
        LogEntry(2.0, "message", "doe", "Fine. Let's go to San Francisco", True, None),
        LogEntry(3.0, "action", "john", "nods", False, "m3"),
    ]


def test_recent_returns_the_last_limit_rows(log: ClientLog) -> None:
    for i in range(10):
        log.append("#lobby", float(i), "message", "john", f"line {i}")
    assert [e.text for e in log.recent("#lobby", limit=3)] == ["line 7", "line 8", "line 9"]
    assert len(log.recent("#lobby", limit=100)) == 10
    assert len(log.recent("#lobby")) == 10
    assert log.recent("#lobby", limit=0) == []


def test_before_pages_back_from_a_time_including_it(log: ClientLog) -> None:
    """The page before a line: up to `limit` lines at or before its time, oldest first."""
    for i in range(10):
        log.append("#lobby", float(i // 2), "message", "john", f"line {i}")
    assert [e.text for e in log.before("#lobby", 2.0, limit=3)] == ["line 3", "line 4", "line 5"]
    assert [e.text for e in log.before("#LOBBY", 0.0)] == ["line 0", "line 1"]
    assert log.before("#lobby", -1.0) == []
    assert log.before("#lobby", 9.0, limit=0) == []


def test_recent_default_limit_is_fifty(log: ClientLog) -> None:
    for i in range(60):
        log.append("#lobby", float(i), "message", "john", str(i))
    entries = log.recent("#lobby")
    assert [e.text for e in entries] == [str(i) for i in range(10, 60)]


def test_recent_orders_by_time_then_by_arrival(log: ClientLog) -> None:
    """A line backfilled with an older time sorts before the lines after it."""
    log.append("#lobby", 10.0, "message", "a", "first")
    log.append("#lobby", 30.0, "message", "a", "third")
    log.append("#lobby", 20.0, "message", "a", "second")
    log.append("#lobby", 30.0, "message", "a", "fourth")
    assert [e.text for e in log.recent("#lobby")] == ["first", "second", "third", "fourth"]
    assert [e.text for e in log.recent("#lobby", limit=2)] == ["third", "fourth"]


def test_conversations_are_separate(log: ClientLog) -> None:
    log.append("#lobby", 1.0, "message", "john", "in lobby")
    log.append("doe", 2.0, "message", "doe", "private")
    assert [e.text for e in log.recent("#lobby")] == ["in lobby"]
    assert [e.text for e in log.recent("doe")] == ["private"]
    assert log.recent("#elsewhere") == []


def test_conversations_match_case_insensitively(log: ClientLog) -> None:
    log.append("#Lobby", 1.0, "message", "john", "one")
    log.append("#LOBBY", 2.0, "message", "john", "two")
    log.append("Doe[1]", 3.0, "message", "doe", "three")
    assert [e.text for e in log.recent("#lobby")] == ["one", "two"]
    # CASEMAPPING=ascii: only A-Z fold, so '[' and '{' stay distinct.
    assert [e.text for e in log.recent("doe[1]")] == ["three"]
    assert log.recent("doe{1}") == []
    # The display spelling is the one used last.
    assert log.conversations() == ["#LOBBY", "Doe[1]"]


def test_casefolding_is_ascii_only(log: ClientLog) -> None:
    log.append("#Été", 1.0, "message", "a", "x")
    assert log.recent("#éTé") == []
    assert log.recent("#ÉTÉ") == []
    assert [e.text for e in log.recent("#ÉTé")] == ["x"]


def test_conversations_sorted_case_insensitively(log: ClientLog) -> None:
    assert log.conversations() == []
    for name in ["zed", "#lobby", "Alice", "#Dev"]:
        log.append(name, 1.0, "message", "x", "hi")
    assert log.conversations() == ["#Dev", "#lobby", "Alice", "zed"]


def test_duplicate_msgid_in_a_conversation_is_ignored(log: ClientLog) -> None:
    log.append("#lobby", 1.0, "message", "john", "hi", msgid="abc")
    log.append("#LOBBY", 1.0, "message", "john", "hi again", msgid="abc")
    assert [e.text for e in log.recent("#lobby")] == ["hi"]
    # The same id in another conversation, and lines without ids, are all kept.
    log.append("#other", 1.0, "message", "john", "elsewhere", msgid="abc")
    log.append("#lobby", 2.0, "message", "john", "no id")
    log.append("#lobby", 2.0, "message", "john", "no id")
    assert [e.text for e in log.recent("#other")] == ["elsewhere"]
    assert [e.text for e in log.recent("#lobby")] == ["hi", "no id", "no id"]


def test_text_is_stored_verbatim(log: ClientLog) -> None:
    text = "[bold]x[/bold] 'quote' \"dq\" ; DROP TABLE lines; -- 👋\x01"
    log.append("#lobby", 1.5, "notice", "", text)
    assert log.recent("#lobby") == [LogEntry(1.5, "notice", "", text, False, None)]


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "server.sqlite3"
    first = ClientLog(path)
    first.append("#lobby", 1.0, "message", "john", "kept", own=True, msgid="m1")
    first.close()
    second = ClientLog(path)
    try:
        assert second.recent("#lobby") == [LogEntry(1.0, "message", "john", "kept", True, "m1")]
        assert second.conversations() == ["#lobby"]
        second.append("#lobby", 2.0, "message", "john", "dup", msgid="m1")
        assert len(second.recent("#lobby")) == 1
    finally:
        second.close()


def test_file_settings(tmp_path: Path) -> None:
    path = tmp_path / "server.sqlite3"
    with ClientLog(path):
        pass
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        indexes = {row[1] for row in db.execute("PRAGMA index_list(lines)")}
        assert "lines_by_conv_time" in indexes
    finally:
        db.close()
    assert SCHEMA_VERSION == 1


def test_recent_uses_the_index(log: ClientLog, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "logs" / "server.sqlite3")
    try:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT time, kind, sender, text, own, msgid FROM lines"
            " WHERE conv = ? ORDER BY time DESC, id DESC LIMIT ?",
            ("#lobby", 50),
        ).fetchall()
    finally:
        db.close()
    details = " ".join(str(row[-1]) for row in plan)
    assert "lines_by_conv_time" in details
    assert "TEMP B-TREE" not in details


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(LogVersionError, match="99"):
        ClientLog(path)


def test_close_twice_is_harmless(tmp_path: Path) -> None:
    opened = ClientLog(tmp_path / "x.sqlite3")
    opened.close()
    opened.close()


def test_default_log_dir_honours_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_log_dir() == tmp_path / "data" / "easychat" / "logs"


@pytest.mark.parametrize("value", [None, "", "relative/dir"])
def test_default_log_dir_falls_back_to_local_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    if value is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", value)
    assert default_log_dir() == tmp_path / ".local" / "share" / "easychat" / "logs"


@pytest.mark.parametrize(
    ("host", "port", "name"),
    [
        ("127.0.0.1", 6667, "127.0.0.1_6667.sqlite3"),
        ("irc.Example.ORG", 6697, "irc.example.org_6697.sqlite3"),
        ("::1", 6667, "__1_6667.sqlite3"),
        ("[2001:db8::1]", 7000, "2001_db8__1_7000.sqlite3"),
        ("fe80::1%eth0", 6667, "fe80__1_eth0_6667.sqlite3"),
        ("../../etc/passwd", 1, ".._.._etc_passwd_1.sqlite3"),
        ("a\\b", 1, "a_b_1.sqlite3"),
    ],
)
def test_log_path_is_a_safe_file_name(tmp_path: Path, host: str, port: int, name: str) -> None:
    path = log_path(tmp_path, host, port)
    assert path == tmp_path / name
    assert path.parent == tmp_path
    with ClientLog(path) as opened:
        opened.append("#lobby", 1.0, "message", "a", "b")
    assert path.is_file()

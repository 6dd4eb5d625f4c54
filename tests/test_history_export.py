"""`easychat history export` run as a real subprocess on a SQLite history file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from easychat.chat.history import Record, private_key
from easychat.proto.message import Message
from easychat.store.history import SQLiteHistory

# 2023-11-14T22:13:20.000Z
T0 = 1_700_000_000_000


def export(*args: str) -> subprocess.CompletedProcess[str]:
    """Runs `easychat history export ARGS` and captures its output."""
    return subprocess.run(
        [sys.executable, "-m", "easychat", "history", "export", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A history file: a few lines and events in #lobby, one elsewhere, one private."""
    path = tmp_path / "h.db"
    store = SQLiteHistory(path)
    records = [
        Record("j1", T0, "#lobby", Message("JOIN", ("#Lobby",), "bob!b@h")),
        Record(
            "m1", T0 + 1000, "#lobby", Message("PRIVMSG", ("#Lobby", "héllo, all"), "alice!a@h")
        ),
        Record(
            "m2",
            T0 + 2000,
            "#lobby",
            Message("PRIVMSG", ("#Lobby", "\x01ACTION waves\x01"), "bob!b@h"),
            {"+draft/react": "👍"},
        ),
        Record("n1", T0 + 3000, "#lobby", Message("NOTICE", ("#Lobby", "note"), "bob!b@h")),
        Record("p1", T0 + 4000, "#lobby", Message("PART", ("#Lobby", "later"), "bob!b@h")),
        Record("x1", T0 + 5000, "#other", Message("PRIVMSG", ("#other", "elsewhere"), "c!c@h")),
        Record(
            "q1",
            T0 + 6000,
            private_key("alice", "bob"),
            Message("PRIVMSG", ("bob", "secret"), "alice!a@h"),
        ),
    ]
    for record in records:
        store.append(record)
    store.close()
    return path


def test_export_txt(db: Path) -> None:
    """Text: one readable line per record of that room only, oldest first, in UTC."""
    result = export("--db", str(db), "--room", "#LOBBY", "--format", "txt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[2023-11-14 22:13:20] --> bob joined",
        "[2023-11-14 22:13:21] <alice> héllo, all",
        "[2023-11-14 22:13:22] * bob waves",
        "[2023-11-14 22:13:23] -bob- note",
        "[2023-11-14 22:13:24] <-- bob left (later)",
    ]


def test_export_txt_is_the_default(db: Path) -> None:
    """Without --format the output is text."""
    result = export("--db", str(db), "--room", "#lobby")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "[2023-11-14 22:13:21] <alice> héllo, all"


def test_export_jsonl(db: Path) -> None:
    """JSON lines: every field of each record, with the IRCv3 time format."""
    result = export("--db", str(db), "--room", "#lobby", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["msgid"] for row in rows] == ["j1", "m1", "m2", "n1", "p1"]
    assert rows[2] == {
        "time": "2023-11-14T22:13:22.000Z",
        "msgid": "m2",
        "command": "PRIVMSG",
        "source": "bob!b@h",
        "params": ["#Lobby", "\x01ACTION waves\x01"],
        "tags": {"+draft/react": "👍"},
    }


def test_export_of_a_room_without_history_is_empty(db: Path) -> None:
    """A room with nothing stored prints nothing and succeeds."""
    result = export("--db", str(db), "--room", "#quiet")
    assert (result.returncode, result.stdout) == (0, "")


def test_export_missing_file_fails_with_a_reason(tmp_path: Path) -> None:
    """A missing file: exit status 1, the reason on stderr, and no file created."""
    missing = tmp_path / "nope.db"
    result = export("--db", str(missing), "--room", "#lobby")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no history file" in result.stderr
    assert str(missing) in result.stderr
    assert not missing.exists()


def test_export_of_a_file_that_is_not_a_database_fails(tmp_path: Path) -> None:
    """A file that is not SQLite: exit status 1 with a reason, not a traceback."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    result = export("--db", str(junk), "--room", "#lobby")
    assert result.returncode == 1
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_of_a_newer_schema_fails(tmp_path: Path) -> None:
    """A file from a newer EasyChat: exit status 1, naming the version."""
    path = tmp_path / "new.db"
    store = SQLiteHistory(path)
    store.db.execute("PRAGMA user_version = 99")
    store.close()
    result = export("--db", str(path), "--room", "#lobby")
    assert result.returncode == 1
    assert "99" in result.stderr


def test_export_of_an_older_schema_leaves_it_unmigrated(tmp_path: Path) -> None:
    """A schema-2 file (JSON columns) is exported through a migrated copy in memory;
    the file itself stays at schema 2 for the server that owns it."""
    path = tmp_path / "old.db"
    legacy = sqlite3.connect(path)
    legacy.executescript(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, msgid TEXT NOT NULL,"
        " target TEXT NOT NULL, time_ms INTEGER NOT NULL, command TEXT NOT NULL, source TEXT,"
        " params TEXT NOT NULL, tags TEXT, UNIQUE (target, msgid));"
        " CREATE TABLE conversations (target TEXT PRIMARY KEY, first TEXT NOT NULL,"
        " second TEXT NOT NULL) WITHOUT ROWID;"
        " PRAGMA user_version = 2;"
    )
    legacy.execute(
        "INSERT INTO messages (msgid, target, time_ms, command, source, params)"
        " VALUES ('m1', '#lobby', ?, 'PRIVMSG', 'alice!a@h', '[\"#lobby\", \"from before\"]')",
        (T0,),
    )
    legacy.commit()
    legacy.close()
    result = export("--db", str(path), "--room", "#lobby")
    assert result.returncode == 0, result.stderr
    assert "from before" in result.stdout
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone() == (2,)
    check.close()

"""The history's WAL is checkpointed off the server loop, and stays bounded (real SQLite files)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from easychat.store.history import WAL_BACKSTOP_PAGES, SQLiteHistory
from tests.historyrows import stored_rows

# A relayed line of about the benchmark's size.
LINE = ":ib0!ib0@127.0.0.1 PRIVMSG #bench :" + "lorem ipsum dolor sit amet " * 4
# Turns of 100 rows: about 2,000 WAL pages, twice SQLite's default
# autocheckpoint (1,000 pages).
TURNS = 200
ROWS_PER_TURN = 100
# Generous: the checkpointer runs twice a second; CI machines are slow.
WAIT_SECONDS = 30.0


def write_turns(history: SQLiteHistory, start: int = 0) -> int:
    n = start
    for _ in range(TURNS):
        for _ in range(ROWS_PER_TURN):
            n += 1
            history.append_line(f"m{n:x}", 1_000 + n, "#bench", "PRIVMSG", LINE)
        history.commit()
    return n


def test_the_loops_connection_checkpoints_only_as_a_backstop(tmp_path: Path) -> None:
    """A commit (on the loop) checkpoints only past the backstop, not every 1,000 pages."""
    history = SQLiteHistory(tmp_path / "history.sqlite3")
    try:
        pages = history.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert pages == WAL_BACKSTOP_PAGES > 1000
    finally:
        history.close()


def test_wal_is_checkpointed_and_restarted_while_the_server_writes(tmp_path: Path) -> None:
    """The checkpointer copies committed turns into the file, so the WAL does not grow forever."""
    path = tmp_path / "history.sqlite3"
    wal = Path(str(path) + "-wal")
    history = SQLiteHistory(path)
    try:
        n = write_turns(history)
        # Everything written so far gets checkpointed...
        deadline = time.monotonic() + WAIT_SECONDS
        while history.checkpointed_frames() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a condition, with a deadline
        assert history.checkpointed_frames() >= 1
        # ...and a flood that never pauses still reuses the WAL from its start.
        page = history.db.execute("PRAGMA page_size").fetchone()[0]
        for _ in range(4):
            n = write_turns(history, n)
            assert wal.stat().st_size < 2 * WAL_BACKSTOP_PAGES * page
    finally:
        history.close()
    db = sqlite3.connect(path)
    assert len(stored_rows(db)) == n
    db.close()


def test_close_stops_the_checkpointer(tmp_path: Path) -> None:
    """After close no thread of the history is left running."""

    before = set(threading.enumerate())
    history = SQLiteHistory(tmp_path / "history.sqlite3")
    write_turns(history)
    history.close()
    assert set(threading.enumerate()) <= before


def test_memory_history_has_no_checkpointer() -> None:
    """`:memory:` has no WAL: no thread is started for it."""

    before = threading.active_count()
    history = SQLiteHistory(":memory:")
    assert threading.active_count() == before
    history.close()

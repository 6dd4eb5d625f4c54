"""Provides the search index's figures for the history benchmark: how far it kept up, its cost.

After a run with a history file, `index_cost` reads how much of the history
the server's idle turns had indexed when it stopped, then indexes the whole
file again (the index emptied first) in the server's steps, timing each.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from easychat.net.indexing import INDEX_STEP_RECORDS
from easychat.store.history import SQLiteHistory
from easychat.store.history_search import HistorySearch


@dataclass(frozen=True)
class IndexCost:
    """The search index of one history file."""

    records: int  # records in the history (room events too; only messages are indexed)
    live: int  # records the server had indexed when it stopped
    seconds: float  # indexing everything again, in the server's steps
    steps: int
    slowest_step: float  # seconds

    def report(self) -> str:
        """One line for the benchmark's table."""
        rate = self.records / self.seconds if self.seconds > 0 else 0.0
        slowest = 1000 * self.slowest_step
        return (
            f"search index: {self.live:,}/{self.records:,} records indexed live;"
            f" {self.records:,} records re-indexed in {self.seconds:.3f} s ({rate:,.0f}/s),"
            f" {self.steps} steps of {INDEX_STEP_RECORDS:,}, slowest {slowest:.1f} ms"
        )


def index_cost(path: Path) -> IndexCost:
    """The figures of the history file at `path` (no server may be using it)."""
    history = SQLiteHistory(path)
    try:
        db = history.db
        search = HistorySearch(history)
        (live,) = db.execute("SELECT COUNT(*) FROM search_text").fetchone()
        (records,) = db.execute("SELECT COALESCE(SUM(count), 0) FROM blocks").fetchone()
        db.execute("INSERT INTO search_text (search_text) VALUES ('delete-all')")
        db.execute("UPDATE search_state SET indexed = -1")
        steps, slowest = 0, 0.0
        start = time.perf_counter()
        more = True
        while more:
            began = time.perf_counter()
            more = search.index_some(INDEX_STEP_RECORDS)
            slowest = max(slowest, time.perf_counter() - began)
            steps += 1
        seconds = time.perf_counter() - start
    except sqlite3.Error as exc:
        raise OSError(f"search index: {exc}") from exc
    finally:
        history.close()
    return IndexCost(int(records), int(live), seconds, steps, slowest)

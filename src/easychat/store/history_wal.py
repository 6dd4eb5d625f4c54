"""Provides the history's WAL upkeep: checkpoints beside the server loop."""

from __future__ import annotations

import sqlite3
import threading

# How often the checkpointer copies committed turns from the WAL into the
# database file. At relay speed (tens of thousands of ~200-byte rows a
# second) half a second of turns is a few MB of WAL: bounded, and each
# checkpoint is large enough to be written efficiently.
CHECKPOINT_SECONDS = 0.5

# WAL pages past which a commit on the loop checkpoints after all (SQLite's
# automatic checkpoint, default 1,000 pages). A PASSIVE checkpoint on
# another connection never finishes while the writer keeps appending, and
# only a finished one lets the WAL start over: under a flood that never
# pauses, this backstop keeps the WAL at most about 16 MiB (4 KiB pages).
# The checkpointer has then already copied nearly all of it, so the loop's
# share is small.
WAL_BACKSTOP_PAGES = 4096


class Checkpointer:
    """Checkpoints a WAL database from its own thread and connection.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000
    WAL pages: on the server loop, a turn that copies megabytes and fsyncs
    the database file while every client waits. Here a PASSIVE checkpoint
    (which never blocks the writer, nor waits for it) runs every
    CHECKPOINT_SECONDS on a second connection; sqlite3 releases the GIL
    while SQLite works, so the loop keeps relaying. The thread touches the
    file only, never chat state, and a commit is as durable as before: a
    checkpoint copies only what the WAL already holds.
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._stop = threading.Event()
        self.frames = 0  # frames copied into the database file so far
        self._thread = threading.Thread(target=self._run, name="history-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_SECONDS):
            self.checkpoint()

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint (a failure is retried on the next round)."""
        try:
            row = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            return  # busy or I/O error: the WAL keeps the data; next round
        if row is not None and row[2] > 0:
            self.frames += int(row[2])

    def close(self) -> None:
        """Stops the thread and closes its connection."""
        self._stop.set()
        self._thread.join()
        self._db.close()

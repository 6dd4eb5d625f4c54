"""Provides Syncer: the history's fsync of one loop turn, run beside the loop."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class Syncer:
    """Runs one `sync` (an fsync of the history) at a time on its own thread.

    The loop commits a turn (SQLite writes the WAL, no fsync), starts the
    sync, and goes on reading and relaying the next turns while the disk
    works; the committed turn's output is sent only once `finished` says
    the sync is done (see Server._release). The thread calls `sync` only:
    it never touches chat state, which stays the loop's alone. When a sync
    ends, a byte on `wake` wakes the loop's select.
    """

    def __init__(self, sync: Callable[[], None], wake: socket.socket) -> None:
        self._sync = sync
        self._wake = wake
        self._go = threading.Event()
        self._done = threading.Event()
        self._closing = False
        self.busy = False  # a sync started and not yet collected by `finished`
        self.error: str | None = None  # the last sync's failure, if it failed
        self._thread = threading.Thread(target=self._run, name="history-sync", daemon=True)
        self._thread.start()

    def start(self) -> None:
        """Starts a sync of everything committed so far (none may be running)."""
        assert not self.busy
        self.busy = True
        self._done.clear()
        self._go.set()

    def finished(self) -> bool:
        """True once, when the running sync has ended (then `error` says how)."""
        if self.busy and self._done.is_set():
            self.busy = False
            return True
        return False

    def wait(self) -> None:
        """Waits for the running sync, if any, to end."""
        if self.busy:
            self._done.wait()

    def close(self) -> None:
        """Waits for the running sync and stops the thread."""
        self.wait()
        self._closing = True
        self._go.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            if self._closing:
                return
            try:
                self._sync()
                self.error = None
            except OSError as exc:
                self.error = str(exc)
            self._done.set()
            # OSError: a wake-up byte is already pending, or the pair is closed.
            with contextlib.suppress(OSError):
                self._wake.send(b"\0")

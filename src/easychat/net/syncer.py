"""Provides Syncer: the history's fsyncs of loop turns, run beside the loop."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

# Syncs that may run at once. A sync covers every turn committed before it
# started; with one at a time, a turn committed while a sync runs waits for
# the rest of that one and then the whole of its own. A second thread lets
# its own sync start at once, so a message waits about one fsync, not two;
# the disk merges the cache flushes of syncs that overlap.
SYNC_THREADS = 2


class Syncer:
    """Runs `sync` (an fsync of the history) on up to SYNC_THREADS threads.

    The loop commits a turn (SQLite writes the WAL, no fsync), starts a
    sync, and goes on reading and relaying the next turns while the disk
    works; the committed turn's output is sent only once `finished` says a
    sync started after its commit is done (see Server._release). The
    threads call `sync` only: they never touch chat state, which stays the
    loop's alone. When a sync ends, a byte on `wake` wakes the loop's
    select.

    Syncs are numbered from 1 in the order they start; a sync that ends
    makes durable every turn committed before it started, whether or not
    syncs started earlier have ended yet.
    """

    def __init__(self, sync: Callable[[], None], wake: socket.socket) -> None:
        self._sync = sync
        self._wake = wake
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._closing = False
        self._queued = 0  # the number of the last sync started
        self._taken = 0  # the number of the last sync a thread has taken up
        self._running = 0  # syncs started and not yet ended
        self._ended = 0  # the highest number among syncs that have ended
        self._collected = 0  # the highest number `finished` has returned
        self._error: str | None = None  # the failure of a sync since the last `finished`
        self.error: str | None = None  # a failure among the syncs `finished` reported
        self._threads = [
            threading.Thread(target=self._run, name=f"history-sync-{n}", daemon=True)
            for n in range(SYNC_THREADS)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def free(self) -> bool:
        """Whether a sync may start now (a thread is idle)."""
        return self._running < SYNC_THREADS

    @property
    def busy(self) -> bool:
        """Whether a sync has started and its end was not yet collected by `finished`."""
        return self._collected < self._queued

    def start(self) -> int:
        """Starts a sync of everything committed so far; returns its number."""
        with self._lock:
            assert self._running < SYNC_THREADS
            self._queued += 1
            self._running += 1
            self._work.notify_all()
            return self._queued

    def finished(self) -> int:
        """The highest-numbered sync that has ended and was not reported yet, or 0.

        Every turn committed before that sync started is durable; `error`
        says whether any sync ended since the last call failed.
        """
        with self._lock:
            if self._ended <= self._collected:
                return 0
            self._collected = self._ended
            self.error, self._error = self._error, None
            return self._collected

    def wait(self) -> None:
        """Waits for every running sync to end."""
        with self._lock:
            while self._running:
                self._work.wait()

    def close(self) -> None:
        """Waits for the running syncs and stops the threads."""
        self.wait()
        with self._lock:
            self._closing = True
            self._work.notify_all()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._taken == self._queued and not self._closing:
                    self._work.wait()
                if self._closing:
                    return
                self._taken += 1
                number = self._taken
            error: str | None = None
            try:
                self._sync()
            except OSError as exc:
                error = str(exc)
            with self._lock:
                self._running -= 1
                self._ended = max(self._ended, number)
                if error is not None:
                    self._error = error
                self._work.notify_all()
            # OSError: a wake-up byte is already pending, or the pair is closed.
            with contextlib.suppress(OSError):
                self._wake.send(b"\0")

"""Provides the server's console: a bounded, non-blocking buffer for its own output.

Log records, message lines and notices are appended as whole lines and
written by the selector loop, once per turn, without ever blocking it. When
nobody reads the console (a stalled `| less`, a terminal paused with Ctrl+S,
a stuck log collector) or its disk is full, lines beyond the bound are
dropped and counted, and the count is written once the console takes
output again. Only console lines are ever lost: the chat itself does not
wait for the console.

Which descriptor is written (see `open_console`): O_NONBLOCK is a flag of
the open file description, which a dup() shares, so setting it on the
inherited stdout would also make the parent shell's (or a sibling's)
writes fail with EAGAIN. A terminal or pipe is therefore opened again
(`/proc/self/fd/1`, or the terminal's name), giving a description of our
own; a regular file or device is written as it is (they never return
EAGAIN; a full disk fails the write); only a socket (systemd's journal)
or a pipe that cannot be reopened gets O_NONBLOCK on stdout itself, put
back as it was when the console closes.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import select
import stat
import time
from collections.abc import Callable

# Bytes of console output held while the console does not take them. 1 MiB
# is about 10,000 log lines: a busy server's log for well over a minute, so
# a terminal paused for a look or a collector restarting loses nothing,
# while a console gone for good costs no more memory than one client's
# send queue (net/server.py SENDQ_BYTES).
CONSOLE_BUFFER_BYTES = 1 << 20

# After a write error other than "would block" (ENOSPC, EIO), seconds before
# the next attempt: a full disk is not freed within one loop turn, and one
# failing system call a second costs nothing.
RETRY_SECONDS = 1.0

# At exit, how long the console may take the rest of the output before it is
# dropped: a stalled console must not keep a stopping server alive either.
CLOSE_GRACE_SECONDS = 1.0

# Errors after which the console is gone for good: nothing is written again.
_GONE = frozenset({errno.EPIPE, errno.EBADF, errno.EINVAL})


def report_line(dropped: int) -> bytes:
    """The line that tells how many lines were lost."""
    return f"… {dropped:,} log lines dropped: the console was not being read\n".encode()


class Console:
    """A bounded queue of output lines for one descriptor, written without blocking.

    `write` appends a whole line (or drops it, counted, when the buffer is
    full); `flush` writes what the descriptor takes now. Once a line was
    dropped, every line is dropped until the buffer has drained, so the loss
    is one gap, reported by one line where it happened.
    """

    def __init__(
        self,
        fd: int,
        limit: int = CONSOLE_BUFFER_BYTES,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.fd = fd
        self.limit = limit
        self.clock = clock
        self._buf = bytearray()
        self.dropped = 0  # lines lost since the last report was written
        self.dropping = False
        self.gone = False  # the reader went away (EPIPE): nothing is written again
        self._report = 0  # bytes of a report still at the start of the buffer
        self._reported = 0  # the count that report carries
        self._retry_at = 0.0
        self._on_close = on_close

    @property
    def pending(self) -> bool:
        """Whether output is waiting to be written."""
        return bool(self._buf) or (self.dropping and not self.gone)

    def write(self, line: bytes) -> None:
        """Queues `line` (ending in a newline), or drops and counts it."""
        if self.dropping or len(self._buf) + len(line) > self.limit:
            self.dropped += 1
            self.dropping = True
            return
        self._buf += line

    def flush(self) -> bool:
        """Writes what the descriptor takes now; returns True if it would block."""
        if self.gone or self.clock() < self._retry_at:
            return False
        buf = self._buf
        while buf:
            try:
                sent = os.write(self.fd, buf)
            except BlockingIOError:
                return True
            except InterruptedError:
                continue
            except OSError as exc:
                self._lose(exc)
                return False
            del buf[:sent]
            if self._report:
                taken = min(sent, self._report)
                self._report -= taken
                if not self._report:
                    self._reported = 0
        if self.dropping:
            self.dropping = False
            if self.dropped:
                report = report_line(self.dropped)
                self._buf += report
                self._report, self._reported = len(report), self.dropped
                self.dropped = 0
                return self.flush()
        return False

    def _lose(self, exc: OSError) -> None:
        """A write failed: what is queued is dropped and counted, and retried later."""
        lines = self._buf.count(b"\n")
        if self._report:
            lines += self._reported - 1  # the report's own count, not the report
        self.dropped += lines
        self._buf.clear()
        self._report = self._reported = 0
        self.dropping = True
        self._retry_at = self.clock() + RETRY_SECONDS
        if exc.errno in _GONE:
            self.gone = True

    def close(self, grace: float = CLOSE_GRACE_SECONDS) -> None:
        """Writes what is left within `grace` seconds, then lets the descriptor go."""
        deadline = time.monotonic() + grace
        self._retry_at = 0.0
        while self.pending and not self.gone:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if self.flush():
                with contextlib.suppress(OSError, ValueError):
                    select.select([], [self.fd], [], remaining)
            elif self.pending:
                break  # a write error: the disk will not empty now
        if self._on_close is not None:
            self._on_close()


# C0, DEL and C1 control characters. Log records carry untrusted text
# (quit and kick reasons, topics, WALLOPS, room names may hold ESC): shown
# as '?', they can neither drive the operator's terminal nor forge a line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class NoControlCharacters(logging.Filter):
    """Replaces control characters in a record's message with '?' (a handler's filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _CONTROL.sub("?", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class ConsoleHandler(logging.Handler):
    """A logging handler that queues each formatted record on a Console."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        """Formats `record` and queues it; never blocks, never raises."""
        try:
            self.console.write(self.format(record).encode(errors="replace") + b"\n")
        except Exception:
            self.handleError(record)


class ConsoleFile:
    """A text file object over a Console, for writers such as rich's Console."""

    def __init__(self, console: Console, tty: bool) -> None:
        self.console = console
        self.tty = tty
        self._partial = ""

    def write(self, text: str) -> int:
        """Queues each complete line of `text`; keeps a trailing partial line."""
        data = self._partial + text
        head, sep, self._partial = data.rpartition("\n")
        if sep:
            self.console.write((head + "\n").encode(errors="replace"))
        return len(text)

    def flush(self) -> None:
        """Nothing: the server's loop writes the console."""

    def isatty(self) -> bool:
        """Whether the console is a terminal (rich colours only then)."""
        return self.tty


def open_console(fd: int = 1, limit: int = CONSOLE_BUFFER_BYTES) -> Console:
    """A Console on stdout (`fd`) that never blocks and never changes the parent's flags.

    See the module docstring for which descriptor is written and why.
    """
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return Console(fd, limit)  # stdout is closed: writes fail, lines are counted
    if stat.S_ISREG(mode) or not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)):
        return Console(fd, limit)  # a file or a device: never EAGAIN
    if not stat.S_ISSOCK(mode):
        names = [f"/proc/self/fd/{fd}"]
        if os.isatty(fd):
            names.append(os.ttyname(fd))
        for name in names:
            try:
                own = os.open(name, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
            except OSError:
                continue
            return Console(own, limit, on_close=functools.partial(os.close, own))
    blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    return Console(fd, limit, on_close=lambda: os.set_blocking(fd, blocking))

"""Provides the lock that keeps a second server off a history file in use."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from easychat.store.private import PRIVATE_FILE_MODE, private_dir

# The lock file sits beside the database: `<db>.lock`. Not the database
# itself: SQLite takes its own POSIX locks on that file, and an flock there
# could interact with them on some systems.
LOCK_SUFFIX = ".lock"


class InUseError(Exception):
    """Another process holds the lock on a history file."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        holder = f" (pid {pid})" if pid is not None else ""
        super().__init__(f"{path} is in use by another easychat server{holder}")


class HistoryLock:
    """An exclusive advisory lock (flock) on `<db>.lock`, held until released.

    The kernel drops it when the process ends, however it ends (kill -9
    included), so a stale lock file never keeps a server out.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Releases the lock (closing the file is enough for flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def hold_lock(db: Path) -> HistoryLock:
    """Takes the lock beside `db`, creating the lock file 0600, and writes our pid in it.

    Raises:
        InUseError: another process (or another lock in this one) holds it.
        OSError: the lock file cannot be created.
    """
    path = Path(f"{db}{LOCK_SUFFIX}")
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _read_pid(fd)
        os.close(fd)
        raise InUseError(db, pid) from None
    except BaseException:
        os.close(fd)
        raise
    os.fchmod(fd, PRIVATE_FILE_MODE)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return HistoryLock(path, fd)


def _read_pid(fd: int) -> int | None:
    """The pid the holder wrote, if it has written one yet."""
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None

"""Provides private files and directories: 0600 and 0700 whatever the umask, and the check."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Files EasyChat creates hold password hashes, private messages or a TLS
# key: only their owner may read them (the usual umask 022 would give 0644).
PRIVATE_FILE_MODE = 0o600
# Directories EasyChat creates: only their owner may list or enter them
# (what the XDG base directory spec asks for directories it creates).
PRIVATE_DIR_MODE = 0o700

# The bits that let group or others read a file.
_READABLE_BY_OTHERS = stat.S_IRGRP | stat.S_IROTH

# SQLite's companions of a database in WAL mode.
SQLITE_SIDECARS = ("-wal", "-shm")


def private_dir(path: Path) -> Path:
    """Creates `path` and any missing parents 0700; existing ones are left as they are.

    Returns:
        `path`.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs to keep
        directory.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is cut by the umask
    return path


def private_file(path: Path) -> Path:
    """Creates `path` empty and 0600 (its directories 0700) unless it exists.

    An existing file keeps its mode: see `readable_by_others` for the warning.

    Returns:
        `path`.
    """
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # os.open's mode is cut by the umask
    finally:
        os.close(fd)
    return path


def private_sqlite(path: Path) -> Path:
    """`private_file` for a SQLite database, before SQLite opens it.

    SQLite creates the -wal and -shm files with the database's own mode, so a
    0600 database gets 0600 companions. Companions left from an earlier run
    are given the database's mode too.

    Returns:
        `path`.
    """
    private_file(path)
    db_mode = stat.S_IMODE(path.stat().st_mode)
    for suffix in SQLITE_SIDECARS:
        sidecar = Path(f"{path}{suffix}")
        try:
            if stat.S_IMODE(sidecar.stat().st_mode) != db_mode:
                sidecar.chmod(db_mode)
        except FileNotFoundError:
            continue
    return path


def readable_by_others(path: Path) -> bool:
    """Whether group or others may read `path` (False if it does not exist)."""
    try:
        return bool(path.stat().st_mode & _READABLE_BY_OTHERS)
    except FileNotFoundError:
        return False


def exposure_warning(path: Path, what: str) -> str | None:
    """Why and how to fix it, if other users can read `path`, else None.

    Args:
        path: The file to check.
        what: What it holds, for the message ("history file (messages and
            password hashes)").
    """
    if not readable_by_others(path):
        return None
    current = stat.S_IMODE(path.stat().st_mode)
    return (
        f"{what} {path} can be read by other users (mode {current:04o}); "
        f"make it private with: chmod 600 {path}"
    )

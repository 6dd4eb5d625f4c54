"""Two servers on one history file: the second refuses to start, naming the file.

On a shared host `--db` can point two users' servers (or one user's two) at
the same file. Both writing it would interleave two histories and two sets
of accounts; an advisory lock beside the file lets only the first in.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from easychat.store.lock import InUseError, hold_lock
from tests.ircclient import TIMEOUT
from tests.serverproc import clean_env, server_process

# Seconds the refused server may take to start Python and exit.
EXIT_WAIT = 10 * TIMEOUT


def serve(db: Path) -> subprocess.CompletedProcess[str]:
    """`easychat serve --db DB` run to its end (it must not start)."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "easychat", "serve", "--host", "127.0.0.1", "--port", "0"),
            *("--db", str(db)),
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=EXIT_WAIT,
        check=False,
    )


def test_second_server_on_one_db_refuses_to_start(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    with server_process(db) as first:
        second = serve(db)
        assert second.returncode != 0
        assert second.stderr.strip() == (
            f"easychat serve: error: --db: {db} is in use by another easychat server"
            f" (pid {first.proc.pid})"
        )
        assert first.proc.poll() is None  # the first one runs on
    lock = Path(f"{db}.lock")
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_lock_is_released_when_the_server_ends(tmp_path: Path) -> None:
    """Once the first server is gone (even killed), a new one starts on the file."""
    db = tmp_path / "h.db"
    with server_process(db) as first:
        first.kill9()
    with server_process(db) as again:
        assert again.proc.poll() is None


def test_hold_lock_names_the_holder(tmp_path: Path) -> None:
    """In one process too: a second hold of the same file fails with the holder's pid."""
    db = tmp_path / "h.db"
    held = hold_lock(db)
    try:
        with pytest.raises(InUseError) as info:
            hold_lock(db)
        assert info.value.pid == os.getpid()
        assert str(db) in str(info.value)
    finally:
        held.release()
    hold_lock(db).release()

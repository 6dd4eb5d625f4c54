"""Files EasyChat creates are private: 0600 files in 0700 directories, whatever the umask.

The server's history file holds password hashes and private messages, the
TLS key is a secret, and the client's logs hold private conversations. With
the usual umask 022 they were created 0644 in 0755 directories, readable by
every user of a shared host.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.cli.commands import build_parser
from easychat.cli.options.tls import server_tls
from easychat.cli.serve import SERVE_OPTIONS
from easychat.cli.settings import resolve
from easychat.net.tls import ensure_self_signed
from easychat.store.clientlog import ClientLog
from tests.serverproc import history_client, server_process


def mode(path: Path) -> int:
    """The permission bits of `path`."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask for the test (and the servers it starts), restored after."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_server_history_and_its_wal_are_private(tmp_path: Path) -> None:
    """`easychat serve --db new/dir/h.db` creates the directory 0700 and the
    history file, its -wal and -shm 0600."""
    db = tmp_path / "new" / "dir" / "h.db"
    with server_process(db) as proc:
        alice = history_client(proc.port, "alice")
        alice.send("PRIVMSG #lobby :a private word")
        alice.expect("PRIVMSG")  # echo-message: stored and committed
        alice.close()
        for path in (db, db.with_name("h.db-wal"), db.with_name("h.db-shm")):
            assert path.exists(), path
            assert mode(path) == 0o600, f"{path}: {oct(mode(path))}"
        assert mode(db.parent) == 0o700
        assert mode(db.parent.parent) == 0o700
        assert not any("can be read by other users" in line for line in proc.output)


@pytest.mark.usefixtures("umask_022")
def test_serve_warns_about_a_history_file_others_can_read(tmp_path: Path) -> None:
    """An existing history file readable by group or others is named at start-up,
    with the chmod that fixes it; EasyChat does not change it behind the owner's back."""
    db = tmp_path / "h.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    with server_process(db) as proc:
        warnings = [line for line in proc.output if "WARNING" in line]
    assert any(str(db) in line and f"chmod 600 {db}" in line for line in warnings), proc.output
    assert mode(db) == 0o644


@pytest.mark.usefixtures("umask_022")
def test_client_log_and_its_directory_are_private(tmp_path: Path) -> None:
    """The client's local log (private messages) is created 0600 with its
    -wal/-shm, in directories created 0700."""
    path = tmp_path / "data" / "logs" / "127.0.0.1-6667.sqlite3"
    with ClientLog(path) as log:
        log.append("bob", 1.0, "message", "bob", "psst")
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert file.exists(), file
            assert mode(file) == 0o600, f"{file}: {oct(mode(file))}"
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700


@pytest.mark.usefixtures("umask_022")
def test_self_signed_pair_and_directory_are_private(tmp_path: Path) -> None:
    """`--tls-self-signed` writes its key and certificate 0600 in a 0700 directory."""
    directory = tmp_path / "xdg" / "easychat" / "tls"
    cert, key = directory / "cert.pem", directory / "key.pem"
    assert ensure_self_signed(cert, key, ("localhost",))
    assert mode(key) == 0o600
    assert mode(cert) == 0o600
    assert mode(directory) == 0o700
    assert mode(directory.parent) == 0o700


@pytest.mark.usefixtures("umask_022")
def test_serve_warns_about_a_tls_key_others_can_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A TLS key readable by group or others is named at start-up with its chmod."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    ensure_self_signed(cert, key, ("localhost",))
    key.chmod(0o640)
    args = build_parser().parse_args(["serve", "--tls-cert", str(cert), "--tls-key", str(key)])
    with caplog.at_level(logging.WARNING):
        assert server_tls(resolve(args, SERVE_OPTIONS, {})) is not None
    assert any(
        str(key) in r.getMessage()
        and re.search(rf"chmod 600 {re.escape(str(key))}", r.getMessage())
        for r in caplog.records
    ), caplog.records

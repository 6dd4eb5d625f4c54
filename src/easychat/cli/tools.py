"""Provides the offline subcommands: `hash-password` and `history export`."""

from __future__ import annotations

import getpass
import os
import sqlite3
import sys
from pathlib import Path

from easychat.chat.identity.passwords import hash_password
from easychat.proto.names import casefold
from easychat.store.export import as_jsonl, as_text
from easychat.store.history import HistoryVersionError, SQLiteHistory


def print_password_hash() -> int:
    """Prints the scrypt hash of a password read from the terminal or stdin."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("easychat hash-password: the passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("easychat hash-password: empty password", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def export_history(db: str, room: str, fmt: str) -> int:
    """Prints one room's history; exit status 1 with a reason on failure."""
    if not Path(db).is_file():
        print(f"easychat history export: no history file at {db}", file=sys.stderr)
        return 1
    try:
        store = SQLiteHistory.read_only(db)
    except (sqlite3.Error, HistoryVersionError) as exc:
        print(f"easychat history export: cannot read {db}: {exc}", file=sys.stderr)
        return 1
    try:
        records = store.export(casefold(room))
    finally:
        store.close()
    try:
        for line in (as_jsonl if fmt == "jsonl" else as_text)(records):
            print(line)
    except BrokenPipeError:  # `| head` stopped reading: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
    return 0

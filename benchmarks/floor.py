"""Provides the floor for the one-to-one scenario: the least a Python relay can do per message.

    .venv/bin/python benchmarks/floor.py --port 6668                # relay only
    .venv/bin/python benchmarks/floor.py --port 6668 --db FILE      # plus a SQLite row per message

Not a chat server: one selectors loop that answers NICK/USER with 001 and
relays `PRIVMSG <nick> :<text>` to that nick, prefixed with the sender,
and nothing else: no parsing beyond a partition, no checks, no tags, no
msgids. With `--db` it also stores one row per message, shaped like
EasyChat's history (schema 3: target, time, msgid, command, line, with
UNIQUE (target, msgid) and an index on (target, id)), and commits once per
loop turn before it writes, as EasyChat does (WAL, synchronous=FULL).

`make bench` runs it in the one-to-one scenario beside ngircd: the two
rows say how much of ngircd's rate any single-threaded CPython relay gets,
without and with a durable row per message. EasyChat can be measured
against that floor rather than against C.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import sqlite3
import time

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, target TEXT NOT NULL,"
    " time_ms INTEGER NOT NULL, msgid TEXT NOT NULL, command TEXT NOT NULL, line TEXT NOT NULL,"
    " UNIQUE (target, msgid))",
    "CREATE INDEX IF NOT EXISTS messages_target_id ON messages (target, id)",
)
INSERT = "INSERT INTO messages (target, time_ms, msgid, command, line) VALUES (?, ?, ?, ?, ?)"


class Peer:
    """One client: its socket, unread tail, prefix and pending output."""

    __slots__ = ("out", "prefix", "sock", "tail", "writing")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.tail = b""
        self.prefix = b""
        self.out: list[bytes] = []
        self.writing = False


def serve(port: int, db_path: str | None) -> None:
    db = None
    if db_path:
        db = sqlite3.connect(db_path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        for statement in SCHEMA:
            db.execute(statement)
    sel = selectors.DefaultSelector()
    listener = socket.create_server(("127.0.0.1", port), backlog=1024)
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    nicks: dict[bytes, Peer] = {}
    rows: list[tuple[str, int, str, str, str]] = []
    seq = 0
    while True:
        dirty: set[Peer] = set()
        for key, mask in sel.select():
            peer = key.data
            if peer is None:
                sock, _ = listener.accept()
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ, Peer(sock))
                continue
            if mask & selectors.EVENT_WRITE:
                dirty.add(peer)
            if not mask & selectors.EVENT_READ:
                continue
            data = peer.sock.recv(65536)
            if not data:
                sel.unregister(peer.sock)
                peer.sock.close()
                continue
            *lines, peer.tail = (peer.tail + data).split(b"\r\n")
            for line in lines:
                if line.startswith(b"PRIVMSG "):
                    name = line[8:].partition(b" ")[0]
                    target = nicks.get(name)
                    if target is None:
                        continue
                    body = peer.prefix + line
                    if db is not None:
                        seq += 1
                        when = int(time.time() * 1000)
                        rows.append((name.decode(), when, f"f{seq:x}", "PRIVMSG", body.decode()))
                    target.out.append(body + b"\r\n")
                    dirty.add(target)
                elif line.startswith(b"NICK "):
                    nicks[line[5:]] = peer
                    peer.prefix = b":" + line[5:] + b"!floor@127.0.0.1 "
                elif line.startswith(b"USER "):
                    peer.out.append(b":floor 001 you :Welcome\r\n")
                    dirty.add(peer)
        if db is not None and rows:
            db.execute("BEGIN")
            db.executemany(INSERT, rows)
            db.execute("COMMIT")
            rows.clear()
        for peer in dirty:
            data = b"".join(peer.out)
            try:
                sent = peer.sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                continue
            peer.out = [data[sent:]] if sent < len(data) else []
            if bool(peer.out) != peer.writing:
                peer.writing = bool(peer.out)
                events = selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.writing else 0)
                sel.modify(peer.sock, events, peer)


def main() -> None:
    parser = argparse.ArgumentParser(description="The one-to-one floor: a minimal relay.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", help="store a row per message in this SQLite file")
    args = parser.parse_args()
    serve(args.port, args.db)  # until SIGTERM ends the process


if __name__ == "__main__":
    main()

"""Durability of server history: what a client was sent survives `kill -9` of the server."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

from easychat.chat.config import HISTORY_PAGE
from easychat.proto.message import Message
from tests.ircclient import TIMEOUT, IRCClient
from tests.serverproc import Multiplexer, history_client, read_batch, server_process

NICKS = ("alice", "bob", "carol")
LOBBY = "#lobby"
# Room messages per client: 300 in all, three pages of CHATHISTORY.
LOBBY_PER_CLIENT = 100
# Private conversations, all with alice so that she alone can read them back.
PRIVATE = (("alice", "bob"), ("bob", "alice"), ("carol", "alice"))
# alice registers her nick, so that after the restart she can log in and read
# her private conversations in full (anyone else only reads their session's).
PASSWORD = "durable history password"
PRIVATE_EVERY = 20  # one private message per sender every this many room messages
# The server is killed once this many echoes have come back: most of the
# plan, so the history spans three pages, but not all of it.
KILL_AFTER = 270
# Messages sent but not yet echoed, at most: the server always has work in
# hand, so the kill lands with messages in flight.
IN_FLIGHT = 30
# More pages than the history can hold means the paging never ends.
MAX_PAGES = 10

# (sender nick, target as sent, text)
Sent = tuple[str, str, str]


def planned_messages() -> list[Sent]:
    """Every message the test sends, in sending order, each text unique."""
    plan: list[Sent] = []
    for i in range(LOBBY_PER_CLIENT):
        for nick in NICKS:
            plan.append((nick, LOBBY, f"room message {i} from {nick}"))
        if i % PRIVATE_EVERY == PRIVATE_EVERY // 2:
            plan.extend((src, dst, f"private {i} from {src} to {dst}") for src, dst in PRIVATE)
    return plan


def as_sent(msg: Message) -> Sent:
    """A relayed or replayed PRIVMSG as (sender nick, target, text)."""
    assert msg.nick is not None, msg
    return msg.nick, msg.params[0], msg.params[1]


def page_through(client: IRCClient, target: str) -> list[Message]:
    """Every message of `target`'s history, oldest first, fetched a page at a time.

    LATEST gives the newest page; then BEFORE the oldest msgid of the last
    page, until a page comes back empty.
    """
    _, page = read_batch(client, f"CHATHISTORY LATEST {target} * {HISTORY_PAGE}")
    pages = [page]
    while page:
        assert len(pages) <= MAX_PAGES, f"{target}: paging does not end"
        assert len(page) <= HISTORY_PAGE
        oldest = page[0].tags["msgid"]
        _, page = read_batch(client, f"CHATHISTORY BEFORE {target} msgid={oldest} {HISTORY_PAGE}")
        pages.append(page)
    return [msg for page in reversed(pages) for msg in page]


def send_and_kill(db: Path) -> tuple[list[Sent], dict[str, Sent]]:
    """Sends the plan through three clients and SIGKILLs the server mid-stream.

    Returns what was sent (in order) and every message, by msgid, that any
    client received: the senders' echoes and the relays to everyone else.
    """
    seen: dict[str, Sent] = {}
    echoes = 0
    sent: list[Sent] = []
    with server_process(db, "--replay-lines", "0") as server:
        clients = {nick: history_client(server.port, nick) for nick in NICKS}
        clients["alice"].send(f"REGISTER * * :{PASSWORD}")
        clients["alice"].expect("REGISTER", lambda m: m.params[0] == "SUCCESS")
        mux = Multiplexer(clients.values())

        def take(timeout: float) -> None:
            nonlocal echoes
            for client, msg in mux.read(timeout):
                if msg.command != "PRIVMSG":
                    continue
                message = as_sent(msg)
                assert seen.setdefault(msg.tags["msgid"], message) == message
                echoes += msg.nick == client.nick

        try:
            plan = iter(planned_messages())
            deadline = time.monotonic() + TIMEOUT
            while echoes < KILL_AFTER:
                assert time.monotonic() < deadline, f"only {echoes} echoes came back"
                if len(sent) - echoes < IN_FLIGHT:
                    message = next(plan)
                    src, dst, text = message
                    clients[src].send(f"PRIVMSG {dst} :{text}")
                    sent.append(message)
                    take(0)
                else:
                    take(deadline - time.monotonic())
            # Some of what was sent may still be unread or unprocessed now.
            assert server.kill9() != 0
            # What the server sent before it died is still arriving.
            deadline = time.monotonic() + TIMEOUT
            while not mux.all_closed:
                assert time.monotonic() < deadline, "connections outlived the server"
                take(deadline - time.monotonic())
        finally:
            for client in clients.values():
                client.close()
    return sent, seen


def test_echoed_messages_survive_kill_9(tmp_path: Path) -> None:
    """Issue 4: "a message whose echo reached its sender survives `kill -9`".

    Group commit makes a turn's history durable before any of that turn's
    output is sent, so every message a client received (its own echo, or a
    relay from someone else) must be in the history after a restart, with
    its msgid and text; and each sender's history in each conversation is
    what it sent, in order, stopping where the kill cut it off.
    """
    db = tmp_path / "history.sqlite3"
    sent, seen = send_and_kill(db)
    assert len(seen) >= KILL_AFTER
    # Issue 5's crash test: the file a SIGKILL left behind is intact.
    with contextlib.closing(sqlite3.connect(db)) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    with server_process(db, "--replay-lines", "0") as server:
        reader = history_client(server.port, "alice", password=PASSWORD)
        try:
            stored = {
                target: page_through(reader, target)
                for target in (LOBBY, *(peer for peer in NICKS if peer != "alice"))
            }
        finally:
            reader.close()

    # In each target's order: per (sender, target), the texts stored.
    kept: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    by_msgid: dict[str, Sent] = {}
    for target, messages in stored.items():
        for msg in messages:
            if msg.command != "PRIVMSG":
                continue
            msgid = msg.tags["msgid"]
            assert msgid not in by_msgid, f"{target}: {msgid} returned twice"
            src, dst, text = by_msgid[msgid] = as_sent(msg)
            kept[src, dst].append(text)

    missing = {msgid: message for msgid, message in seen.items() if by_msgid.get(msgid) != message}
    assert not missing, (
        f"{len(missing)} of {len(seen)} received messages not in history after the kill,"
        f" e.g. {sorted(missing.values())[:5]}"
    )

    # Per (sender, target): the stored messages are a prefix of what was sent.
    planned: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for src, dst, text in sent:
        planned[src, dst].append(text)
    assert set(kept) <= set(planned)
    for key, texts in kept.items():
        assert texts == planned[key][: len(texts)], f"{key}: stored out of order or altered"

"""A turn's fsync runs beside the loop; the turn's output waits for it (sockets, SQLite files)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from easychat.store.history import SQLiteHistory
from tests.historyrows import stored_lines
from tests.ircclient import TIMEOUT, RunningServer

# How long a held client is watched for output that must not come yet.
QUIET_SECONDS = 0.5


class GatedHistory(SQLiteHistory):
    """The real store, whose fsync waits until the test opens its gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def sync(self) -> None:
        self.entered.set()
        assert self.gate.wait(4 * TIMEOUT)
        super().sync()


def test_the_loop_serves_others_while_a_turn_is_synced_and_holds_that_turns_output(
    tmp_path: Path,
) -> None:
    """While a message's fsync is in flight: others are served, its recipients get nothing
    (not even later replies, which stay behind it), and then everything comes in order."""
    path = tmp_path / "history.sqlite3"
    history = GatedHistory(path)
    server = RunningServer(history=history)
    try:
        alice, bob, carol = server.client(), server.client(), server.client()
        for client, nick in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            client.register(nick)
        carol.send("PART #lobby")
        carol.expect("PART")
        bob.send("PING :settled")
        bob.expect("PONG")
        history.gate.clear()
        history.entered.clear()
        alice.send("PRIVMSG #lobby :held until synced")
        assert history.entered.wait(TIMEOUT), "the turn's fsync never started"
        # The loop is not waiting for the disk: carol is served meanwhile.
        carol.send("PING :meanwhile")
        assert carol.expect("PONG").params[-1] == "meanwhile"
        # bob gets nothing yet: the message is not durable, and his PONG is behind it.
        bob.send("PING :after")
        with pytest.raises(TimeoutError):
            bob.read_line(timeout=QUIET_SECONDS)
        # The message is committed (in the WAL) before it is sent.
        probe = sqlite3.connect(path)
        stored = stored_lines(probe, "PRIVMSG")
        probe.close()
        assert [line for line in stored if "held until synced" in line]
        history.gate.set()
        message = bob.expect("PRIVMSG")
        assert message.params == ("#lobby", "held until synced")
        pong = bob.expect("PONG")
        assert pong.params[-1] == "after"
        assert bob.received.index(message) < bob.received.index(pong)
        for client in (alice, bob, carol):
            client.close()
    finally:
        history.gate.set()
        server.stop()
        history.close()


def test_messages_of_turns_during_a_sync_arrive_all_and_in_order(tmp_path: Path) -> None:
    """Turns committed while an fsync is in flight are synced next, none lost or reordered."""
    history = GatedHistory(tmp_path / "history.sqlite3")
    server = RunningServer(history=history)
    try:
        alice, bob = server.client(), server.client()
        alice.register("alice")
        bob.register("bob")
        bob.send("PING :settled")
        bob.expect("PONG")
        history.gate.clear()
        history.entered.clear()
        alice.send("PRIVMSG bob :first")
        assert history.entered.wait(TIMEOUT)
        for n in range(2, 6):
            alice.send(f"PRIVMSG bob :message {n}")
        # The loop goes on committing turns (to the WAL) behind the gate.
        probe = sqlite3.connect(tmp_path / "history.sqlite3")
        deadline = time.monotonic() + TIMEOUT
        while len(stored_lines(probe, "PRIVMSG")) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)  # polling a condition, with a deadline
        assert len(stored_lines(probe, "PRIVMSG")) == 5
        probe.close()
        history.gate.set()
        texts = [bob.expect("PRIVMSG").params[-1] for _ in range(5)]
        assert texts == ["first", "message 2", "message 3", "message 4", "message 5"]
        alice.close()
        bob.close()
    finally:
        history.gate.set()
        server.stop()
        history.close()


def test_a_history_read_waits_for_the_fsync_of_what_it_read(tmp_path: Path) -> None:
    """CHATHISTORY that returns a message whose fsync is in flight is held until it ends:
    a reply never shows a message that a crash could still take back."""
    history = GatedHistory(tmp_path / "history.sqlite3")
    server = RunningServer(history=history)
    try:
        alice, carol = server.client(), server.client()
        # Without echo-message: alice is sent nothing for her own message,
        # so only her history read could show it to her early.
        alice.send("CAP REQ :batch server-time message-tags draft/chathistory")
        alice.expect("CAP")
        alice.send("CAP END")
        alice.register("alice")
        bob = server.client()
        bob.register("bob")  # the message's recipient, whose turn starts the fsync
        carol.register("carol")
        carol.send("PART #lobby")
        carol.expect("PART")
        alice.send("PING :settled")
        alice.expect("PONG")
        history.gate.clear()
        history.entered.clear()
        alice.send("PRIVMSG #lobby :not durable yet")
        assert history.entered.wait(TIMEOUT), "the turn's fsync never started"
        alice.send("CHATHISTORY LATEST #lobby * 10")
        with pytest.raises(TimeoutError):
            alice.read_line(timeout=QUIET_SECONDS)
        # Others who read nothing are served meanwhile.
        carol.send("PING :meanwhile")
        assert carol.expect("PONG").params[-1] == "meanwhile"
        history.gate.set()
        batch = alice.until("BATCH")  # the batch's start
        assert batch[-1].params[0].startswith("+")
        lines = alice.until("BATCH")  # up to its end
        texts = [m.params[-1] for m in lines if m.command == "PRIVMSG"]
        assert texts == ["not durable yet"]
        for client in (alice, bob, carol):
            client.close()
    finally:
        history.gate.set()
        server.stop()
        history.close()


class FirstSyncStuck(SQLiteHistory):
    """The real store, whose next fsync after `hold()` waits for the test's gate; later ones run."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self._held = False
        self._lock = threading.Lock()

    def hold(self) -> None:
        self.gate.clear()
        self.entered.clear()
        with self._lock:
            self._held = True

    def sync(self) -> None:
        with self._lock:
            stuck, self._held = self._held, False
        if stuck:
            self.entered.set()
            assert self.gate.wait(4 * TIMEOUT)
        super().sync()


def test_a_slow_fsync_does_not_hold_the_turns_a_later_one_covers(tmp_path: Path) -> None:
    """A turn committed while an fsync is stuck gets its own fsync at once (SYNC_THREADS);
    when that one ends, every turn committed before it started is durable, so both
    messages arrive, in order, while the first fsync still has not returned."""
    history = FirstSyncStuck(tmp_path / "history.sqlite3")
    server = RunningServer(history=history)
    try:
        alice, bob = server.client(), server.client()
        alice.register("alice")
        bob.register("bob")
        bob.send("PING :settled")
        bob.expect("PONG")
        history.hold()
        alice.send("PRIVMSG bob :first")
        assert history.entered.wait(TIMEOUT), "the first turn's fsync never started"
        alice.send("PRIVMSG bob :second")
        texts = [bob.expect("PRIVMSG").params[-1] for _ in range(2)]
        assert texts == ["first", "second"]
        assert not history.gate.is_set(), "the first fsync was still running"
        history.gate.set()
        bob.send("PING :after")
        assert bob.expect("PONG").params[-1] == "after"  # nothing more, nothing twice
        assert [m.params[-1] for m in bob.received if m.command == "PRIVMSG"] == texts
        alice.close()
        bob.close()
    finally:
        history.gate.set()
        server.stop()
        history.close()

"""MARKREAD (IRCv3 draft/read-marker) through the chat core, with SQLite accounts and markers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from easychat.chat.identity.accounts import Account
from easychat.chat.identity.passwords import hash_password
from easychat.chat.readmarkers import MAX_MARKERS, MarkerStoreError, ReadMarkers
from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.proto.servertime import format_time
from easychat.store.accounts import SQLiteAccounts
from easychat.store.history import SQLiteHistory
from easychat.store.readmarkers import (
    SCHEMA_VERSION,
    ReadMarkersVersionError,
    SQLiteReadMarkers,
)
from tests.chatcore_harness import CLOCK_START, CoreDriver, commands, only
from tests.ircclient import plain_token as plain
from tests.nolimits import unlimited

CAP = "draft/read-marker"
PASSWORD = "a long enough password"
HASH = hash_password(PASSWORD)  # scrypt is slow on purpose: hash once per run
NOW_MS = int(CLOCK_START * 1000)
EARLIER = f"timestamp={format_time(NOW_MS - 60_000)}"
EARLIEST = f"timestamp={format_time(NOW_MS - 120_000)}"


@pytest.fixture
def drv() -> CoreDriver:
    """A core with history, the account `alice`, and read markers in SQLite beside them."""
    driver = CoreDriver(unlimited())
    history = SQLiteHistory(":memory:")
    db = history.db
    driver.core.history = history
    accounts = SQLiteAccounts(db)
    accounts.create(Account("alice", HASH, None, 0))
    driver.core.accounts = accounts
    driver.core.read_markers = ReadMarkers(SQLiteReadMarkers(db))
    return driver


def connect(drv: CoreDriver, nick: str, *, login: bool = False, cap: bool = True) -> int:
    """A registered client (in #lobby), with the read-marker cap, logged in with `login`."""
    conn = drv.open()
    wanted = [CAP] if cap else []
    wanted += ["sasl"] if login else []
    if wanted:
        drv.send(conn, f"CAP REQ :{' '.join(wanted)}")
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick} 0 * :{nick}")
    if login:
        drv.send(conn, "AUTHENTICATE PLAIN")
        reply = drv.send(conn, f"AUTHENTICATE {plain('alice', PASSWORD)}")
        assert n.RPL_SASLSUCCESS in commands(reply), reply
    burst = drv.send(conn, "CAP END")
    assert n.RPL_WELCOME in commands(burst), burst
    drv.drain()
    return conn


def markreads(messages: list[Message]) -> list[tuple[str, ...]]:
    return [m.params for m in messages if m.command == "MARKREAD"]


def test_the_capability_is_offered_with_history(drv: CoreDriver) -> None:
    """read-marker: "The read-marker extension uses the draft/read-marker
    capability"; "This specification is intended for bouncers or servers
    providing chat history", so a core without history does not offer it."""
    conn = drv.open()
    assert CAP in drv.send(conn, "CAP LS 302")[0].params[-1].split()
    bare = CoreDriver()
    conn = bare.open()
    assert CAP not in bare.send(conn, "CAP LS 302")[0].params[-1].split()


def test_set_is_answered_and_get_returns_it(drv: CoreDriver) -> None:
    """read-marker: "The server MUST reply to a successful MARKREAD client set
    command using a MARKREAD server command"; and "MARKREAD <target>" requests
    "the timestamp of the last message read by the user"."""
    alice = connect(drv, "alice", login=True)
    reply = drv.send(alice, f"MARKREAD #lobby {EARLIER}")
    assert [(m.source, m.params) for m in reply] == [("easychat.local", ("#lobby", EARLIER))]
    assert markreads(drv.send(alice, "MARKREAD #LOBBY")) == [("#lobby", EARLIER)]


def test_no_marker_is_a_star(drv: CoreDriver) -> None:
    """read-marker: "If there is no known last message read timestamp, the
    timestamp parameter is a literal *." """
    alice = connect(drv, "alice", login=True)
    assert markreads(drv.send(alice, "MARKREAD bob")) == [("bob", "*")]


def test_an_older_timestamp_does_not_move_it_back(drv: CoreDriver) -> None:
    """read-marker: "If a client sends a MARKREAD command with a timestamp that
    is below or equal to the current known timestamp of the server, the server
    SHOULD reply with a MARKREAD command with the newer, previous value that
    was stored and ignore the client timestamp." """
    alice = connect(drv, "alice", login=True)
    other = connect(drv, "alice2", login=True)
    drv.send(alice, f"MARKREAD #lobby {EARLIER}")
    drv.drain()
    assert markreads(drv.send(alice, f"MARKREAD #lobby {EARLIEST}")) == [("#lobby", EARLIER)]
    assert markreads(drv.send(alice, f"MARKREAD #lobby {EARLIER}")) == [("#lobby", EARLIER)]
    assert drv.take(other) == []  # nothing changed: nothing to sync
    assert markreads(drv.send(other, "MARKREAD #lobby")) == [("#lobby", EARLIER)]


def test_a_change_reaches_every_connection_of_the_account(drv: CoreDriver) -> None:
    """read-marker: "after the last read timestamp of a target changes, the
    server SHOULD send a MARKREAD command for that target to all the clients
    of the user." Clients without the capability, and other users, are not told."""
    alice = connect(drv, "alice", login=True)
    phone = connect(drv, "alice_", login=True)
    old = connect(drv, "alice__", login=True, cap=False)
    bob = connect(drv, "bob")
    assert markreads(drv.send(alice, f"MARKREAD #lobby {EARLIER}")) == [("#lobby", EARLIER)]
    assert markreads(drv.take(phone)) == [("#lobby", EARLIER)]
    assert drv.take(old) == []
    assert drv.take(bob) == []


def test_join_sends_the_marker_before_end_of_names(drv: CoreDriver) -> None:
    """read-marker: "after the server sends a server JOIN command to the client
    for a corresponding channel, the server MUST send a MARKREAD command for
    that channel. The command MUST be sent before the RPL_ENDOFNAMES reply for
    that channel following the JOIN." """
    alice = connect(drv, "alice", login=True)
    drv.send(alice, "JOIN #dev")
    drv.send(alice, f"MARKREAD #dev {EARLIER}")
    drv.send(alice, "PART #dev")
    joined = drv.send(alice, "JOIN #dev")
    assert commands(joined) == ["JOIN", n.RPL_NAMREPLY, "MARKREAD", n.RPL_ENDOFNAMES]
    assert joined[2].params == ("#dev", EARLIER)
    fresh = drv.send(alice, "JOIN #new")
    assert markreads(fresh) == [("#new", "*")]


def test_join_without_implicit_names_sends_it_after_the_join(drv: CoreDriver) -> None:
    """read-marker: "after the server sends a server JOIN command ... the
    server MUST send a MARKREAD command for that channel", also when
    no-implicit-names leaves out the NAMES reply."""
    conn = drv.open()
    drv.send(conn, f"CAP REQ :{CAP} no-implicit-names")
    drv.send(conn, "NICK carol")
    drv.send(conn, "USER carol 0 * :carol")
    burst = drv.send(conn, "CAP END")
    join = commands(burst).index("JOIN")
    assert commands(burst)[join : join + 2] == ["JOIN", "MARKREAD"]


def test_join_without_the_capability_sends_no_marker(drv: CoreDriver) -> None:
    """read-marker: "If the draft/read-marker capability is negotiated, after
    the server sends a server JOIN ..." -- and only then."""
    alice = connect(drv, "alice", login=True, cap=False)
    assert "MARKREAD" not in commands(drv.send(alice, "JOIN #dev"))


@pytest.mark.parametrize(
    "stamp",
    [
        "*",
        "2019-01-04T14:33:26.123Z",
        "timestamp=yesterday",
        "timestamp=2019-01-04T14:33:26Z",
        "timestamp=2019-13-04T14:33:26.123Z",
        "timestamp=2019-01-04 14:33:26.123Z",
    ],
)
def test_an_invalid_timestamp_fails(drv: CoreDriver, stamp: str) -> None:
    """read-marker: "The timestamp parameter ... MUST ... have the format
    timestamp=YYYY-MM-DDThh:mm:ss.sssZ"; from a client it "MUST NOT be a
    literal *"; "If the selectors were invalid, the INVALID_PARAMS error code
    SHOULD be returned." """
    alice = connect(drv, "alice", login=True)
    fail = only(drv.send(alice, f"MARKREAD #lobby {stamp}"), "FAIL")
    assert fail.params[:2] == ("MARKREAD", "INVALID_PARAMS")
    assert markreads(drv.send(alice, "MARKREAD #lobby")) == [("#lobby", "*")]


def test_missing_parameters_and_a_bad_target_fail(drv: CoreDriver) -> None:
    """read-marker: "If the server receives a MARKREAD command with missing
    parameters, the NEED_MORE_PARAMS error code MUST be returned." """
    alice = connect(drv, "alice", login=True)
    fail = only(drv.send(alice, "MARKREAD"), "FAIL")
    assert fail.params == ("MARKREAD", "NEED_MORE_PARAMS", "Missing parameters")
    fail = only(drv.send(alice, f"MARKREAD #bad,room {EARLIER}"), "FAIL")
    assert fail.params[:2] == ("MARKREAD", "INVALID_PARAMS")


def test_a_timestamp_in_the_future_is_clamped_to_now(drv: CoreDriver) -> None:
    """read-marker, implementation considerations: "When it receives a new
    timestamp, it can clamp it between the last read timestamp and the current
    time" -- a marker from the future would hide every message still to come."""
    alice = connect(drv, "alice", login=True)
    reply = drv.send(alice, "MARKREAD #lobby timestamp=2100-01-01T00:00:00.000Z")
    assert markreads(reply) == [("#lobby", f"timestamp={format_time(NOW_MS)}")]


def test_without_an_account_the_marker_is_the_connections_own(drv: CoreDriver) -> None:
    """read-marker: "This enables several clients of the same user ... to tell
    each other about which messages have been read"; without an account the
    user is the connection, so its marker goes when it does."""
    bob = connect(drv, "bob")
    other = connect(drv, "carol")
    assert markreads(drv.send(bob, f"MARKREAD #lobby {EARLIER}")) == [("#lobby", EARLIER)]
    assert drv.take(other) == []
    assert markreads(drv.send(other, "MARKREAD #lobby")) == [("#lobby", "*")]
    drv.send(bob, "QUIT")
    again = connect(drv, "bob")
    assert markreads(drv.send(again, "MARKREAD #lobby")) == [("#lobby", "*")]


def test_markers_are_not_disclosed_to_other_users(drv: CoreDriver) -> None:
    """read-marker: "The read markers sent by a user MUST NOT be disclosed to
    other users by the server without an explicit opt-in." """
    alice = connect(drv, "alice", login=True)
    drv.send(alice, f"MARKREAD bob {EARLIER}")
    bob = connect(drv, "bob")
    assert markreads(drv.send(bob, "MARKREAD alice")) == [("alice", "*")]
    assert markreads(drv.send(bob, "MARKREAD bob")) == [("bob", "*")]


def test_past_the_limit_a_new_target_is_refused(drv: CoreDriver) -> None:
    """read-marker: "If the read timestamp cannot be set or returned due to an
    error, the INTERNAL_ERROR error code SHOULD be returned." A user past
    MAX_MARKERS conversations cannot add one; a marked one still moves."""
    alice = connect(drv, "alice", login=True)
    for i in range(MAX_MARKERS):
        drv.send(alice, f"MARKREAD nick{i} {EARLIEST}")
    drv.drain()
    fail = only(drv.send(alice, f"MARKREAD #lobby {EARLIER}"), "FAIL")
    assert fail.params[:3] == ("MARKREAD", "INTERNAL_ERROR", "#lobby")
    assert markreads(drv.send(alice, f"MARKREAD nick0 {EARLIER}")) == [("nick0", EARLIER)]


class BrokenMarkers:
    """A ReadMarkerStore whose disk has failed."""

    def get_marker(self, account: str, target: str) -> int | None:
        raise MarkerStoreError("disk I/O error")

    def count_markers(self, account: str) -> int:
        raise MarkerStoreError("disk I/O error")

    def set_marker(self, account: str, target: str, time_ms: int) -> None:
        raise MarkerStoreError("disk I/O error")


def test_a_store_failure_is_internal_error(drv: CoreDriver) -> None:
    """read-marker: "FAIL MARKREAD INTERNAL_ERROR the_given_target
    [extra_context] :The read timestamp could not be set" """
    alice = connect(drv, "alice", login=True)
    drv.core.read_markers = ReadMarkers(BrokenMarkers())
    for line in (f"MARKREAD #lobby {EARLIER}", "MARKREAD #lobby"):
        fail = only(drv.send(alice, line), "FAIL")
        assert fail.params[:3] == ("MARKREAD", "INTERNAL_ERROR", "#lobby")


# -- the SQLite store --------------------------------------------------------------------------


def test_the_store_keeps_markers_per_account_and_target(tmp_path: Path) -> None:
    path = tmp_path / "markers.sqlite3"
    store = SQLiteReadMarkers.open(path)
    store.set_marker("alice", "#lobby", 5)
    store.set_marker("alice", "bob", 7)
    store.set_marker("alice", "#lobby", 9)
    store.close()
    again = SQLiteReadMarkers.open(path)
    assert again.get_marker("alice", "#lobby") == 9
    assert again.get_marker("alice", "carol") is None
    assert again.get_marker("bob", "#lobby") is None
    assert again.count_markers("alice") == 2
    again.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "markers.sqlite3"
    SQLiteReadMarkers.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE read_markers_schema SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(ReadMarkersVersionError):
        SQLiteReadMarkers.open(path)

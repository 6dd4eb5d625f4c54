"""Accounts: REGISTER (draft/account-registration), nick ownership, account caps, SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.chat.identity.accounts import Account
from easychat.chat.identity.passwords import hash_password, verify_password
from easychat.chat.protection import access
from easychat.proto import numerics as n
from easychat.store.accounts import AccountsVersionError, SQLiteAccounts
from easychat.store.history import SQLiteHistory
from tests.chatcore_harness import CoreDriver, commands, only
from tests.historyrows import stored_lines
from tests.ircclient import RunningServer, plain_token
from tests.test_sasl import MemoryAccounts

PASSWORD = "a long enough password"


@pytest.fixture
def drv() -> CoreDriver:
    driver = CoreDriver()
    driver.core.accounts = MemoryAccounts()
    return driver


def test_register_creates_and_logs_in(drv: CoreDriver) -> None:
    """ "If the account name is *, then the server MUST use the current nick";
    success is `REGISTER SUCCESS <account> <message>`, and the client is logged in."""
    conn = drv.register("alice")
    reply = drv.send(conn, f"REGISTER * alice@example.org :{PASSWORD}")
    assert [m.command for m in reply] == ["REGISTER", n.RPL_LOGGEDIN]
    assert reply[0].params[:2] == ("SUCCESS", "alice")
    stored = drv.core.accounts.get("ALICE")  # type: ignore[union-attr]
    assert stored is not None
    assert stored.email == "alice@example.org"
    assert stored.password_hash != PASSWORD
    assert verify_password(PASSWORD, stored.password_hash)
    assert drv.core.clients[conn].account == "alice"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (f"REGISTER bob * :{PASSWORD}", "ACCOUNT_NAME_MUST_BE_NICK"),
        ("REGISTER * * short", "WEAK_PASSWORD"),
        (f"REGISTER * not-an-email :{PASSWORD}", "INVALID_EMAIL"),
        (f"REGISTER #bad * :{PASSWORD}", "BAD_ACCOUNT_NAME"),
    ],
)
def test_register_failures_are_standard_replies(drv: CoreDriver, line: str, code: str) -> None:
    conn = drv.register("alice")
    fail = only(drv.send(conn, line), "FAIL")
    assert fail.params[:2] == ("REGISTER", code)
    assert drv.core.clients[conn].account is None


def test_register_twice_is_account_exists_or_already_authenticated(drv: CoreDriver) -> None:
    conn = drv.register("alice")
    drv.send(conn, f"REGISTER * * :{PASSWORD}")
    fail = only(drv.send(conn, f"REGISTER * * :{PASSWORD}"), "FAIL")
    assert fail.params[1] == "ALREADY_AUTHENTICATED"
    drv.send(conn, "QUIT")
    other = drv.open()
    drv.send(other, "NICK alice")  # before registration completes: not refused yet
    assert only(drv.send(other, f"REGISTER * * :{PASSWORD}"), "FAIL").params[1] == (
        "ACCOUNT_EXISTS"
    )


def test_register_before_connect_then_nick_is_owned(drv: CoreDriver) -> None:
    conn = drv.open()
    drv.send(conn, "NICK alice")
    reply = drv.send(conn, f"REGISTER * * :{PASSWORD}")
    assert reply[0].command == "REGISTER"
    assert n.RPL_WELCOME in commands(drv.send(conn, "USER a 0 * :A"))


def test_register_before_nick_uses_the_account_name_given(drv: CoreDriver) -> None:
    """Before NICK, a named account is registered as given (the client is
    logged in, so that nick is its own when it asks for it); `REGISTER *`
    with no nick asked for yet is NEED_NICK: "If the account name is *, then
    the server MUST use the current nick of the client as the account name"."""
    early = drv.open()
    assert only(drv.send(early, f"REGISTER * * :{PASSWORD}"), "FAIL").params[1] == "NEED_NICK"
    reply = drv.send(early, f"REGISTER dora * :{PASSWORD}")
    assert [m.command for m in reply] == ["REGISTER", n.RPL_LOGGEDIN]
    assert reply[0].params[:2] == ("SUCCESS", "dora")
    drv.send(early, "NICK dora")
    assert n.RPL_WELCOME in commands(drv.send(early, "USER d 0 * :D"))
    assert drv.core.clients[early].account == "dora"


def test_register_cannot_take_a_nick_someone_holds(drv: CoreDriver) -> None:
    """As ergo (irctest's RegisterNoLandGrabs): an account cannot be registered
    under a nick another connection holds, even by one whose NICK for it was
    refused; `REGISTER *` then means the nick it asked for, and ACCOUNT_EXISTS
    comes before NEED_NICK when both apply."""
    holder = drv.register("root")
    grabber = drv.open()
    assert commands(drv.send(grabber, "NICK root")) == [n.ERR_NICKNAMEINUSE]
    fail = only(drv.send(grabber, f"REGISTER * * :{PASSWORD}"), "FAIL")
    assert fail.params[1:3] == ("ACCOUNT_EXISTS", "root")
    fresh = drv.open()
    fail = only(drv.send(fresh, f"REGISTER root * :{PASSWORD}"), "FAIL")
    assert fail.params[1:3] == ("ACCOUNT_EXISTS", "root")
    assert drv.core.accounts.get("root") is None  # type: ignore[union-attr]
    # The holder itself may register its nick.
    assert only(drv.send(holder, f"REGISTER * * :{PASSWORD}"), "REGISTER").params[0] == "SUCCESS"


def test_the_shortest_password_is_a_setting() -> None:
    """`--password-min-length` (default 8): shorter is WEAK_PASSWORD, saying how long."""
    driver = CoreDriver(CoreConfig(password_min_length=12))
    driver.core.accounts = MemoryAccounts()
    conn = driver.register("alice")
    fail = only(driver.send(conn, "REGISTER * * :elevenchars"), "FAIL")
    assert fail.params[1] == "WEAK_PASSWORD"
    assert "12" in fail.params[-1]
    assert only(driver.send(conn, "REGISTER * * :twelve chars"), "REGISTER").params[0] == "SUCCESS"
    assert CoreConfig().password_min_length == 8


def test_registered_nick_is_refused_to_others(drv: CoreDriver) -> None:
    """ergo's default (nick-reservation: strict): 433, the nick stays with its owner."""
    owner = drv.register("alice")
    drv.send(owner, f"REGISTER * * :{PASSWORD}")
    drv.send(owner, "NICK alice_away")
    other = drv.register("bob")
    reply = drv.send(other, "NICK alice")
    assert commands(reply) == [n.ERR_NICKNAMEINUSE]
    assert "reserved" in reply[0].params[-1]
    # The owner may take it back.
    assert commands(drv.send(owner, "NICK alice"))[0] == "NICK"


def test_account_notify_account_tag_extended_join(drv: CoreDriver) -> None:
    watcher = drv.open()
    drv.send(watcher, "CAP REQ :account-notify account-tag extended-join")
    drv.send(watcher, "NICK w")
    drv.send(watcher, "USER w 0 * :Watcher")
    drv.send(watcher, "CAP END")
    alice = drv.register("alice")
    drv.take(watcher)
    drv.send(alice, f"REGISTER * * :{PASSWORD}")
    notify = only(drv.take(watcher), "ACCOUNT")
    assert notify.params == ("alice",)
    assert notify.source == "alice!alice@127.0.0.1"
    drv.send(alice, "PRIVMSG #lobby :hi")
    assert only(drv.take(watcher), "PRIVMSG").tags.get("account") == "alice"
    drv.send(alice, "JOIN #x")
    drv.send(watcher, "JOIN #x")
    drv.take(watcher)
    drv.send(alice, "PART #x")
    drv.send(alice, "JOIN #x")
    join = only(drv.take(watcher), "JOIN")
    assert join.params == ("#x", "alice", "alice Test")
    plain_client = drv.register("carol", "#x")
    drv.send(alice, "PRIVMSG #x :hello")
    assert "account" not in only(drv.take(plain_client), "PRIVMSG").tags


# -- the SQLite store ---------------------------------------------------------


def test_sqlite_store_round_trip_and_unique_names(tmp_path: Path) -> None:
    store = SQLiteAccounts.open(tmp_path / "db.sqlite3")
    assert store.create(Account("Alice", "scrypt$x", None, 5))
    assert not store.create(Account("ALICE", "scrypt$y", None, 6))
    store.close()
    again = SQLiteAccounts.open(tmp_path / "db.sqlite3")
    assert again.get("alice") == Account("Alice", "scrypt$x", None, 5)
    assert again.get("bob") is None


def test_shares_the_history_file_and_connection(tmp_path: Path) -> None:
    history = SQLiteHistory(tmp_path / "h.sqlite3")
    store = SQLiteAccounts(history.db)
    assert store.create(Account("alice", hash_password(PASSWORD), None, 1))
    history.close()
    assert SQLiteAccounts.open(tmp_path / "h.sqlite3").get("alice") is not None
    # The history schema (user_version) is untouched by the accounts schema.
    assert SQLiteHistory(tmp_path / "h.sqlite3").db.execute("PRAGMA user_version").fetchone()[0]


def test_newer_accounts_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    SQLiteAccounts.open(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE accounts_schema SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(AccountsVersionError):
        SQLiteAccounts.open(path)


def test_malformed_hashes_never_match() -> None:
    assert not verify_password("x", "scrypt$bad")
    assert not verify_password("x", "md5$1$2$3$4$5")
    assert not verify_password("x", "scrypt$99999999999$8$1$AA==$AA==")
    first, second = hash_password("x"), hash_password("x")
    assert first != second  # a random salt per password


def test_register_and_sasl_over_a_socket(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    server = make_server()
    server.core.accounts = SQLiteAccounts.open(tmp_path / "acc.sqlite3")
    first = server.client()
    first.register("alice")
    first.send(f"REGISTER * * :{PASSWORD}")
    assert first.expect("REGISTER").params[0] == "SUCCESS"
    first.send("QUIT")
    first.expect_closed()
    second = server.client()
    second.send("CAP LS 302")
    second.send("CAP REQ sasl")
    second.send("NICK alice")
    second.send("USER alice 0 * :Alice")
    second.expect("CAP", where=lambda m: m.params[1] == "ACK")
    second.sasl_plain("alice", PASSWORD)
    second.send("CAP END")
    second.expect(n.RPL_WELCOME)
    second.close()


@pytest.mark.parametrize("password", ["bar" * 100, "bar" * 97], ids=["412-bytes", "400-bytes"])
def test_sasl_chunked_over_a_socket(
    make_server: Callable[..., RunningServer], tmp_path: Path, password: str
) -> None:
    """sasl-3.1: the response is "split to 400-byte chunks, and each chunk is
    sent as a separate AUTHENTICATE command. ... If the last chunk was exactly
    400 bytes long, it must also be followed by AUTHENTICATE +". Over a real
    socket, chunked responses of 412 and of exactly 400 bytes log in (900,
    903), never answered with 417."""
    server = make_server()
    accounts = SQLiteAccounts.open(tmp_path / "acc.sqlite3")
    accounts.create(Account("foo", hash_password(password), None, 0))
    server.core.accounts = accounts
    client = server.client()
    client.send("CAP LS 302")
    client.send("CAP REQ sasl")
    client.send("NICK foo")
    client.send("USER foo 0 * :Foo")
    client.expect("CAP", where=lambda m: m.params[1] == "ACK")
    client.send("AUTHENTICATE PLAIN")
    assert client.expect("AUTHENTICATE").params == ("+",)
    data = plain_token("foo", password, authzid="foo")
    chunks = [data[i : i + 400] for i in range(0, len(data), 400)]
    if len(chunks[-1]) == 400:
        chunks.append("+")
    for chunk in chunks:
        client.send(f"AUTHENTICATE {chunk}")
    got = client.until(n.RPL_SASLSUCCESS)
    assert [m.command for m in got] == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    assert got[0].params[2] == "foo"
    client.send("PING done")  # the "+" was part of the response: no 907 for it
    assert [m.command for m in client.until("PONG")] == ["PONG"]
    client.send("CAP END")
    client.expect(n.RPL_WELCOME)
    client.close()


def test_whois_shows_account_and_operator(drv: CoreDriver) -> None:
    """RPL_WHOISACCOUNT (330) `<nick> <account> :is logged in as`; RPL_WHOISOPERATOR (313)."""
    alice = drv.register("alice")
    bob = drv.register("bob")
    assert n.RPL_WHOISACCOUNT not in commands(drv.send(bob, "WHOIS alice"))
    drv.send(alice, f"REGISTER * * :{PASSWORD}")
    reply = only(drv.send(bob, "WHOIS alice"), n.RPL_WHOISACCOUNT)
    assert reply.params[1:] == ("alice", "alice", "is logged in as")
    drv.core.clients[alice].modes.add("o")
    assert n.RPL_WHOISOPERATOR in commands(drv.send(bob, "WHOIS alice"))


def test_registrations_are_throttled_per_ip() -> None:
    # The connection limits per IP (chat/protection/iplimits.py) are off: this is about REGISTER.
    drv = CoreDriver(CoreConfig(max_clients_per_ip=0, connects_per_ip=0))
    drv.core.accounts = MemoryAccounts()
    for i in range(access.REGISTRATION_ATTEMPTS):
        conn = drv.register(f"user{i}")
        assert drv.send(conn, f"REGISTER * * :{PASSWORD}")[0].command == "REGISTER"
    conn = drv.register("onemore")
    fail = only(drv.send(conn, f"REGISTER * * :{PASSWORD}"), "FAIL")
    assert fail.params[1] == "TEMPORARILY_UNAVAILABLE"
    assert "try again in" in fail.params[-1]
    other_ip = drv.open("10.1.2.3")
    drv.send(other_ip, "NICK elsewhere")
    assert drv.send(other_ip, f"REGISTER * * :{PASSWORD}")[0].command == "REGISTER"
    drv.clock.advance(access.REGISTRATION_WINDOW)
    assert drv.send(conn, f"REGISTER * * :{PASSWORD}")[0].command == "REGISTER"


def test_an_account_is_committed_with_the_turn_that_created_it(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """On the history's connection, REGISTER inside a turn whose history transaction
    is open (a CHATHISTORY read flushed it) is committed before the reply is sent."""
    path = tmp_path / "server.sqlite3"
    history = SQLiteHistory(path)
    server = make_server(history=history)
    server.core.accounts = SQLiteAccounts(history.db)
    alice = server.client()
    alice.register("alice")
    alice.send("CAP REQ :draft/chathistory batch")
    alice.expect("CAP")
    alice.send_raw(
        b"PRIVMSG #lobby :first\r\n"
        b"CHATHISTORY LATEST #lobby * 1\r\n" + f"REGISTER * * :{PASSWORD}\r\n".encode()
    )
    assert alice.expect("REGISTER").params[0] == "SUCCESS"
    reader = sqlite3.connect(path)
    try:
        rows = reader.execute("SELECT name FROM accounts").fetchall()
        stored = stored_lines(reader, "PRIVMSG")
        assert rows == [("alice",)]
        assert len(stored) == 1
    finally:
        reader.close()
    alice.close()

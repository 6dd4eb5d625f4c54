"""The client's SASL SCRAM-SHA-256: RFC 7677's vector, the Session's choice, and the app."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from easychat.chat.identity.accounts import Account
from easychat.chat.identity.passwords import hash_password
from easychat.client.events import RegistrationFailed
from easychat.client.session.scram import ScramClient
from easychat.client.session.session import Session
from easychat.proto.message import parse
from easychat.proto.scram import ScramError, derive_keys
from easychat.store.accounts import SQLiteAccounts
from tests.ircclient import RunningServer
from tests.test_client_auth import login
from tests.test_scram import (
    RFC_CLIENT_FINAL,
    RFC_CLIENT_FIRST,
    RFC_PASSWORD,
    RFC_SERVER_FINAL,
    RFC_SERVER_FIRST,
    b64,
    unb64,
)

LS_BOTH = ":srv CAP * LS :sasl=PLAIN,SCRAM-SHA-256 server-time"
PASSWORD = "long enough pw"


# -- RFC 7677's vector through the client ------------------------------------------


def test_rfc7677_vector_through_the_client() -> None:
    """RFC 7677 section 3's four messages, as the client's ScramClient sends and checks them."""
    scram = ScramClient("user", RFC_PASSWORD, nonce="rOprNGfwEbeRWgbNEkqO")
    assert scram.step("") == RFC_CLIENT_FIRST
    assert scram.step(RFC_SERVER_FIRST) == RFC_CLIENT_FINAL
    assert scram.step(RFC_SERVER_FINAL) == ""
    forged = ScramClient("user", RFC_PASSWORD, nonce="rOprNGfwEbeRWgbNEkqO")
    forged.step("")
    forged.step(RFC_SERVER_FIRST)
    with pytest.raises(ScramError, match="does not know the password"):
        forged.step("v=" + base64.b64encode(bytes(32)).decode())


@pytest.mark.parametrize(
    "server_first",
    [
        "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  # not our nonce
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  # ours, unextended
        "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",  # too few rounds
        "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999",  # too many
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOx,i=4096",  # out of order
    ],
)
def test_the_client_refuses_a_bad_server_first(server_first: str) -> None:
    """RFC 5802 section 5.1: "the client MUST verify that the initial part of
    the nonce used in subsequent messages is the same as the nonce it
    initially specified"; RFC 7677: the iteration count "SHOULD be at least
    4096"."""
    scram = ScramClient("user", RFC_PASSWORD, nonce="rOprNGfwEbeRWgbNEkqO")
    scram.step("")
    with pytest.raises(ScramError):
        scram.step(server_first)


# -- the Session's choice of mechanism --------------------------------------------------


def out(session: Session) -> list[str]:
    return [m.format() for m in session.take_outgoing()]


def feed(session: Session, line: str) -> list[object]:
    return list(session.feed(parse(line)))


def acked(ls: str) -> Session:
    """A session with a password that got CAP LS `ls` and its sasl ACKed."""
    session = Session("alice", password="pw12345678")
    feed(session, ls)
    session.take_outgoing()
    feed(session, ":srv CAP * ACK :sasl server-time")
    return session


def test_scram_is_picked_when_offered() -> None:
    """sasl-3.2: "Clients SHOULD pick a mechanism present in the CAP LS reply";
    RFC 5802 section 7: client-first is `n,,n=<user>,r=<nonce>`."""
    session = acked(LS_BOTH)
    assert out(session) == ["AUTHENTICATE SCRAM-SHA-256"]
    feed(session, "AUTHENTICATE +")
    sent = out(session)
    assert len(sent) == 1
    assert unb64(sent[0].split()[1]).startswith("n,,n=alice,r=")


@pytest.mark.parametrize("ls", [":srv CAP * LS :sasl=PLAIN server-time", ":srv CAP * LS :sasl"])
def test_plain_when_scram_is_not_offered(ls: str) -> None:
    """sasl-3.2: "Clients MUST handle the case when there is no value for the
    sasl capability in CAP LS"; without SCRAM-SHA-256 listed, PLAIN."""
    session = acked(ls)
    assert out(session) == ["AUTHENTICATE PLAIN"]
    feed(session, "AUTHENTICATE +")
    token = base64.b64encode(b"alice\0alice\0pw12345678").decode()
    assert out(session) == [f"AUTHENTICATE {token}"]


def test_a_refusal_before_the_challenge_falls_back_to_plain() -> None:
    """sasl-3.1: "If this fails, a 904 numeric will be sent and the session
    state remains unchanged; the client MAY try another mechanism." """
    session = acked(LS_BOTH)
    feed(session, "AUTHENTICATE +")
    session.take_outgoing()
    assert feed(session, ":srv 904 alice :This account has no SCRAM-SHA-256 keys yet") == []
    assert out(session) == ["AUTHENTICATE PLAIN"]
    feed(session, "AUTHENTICATE +")
    assert out(session) == [f"AUTHENTICATE {b64(chr(0).join(['alice', 'alice', 'pw12345678']))}"]
    events = feed(session, ":srv 904 alice :SASL authentication failed")
    assert isinstance(events[0], RegistrationFailed)


def test_a_server_that_cannot_sign_is_aborted() -> None:
    """RFC 5802 section 5.1: "The client then authenticates the server by
    computing the ServerSignature and comparing it to the value sent by the
    server"; sasl-3.1: "The client can abort an authentication by sending an
    asterisk as the data." """
    session = acked(LS_BOTH)
    feed(session, "AUTHENTICATE +")
    nonce = unb64(out(session)[-1].split()[1]).split("r=", 1)[1]
    server_first = f"r={nonce}xyz,s={base64.b64encode(b'salt').decode()},i=4096"
    feed(session, f"AUTHENTICATE {b64(server_first)}")
    assert out(session)[0].startswith("AUTHENTICATE ")
    events = feed(session, f"AUTHENTICATE {b64('v=' + base64.b64encode(bytes(32)).decode())}")
    assert out(session) == ["AUTHENTICATE *"]
    assert isinstance(events[0], RegistrationFailed)
    assert "does not know the password" in events[0].reason


# -- the app against our server ---------------------------------------------------------


@pytest.fixture
def accounts(make_server: Callable[..., RunningServer], tmp_path: Path) -> tuple[int, Path]:
    """A server with accounts in tmp_path; returns its port and the accounts file."""
    path = tmp_path / "accounts.sqlite3"
    server = make_server()
    server.core.accounts = SQLiteAccounts.open(path)
    return server.port, path


def blank_password_hash(path: Path, name: str) -> None:
    """Empties an account's scrypt hash, so that a PLAIN login to it cannot succeed."""
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE accounts SET password_hash = '' WHERE folded = ?", (name.lower(),))
    db.close()


async def test_the_app_logs_in_with_scram(accounts: tuple[int, Path], tmp_path: Path) -> None:
    """An account with SCRAM keys and no usable password hash: only a SCRAM
    login can succeed, so reaching the chat screen logged in proves the app
    used SCRAM-SHA-256; a wrong password is still refused."""
    port, path = accounts
    store = SQLiteAccounts.open(path)
    assert store.create(Account("Alice", "", None, 0, derive_keys(PASSWORD)))
    store.close()
    assert await login(port, tmp_path, PASSWORD, create=False) == ("chat", "Alice")
    outcome, text = await login(port, tmp_path, "not the password", create=False)
    assert outcome == "error"
    assert "wrong nickname or password" in text


async def test_the_app_migrates_an_old_account_then_uses_scram(
    accounts: tuple[int, Path], tmp_path: Path
) -> None:
    """An account from before SCRAM (a hash only): the app's SCRAM attempt is
    refused before the challenge, it falls back to PLAIN, and that login gives
    the account its keys; with the hash then blanked, the next login can only
    be SCRAM, and succeeds."""
    port, path = accounts
    store = SQLiteAccounts.open(path)
    assert store.create(Account("Alice", hash_password(PASSWORD), None, 0))
    store.close()
    assert await login(port, tmp_path, PASSWORD, create=False) == ("chat", "Alice")
    migrated = SQLiteAccounts.open(path).get("alice")
    assert migrated is not None
    assert migrated.scram is not None
    blank_password_hash(path, "Alice")
    assert await login(port, tmp_path, PASSWORD, create=False) == ("chat", "Alice")

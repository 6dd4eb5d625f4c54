"""SASL SCRAM-SHA-256 against a real `easychat serve`, and the accounts file's SCRAM keys."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from easychat.chat.identity.accounts import Account
from easychat.chat.identity.passwords import hash_password
from easychat.chat.identity.scram import NO_KEYS
from easychat.proto.scram import ITERATIONS, derive_keys
from easychat.store.accounts import SCHEMA_VERSION, SQLiteAccounts
from easychat.store.history import SQLiteHistory
from tests.ircclient import IRCClient, plain_token
from tests.serverproc import ServerProcess, server_process
from tests.test_scram import attributes, b64, client_final, unb64

PASSWORD = "correct horse battery"

# The accounts schema as version 2 wrote it, before SCRAM: what an existing
# history file holds when this EasyChat first opens it.
ACCOUNTS_V2 = """
CREATE TABLE accounts_schema (version INTEGER NOT NULL);
INSERT INTO accounts_schema (version) VALUES (2);
CREATE TABLE accounts (
    folded        TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    email         TEXT,
    created_ms    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE klines (
    mask    TEXT PRIMARY KEY,
    reason  TEXT NOT NULL,
    setter  TEXT NOT NULL,
    expires REAL
) WITHOUT ROWID;
"""


def sasl_client(port: int, nick: str) -> IRCClient:
    """A connection that negotiated `sasl` and sent NICK and USER, still unregistered."""
    client = IRCClient(port)
    client.send("CAP LS 302")
    ls = client.expect("CAP", lambda m: m.params[1] == "LS")
    assert "sasl=PLAIN,SCRAM-SHA-256" in ls.params[-1].split()
    client.send("CAP REQ :sasl")
    client.expect("CAP", lambda m: m.params[1] == "ACK")
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{nick}")
    return client


def send_first(client: IRCClient, bare: str) -> str:
    """AUTHENTICATE SCRAM-SHA-256 and client-first; returns the server-first message."""
    client.send("AUTHENTICATE SCRAM-SHA-256")
    assert client.expect("AUTHENTICATE").params == ("+",)
    client.send(f"AUTHENTICATE {b64('n,,' + bare)}")
    return unb64(client.expect("AUTHENTICATE").params[0])


def scram_login(client: IRCClient, name: str, password: str) -> list[str]:
    """A whole SCRAM exchange; returns the numerics that ended it."""
    bare = f"n={name},r=socketnonce"
    final, _ = client_final(password, bare, send_first(client, bare))
    client.send(f"AUTHENTICATE {b64(final)}")
    answer = client.expect(("AUTHENTICATE", "904"))
    if answer.command == "904":
        return ["904"]
    assert unb64(answer.params[0]).startswith("v=")
    client.send("AUTHENTICATE +")
    return [m.command for m in client.until("903") if m.command.isdigit()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with the account `alice`, made over the wire with REGISTER."""
    db = tmp_path_factory.mktemp("scram") / "history.sqlite3"
    with server_process(db) as proc:
        client = IRCClient(proc.port)
        client.send("CAP LS 302")
        client.send("CAP REQ :draft/account-registration")
        client.send("NICK alice")
        client.send(f"REGISTER * * :{PASSWORD}")
        assert client.expect("REGISTER").params[:2] == ("SUCCESS", "alice")
        client.close()
        yield proc


def test_scram_login_over_the_wire(server: ServerProcess) -> None:
    """sasl-3.1: "If authentication is successful, a 900 and 903 numeric will be
    sent." The account made by REGISTER has its SCRAM keys at once."""
    client = sasl_client(server.port, "alice")
    assert scram_login(client, "alice", PASSWORD) == ["900", "903"]
    server.wait_for(re.compile(r"logged in as alice with SCRAM-SHA-256"))
    client.send("CAP END")
    client.expect("001")
    client.close()


def test_a_wrong_password_is_904(server: ServerProcess) -> None:
    """sasl-3.1: "904 aka ERR_SASLFAIL is sent when the SASL authentication fails
    because of invalid credentials"."""
    client = sasl_client(server.port, "alice")
    assert scram_login(client, "alice", "not the password") == ["904"]
    client.send("CAP END")
    assert client.expect("433").params[-1] == "Nickname is reserved by a different account"
    client.close()


def test_a_tampered_nonce_is_904(server: ServerProcess) -> None:
    """RFC 5802 section 5.1: "the server MUST verify that the nonce sent by the
    client in the second message is the same as the one sent by the server in
    its first message"."""
    client = sasl_client(server.port, "alice")
    bare = "n=alice,r=socketnonce"
    server_first = send_first(client, bare)
    final, _ = client_final(PASSWORD, bare, server_first, nonce="socketnonce" + "X" * 24)
    assert attributes(final)["r"] != attributes(server_first)["r"]
    client.send(f"AUTHENTICATE {b64(final)}")
    assert "nonce" in client.expect("904").params[-1]
    client.close()


def test_abort_is_906(server: ServerProcess) -> None:
    """sasl-3.1: "The client can abort an authentication by sending an asterisk
    as the data. The server will send a 906 numeric." """
    client = sasl_client(server.port, "alice")
    send_first(client, "n=alice,r=socketnonce")
    client.send("AUTHENTICATE *")
    client.expect("906")
    assert scram_login(client, "alice", PASSWORD) == ["900", "903"]
    client.close()


def test_an_old_plain_only_account_gets_its_keys_at_a_plain_login(tmp_path: Path) -> None:
    """An accounts file from before SCRAM (schema 2): SCRAM fails with a reason
    (sasl-3.1: "the client MAY try another mechanism"), PLAIN logs in and makes
    the keys, and SCRAM works from then on. The file keeps the salt, count,
    StoredKey and ServerKey (RFC 5802 section 5), never the password."""
    path = tmp_path / "history.sqlite3"
    history = SQLiteHistory(path)
    history.db.executescript(ACCOUNTS_V2)
    history.db.execute(
        "INSERT INTO accounts VALUES ('olduser', 'olduser', ?, NULL, 0)",
        (hash_password(PASSWORD),),
    )
    history.close()
    with server_process(path) as proc:
        client = sasl_client(proc.port, "olduser")
        client.send("AUTHENTICATE SCRAM-SHA-256")
        client.expect("AUTHENTICATE")
        client.send(f"AUTHENTICATE {b64('n,,n=olduser,r=socketnonce')}")
        assert client.expect("904").params[-1] == NO_KEYS
        client.sasl_plain("olduser", PASSWORD)
        proc.wait_for(re.compile(r"olduser: SCRAM-SHA-256 keys made at its PLAIN login"))
        client.close()
        again = sasl_client(proc.port, "olduser")
        assert scram_login(again, "olduser", PASSWORD) == ["900", "903"]
        again.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM accounts_schema").fetchone() == (SCHEMA_VERSION,)
    row = db.execute("SELECT * FROM accounts").fetchone()
    db.close()
    stored_bytes = [v if isinstance(v, bytes) else str(v).encode() for v in row]
    assert all(PASSWORD.encode() not in value for value in stored_bytes)
    stored = SQLiteAccounts.open(path).get("olduser")
    assert stored is not None
    assert stored.scram is not None
    assert stored.scram == derive_keys(PASSWORD, stored.scram.salt)
    assert stored.scram.iterations == ITERATIONS


def test_the_store_keeps_the_keys(tmp_path: Path) -> None:
    """RFC 5802 section 5: "the salt, iteration count, StoredKey, and ServerKey"."""
    keys = derive_keys(PASSWORD)
    store = SQLiteAccounts.open(tmp_path / "db.sqlite3")
    assert store.create(Account("Alice", "scrypt$x", None, 5, keys))
    assert store.create(Account("Bob", "scrypt$y", None, 6))
    store.set_scram("BOB", keys)
    store.close()
    again = SQLiteAccounts.open(tmp_path / "db.sqlite3")
    assert again.get("alice") == Account("Alice", "scrypt$x", None, 5, keys)
    assert again.get("bob") == Account("Bob", "scrypt$y", None, 6, keys)


def test_plain_still_works_beside_scram(server: ServerProcess) -> None:
    """sasl-3.2: "Clients SHOULD pick a mechanism present in the CAP LS reply";
    PLAIN stays on offer for those without SCRAM."""
    client = sasl_client(server.port, "alice")
    client.send("AUTHENTICATE PLAIN")
    client.expect("AUTHENTICATE")
    client.send(f"AUTHENTICATE {plain_token('alice', PASSWORD)}")
    client.expect("903")
    server.wait_for(re.compile(r"logged in as alice with PLAIN"))
    client.close()

"""SASL SCRAM-SHA-256 (RFC 5802, RFC 7677): the math, and the exchange through the chat core."""

from __future__ import annotations

import base64

import pytest

from easychat.chat.identity.accounts import Account
from easychat.chat.identity.passwords import hash_password
from easychat.chat.identity.scram import NO_KEYS
from easychat.chat.protection import access
from easychat.proto import numerics as n
from easychat.proto.scram import (
    ITERATIONS,
    client_proof,
    derive_keys,
    proof_matches,
    salted_password,
    saslprep,
    server_signature,
)
from tests.chatcore_harness import CoreDriver, commands
from tests.ircclient import plain_token
from tests.nolimits import unlimited
from tests.test_sasl import MemoryAccounts

# RFC 7677 section 3, "SCRAM-SHA-256 ... Test Vector": user "user", password "pencil".
RFC_PASSWORD = "pencil"
RFC_CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_FIRST = (
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC_CLIENT_FINAL = (
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
RFC_SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

PASSWORD = "correct horse battery"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def attributes(message: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in message.split(","))


def client_final(
    password: str, bare: str, server_first: str, *, nonce: str | None = None
) -> tuple[str, str]:
    """A test client's client-final for `server_first`, and the AuthMessage it signed."""
    attrs = attributes(server_first)
    salted = salted_password(password, base64.b64decode(attrs["s"]), int(attrs["i"]))
    without_proof = f"c=biws,r={attrs['r'] if nonce is None else nonce}"
    auth_message = f"{bare},{server_first},{without_proof}"
    proof = base64.b64encode(client_proof(salted, auth_message)).decode()
    return f"{without_proof},p={proof}", auth_message


# -- the math: RFC 7677's test vector ------------------------------------------------


def test_rfc7677_vector_keys_proof_and_signature() -> None:
    """RFC 7677 section 3: "This is a simple example of a SCRAM-SHA-256
    authentication exchange when the client doesn't support channel bindings.
    The username 'user' and password 'pencil' are being used." """
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    keys = derive_keys(RFC_PASSWORD, salt, 4096)
    auth_message = f"{RFC_CLIENT_FIRST[3:]},{RFC_SERVER_FIRST},{RFC_CLIENT_FINAL.rsplit(',', 1)[0]}"
    salted = salted_password(RFC_PASSWORD, salt, 4096)
    proof = client_proof(salted, auth_message)
    assert base64.b64encode(proof).decode() == attributes(RFC_CLIENT_FINAL)["p"]
    assert proof_matches(keys.stored_key, auth_message, proof)
    assert not proof_matches(keys.stored_key, auth_message, bytes(32))
    assert not proof_matches(keys.stored_key, auth_message + "x", proof)
    signature = server_signature(keys.server_key, auth_message)
    assert f"v={base64.b64encode(signature).decode()}" == RFC_SERVER_FINAL


def test_saslprep_as_rfc4013_examples() -> None:
    """RFC 4013 section 3: "I<U+00AD>X" -> "IX", "<U+00AA>" -> "a", "<U+2168>" ->
    "IX"; "<U+0007>" (prohibited) and "<U+0627><U+0031>" (bidi) are errors,
    which we answer by using the password as given on both sides."""
    assert saslprep("I\u00adX") == "IX"
    assert saslprep("user") == "user"
    assert saslprep("\u00aa") == "a"
    assert saslprep("\u2168") == "IX"
    assert saslprep("a\u00a0b") == "a b"
    assert saslprep("\u0007") == "\u0007"
    assert saslprep("\u0627\u0031") == "\u0627\u0031"


# -- the exchange through the chat core -----------------------------------------------


@pytest.fixture
def drv() -> CoreDriver:
    """A core with `alice` (SCRAM keys and a hash) and `olduser` (a hash only, from before)."""
    driver = CoreDriver(unlimited())
    store = MemoryAccounts()
    store.create(Account("alice", "", None, 0, derive_keys(PASSWORD)))
    store.create(Account("olduser", hash_password(PASSWORD), None, 0))
    driver.core.accounts = store
    return driver


def start(drv: CoreDriver, nick: str = "alice", host: str = "127.0.0.1") -> int:
    conn = drv.open(host)
    drv.send(conn, "CAP LS 302")
    drv.send(conn, "CAP REQ sasl")
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick} 0 * :{nick}")
    return conn


def first(drv: CoreDriver, conn: int, name: str = "alice", nonce: str = "cn0nce") -> str:
    """Sends SCRAM-SHA-256's client-first; returns the server-first message."""
    assert drv.send(conn, "AUTHENTICATE SCRAM-SHA-256")[0].params == ("+",)
    reply = drv.send(conn, f"AUTHENTICATE {b64(f'n,,n={name},r={nonce}')}")
    assert [m.command for m in reply] == ["AUTHENTICATE"], reply
    return unb64(reply[0].params[0])


def test_a_full_exchange_logs_in(drv: CoreDriver) -> None:
    """RFC 5802 section 5: server-first is `r=<client nonce + server nonce>,s=,i=`;
    the server "verifies the nonce and the proof" and answers `v=`. sasl-3.1:
    "If authentication is successful, a 900 and 903 numeric will be sent"."""
    conn = start(drv)
    server_first = first(drv, conn)
    attrs = attributes(server_first)
    assert attrs["r"].startswith("cn0nce")
    assert len(attrs["r"]) > len("cn0nce")
    assert int(attrs["i"]) == ITERATIONS
    final, auth_message = client_final(PASSWORD, "n=alice,r=cn0nce", server_first)
    reply = drv.send(conn, f"AUTHENTICATE {b64(final)}")
    assert [m.command for m in reply] == ["AUTHENTICATE"]
    keys = drv.core.accounts.get("alice").scram  # type: ignore[union-attr]
    assert keys is not None
    signature = base64.b64encode(server_signature(keys.server_key, auth_message)).decode()
    assert unb64(reply[0].params[0]) == f"v={signature}"
    assert drv.core.clients[conn].account is None  # not before the client's last response
    reply = drv.send(conn, "AUTHENTICATE +")
    assert commands(reply) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    assert drv.core.clients[conn].account == "alice"
    assert commands(drv.send(conn, "AUTHENTICATE SCRAM-SHA-256")) == [n.ERR_SASLALREADY]


def test_a_wrong_password_is_904_and_counts_as_a_failed_login(drv: CoreDriver) -> None:
    """sasl-3.1: "If authentication fails, a 904 or 905 numeric will be sent";
    failures are throttled per IP and account as with PLAIN."""
    conn = start(drv)
    for _ in range(access.LOGIN_ATTEMPTS):
        server_first = first(drv, conn)
        final, _ = client_final("not the password", "n=alice,r=cn0nce", server_first)
        reply = drv.send(conn, f"AUTHENTICATE {b64(final)}")
        assert commands(reply) == [n.ERR_SASLFAIL]
    assert drv.core.clients[conn].sasl_scram is None
    drv.send(conn, "AUTHENTICATE SCRAM-SHA-256")
    reply = drv.send(conn, f"AUTHENTICATE {b64('n,,n=alice,r=cn0nce')}")
    assert commands(reply) == [n.ERR_SASLFAIL]
    assert "try again in" in reply[0].params[-1]


def test_a_tampered_nonce_is_904(drv: CoreDriver) -> None:
    """RFC 5802 section 5.1: "the server MUST verify that the nonce sent by the
    client in the second message is the same as the one sent by the server in
    its first message"."""
    conn = start(drv)
    server_first = first(drv, conn)
    nonce = attributes(server_first)["r"]
    tampered = nonce[:-1] + ("A" if nonce[-1] != "A" else "B")
    final, _ = client_final(PASSWORD, "n=alice,r=cn0nce", server_first, nonce=tampered)
    reply = drv.send(conn, f"AUTHENTICATE {b64(final)}")
    assert commands(reply) == [n.ERR_SASLFAIL]
    assert "nonce" in reply[0].params[-1]
    assert drv.core.clients[conn].account is None


def test_abort_mid_exchange_is_906_and_a_new_one_starts_afresh(drv: CoreDriver) -> None:
    """sasl-3.1: "The client can abort an authentication by sending an asterisk
    as the data. The server will send a 906 numeric." """
    conn = start(drv)
    first(drv, conn)
    assert commands(drv.send(conn, "AUTHENTICATE *")) == [n.ERR_SASLABORTED]
    assert drv.core.clients[conn].sasl_scram is None
    assert drv.core.clients[conn].sasl_mech is None
    server_first = first(drv, conn, nonce="again")
    final, _ = client_final(PASSWORD, "n=alice,r=again", server_first)
    drv.send(conn, f"AUTHENTICATE {b64(final)}")
    assert commands(drv.send(conn, "AUTHENTICATE +"))[-1] == n.RPL_SASLSUCCESS


def test_cap_end_mid_exchange_is_906(drv: CoreDriver) -> None:
    """sasl-3.1: "If the client completes registration ... while the SASL
    authentication is still in progress, the server SHOULD abort it and send a
    906 numeric, then register the client without authentication." """
    conn = start(drv, "bob")
    first(drv, conn)
    reply = commands(drv.send(conn, "CAP END"))
    assert reply[0] == n.ERR_SASLABORTED
    assert n.RPL_WELCOME in reply
    assert drv.core.clients[conn].sasl_scram is None


def test_an_account_without_keys_is_904_with_a_reason_until_a_plain_login(
    drv: CoreDriver,
) -> None:
    """sasl-3.1: after AUTHENTICATE <mechanism>, "If this fails, a 904 numeric
    will be sent and the session state remains unchanged; the client MAY try
    another mechanism." An account made before SCRAM has no keys until its
    password is known again, at a PLAIN login."""
    conn = start(drv, "olduser")
    drv.send(conn, "AUTHENTICATE SCRAM-SHA-256")
    reply = drv.send(conn, f"AUTHENTICATE {b64('n,,n=olduser,r=cn0nce')}")
    assert commands(reply) == [n.ERR_SASLFAIL]
    assert reply[0].params[-1] == NO_KEYS
    assert "PLAIN" in NO_KEYS
    drv.send(conn, "AUTHENTICATE PLAIN")
    reply = drv.send(conn, f"AUTHENTICATE {plain_token('olduser', PASSWORD)}")
    assert commands(reply)[-1] == n.RPL_SASLSUCCESS
    keys = drv.core.accounts.get("olduser").scram  # type: ignore[union-attr]
    assert keys is not None
    assert keys.iterations == ITERATIONS
    other = start(drv, "olduser")
    server_first = first(drv, other, "olduser")
    final, _ = client_final(PASSWORD, "n=olduser,r=cn0nce", server_first)
    drv.send(other, f"AUTHENTICATE {b64(final)}")
    assert commands(drv.send(other, "AUTHENTICATE +")) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]


def test_register_gives_a_new_account_its_keys(drv: CoreDriver) -> None:
    """RFC 5802 section 5: the server stores "the salt, iteration count,
    StoredKey, and ServerKey"; REGISTER makes them while the password is known."""
    conn = drv.register("carol")
    drv.send(conn, f"REGISTER * * :{PASSWORD}")
    account = drv.core.accounts.get("carol")  # type: ignore[union-attr]
    assert account is not None
    assert account.scram is not None
    assert account.scram == derive_keys(PASSWORD, account.scram.salt)
    assert PASSWORD.encode() not in repr(account).encode()


@pytest.mark.parametrize(
    ("client_first", "reason"),
    [
        ("p=tls-unique,,n=alice,r=x", "channel binding"),  # -PLUS is not offered
        ("n,a=bob,n=alice,r=x", "failed"),  # someone else's authorization identity
        ("n,,n=alice", "malformed"),
        ("n,,r=x,n=alice", "malformed"),
        ("n,,m=ext,n=alice,r=x", "malformed"),
        ("q,,n=alice,r=x", "malformed"),
        ("", "malformed"),
        ("n,,n=nobody,r=x", "failed"),
    ],
)
def test_a_bad_client_first_is_904(drv: CoreDriver, client_first: str, reason: str) -> None:
    """RFC 5802 section 7: client-first-message = gs2-header
    client-first-message-bare; "n" means the client does not support channel
    binding, and a mandatory extension `m=` the server does not know "MUST"
    fail the authentication."""
    conn = start(drv)
    drv.send(conn, "AUTHENTICATE SCRAM-SHA-256")
    data = b64(client_first) if client_first else "+"
    reply = drv.send(conn, f"AUTHENTICATE {data}")
    assert commands(reply) == [n.ERR_SASLFAIL]
    assert reason in reply[0].params[-1]
    assert drv.core.clients[conn].sasl_mech is None


def test_the_response_after_server_final_must_be_empty(drv: CoreDriver) -> None:
    """RFC 4422 section 5: additional data after the server's last challenge is
    answered with an empty response (`AUTHENTICATE +`)."""
    conn = start(drv)
    server_first = first(drv, conn)
    final, _ = client_final(PASSWORD, "n=alice,r=cn0nce", server_first)
    drv.send(conn, f"AUTHENTICATE {b64(final)}")
    assert commands(drv.send(conn, f"AUTHENTICATE {b64('x')}")) == [n.ERR_SASLFAIL]
    assert drv.core.clients[conn].account is None


def test_a_client_first_over_400_bytes_is_reassembled(drv: CoreDriver) -> None:
    """sasl-3.1: "The response is encoded in Base64 (RFC 4648), then split to
    400-byte chunks, and each chunk is sent as a separate AUTHENTICATE command." """
    conn = start(drv)
    nonce = "N" * 400
    data = b64(f"n,,n=alice,r={nonce}")
    assert len(data) > 400
    drv.send(conn, "AUTHENTICATE SCRAM-SHA-256")
    assert drv.send(conn, f"AUTHENTICATE {data[:400]}") == []
    reply = drv.send(conn, f"AUTHENTICATE {data[400:]}")
    server_first = unb64("".join(m.params[0] for m in reply if m.params[0] != "+"))
    final_text, _ = client_final(PASSWORD, f"n=alice,r={nonce}", server_first)
    final = b64(final_text)
    chunks = [final[i : i + 400] for i in range(0, len(final), 400)]
    for chunk in chunks:
        drv.send(conn, f"AUTHENTICATE {chunk}")
    if len(chunks[-1]) == 400:
        drv.send(conn, "AUTHENTICATE +")
    assert commands(drv.send(conn, "AUTHENTICATE +")) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]

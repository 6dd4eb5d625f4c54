"""SASL PLAIN (IRCv3 sasl-3.1) through the chat core, and failed-login throttling."""

from __future__ import annotations

from dataclasses import replace

import pytest

from easychat.chat.identity.accounts import SASL_CHUNK, SASL_MAX_BYTES, Account
from easychat.chat.identity.passwords import hash_password
from easychat.chat.protection import access
from easychat.proto import numerics as n
from easychat.proto.names import casefold
from easychat.proto.scram import ScramKeys
from tests.chatcore_harness import CoreDriver, commands
from tests.ircclient import plain_token as plain

PASSWORD = "hunter2hunter2"
HASH = hash_password(PASSWORD)  # scrypt is slow on purpose: hash once per run


class MemoryAccounts:
    """A fake AccountStore in a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, Account] = {}

    def get(self, name: str) -> Account | None:
        return self.rows.get(casefold(name))

    def create(self, account: Account) -> bool:
        if casefold(account.name) in self.rows:
            return False
        self.rows[casefold(account.name)] = account
        return True

    def set_scram(self, name: str, keys: ScramKeys) -> None:
        self.rows[casefold(name)] = replace(self.rows[casefold(name)], scram=keys)


@pytest.fixture
def drv() -> CoreDriver:
    """A core with an account `alice` (password PASSWORD)."""
    driver = CoreDriver()
    store = MemoryAccounts()
    store.create(Account("alice", HASH, None, 0))
    driver.core.accounts = store
    return driver


def start(drv: CoreDriver, nick: str = "alice") -> int:
    conn = drv.open()
    drv.send(conn, "CAP LS 302")
    drv.send(conn, "CAP REQ sasl")
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick} 0 * :{nick}")
    return conn


def test_cap_ls_offers_sasl_only_with_accounts(drv: CoreDriver) -> None:
    """sasl-3.2: "The value, if present, MUST be a comma (,) separated list of SASL
    authentication mechanisms." """
    conn = drv.open()
    caps = drv.send(conn, "CAP LS 302")[0].params[-1].split()
    assert "sasl=PLAIN,SCRAM-SHA-256" in caps
    assert "draft/account-registration=before-connect" in caps
    assert {"account-tag", "account-notify", "extended-join"} <= set(caps)
    bare = CoreDriver()
    conn = bare.open()
    assert "sasl" not in bare.send(conn, "CAP LS 302")[0].params[-1]


def test_plain_success_then_registration(drv: CoreDriver) -> None:
    """sasl-3.1: "S: AUTHENTICATE +" after the mechanism, then 900 and 903."""
    conn = start(drv)
    reply = drv.send(conn, "AUTHENTICATE PLAIN")
    assert [(m.command, m.params) for m in reply] == [("AUTHENTICATE", ("+",))]
    reply = drv.send(conn, f"AUTHENTICATE {plain('alice', PASSWORD)}")
    assert commands(reply) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    assert reply[0].params[1:3] == ("alice!alice@127.0.0.1", "alice")
    assert n.RPL_WELCOME in commands(drv.send(conn, "CAP END"))
    assert drv.core.find_client("alice") is not None


def test_wrong_password_is_904_and_nick_stays_reserved(drv: CoreDriver) -> None:
    conn = start(drv)
    drv.send(conn, "AUTHENTICATE PLAIN")
    assert commands(drv.send(conn, f"AUTHENTICATE {plain('alice', 'nope')}")) == [n.ERR_SASLFAIL]
    reply = drv.send(conn, "CAP END")
    assert commands(reply) == [n.ERR_NICKNAMEINUSE]
    assert "reserved" in reply[0].params[-1]
    assert conn not in drv.closed
    assert n.RPL_WELCOME in commands(drv.send(conn, "NICK guest1"))


def test_unknown_mechanism_gets_908_then_904(drv: CoreDriver) -> None:
    """sasl-3.1: an unsupported mechanism gets RPL_SASLMECHS, then ERR_SASLFAIL."""
    conn = start(drv)
    reply = drv.send(conn, "AUTHENTICATE SCRAM-SHA-1")
    assert commands(reply) == [n.RPL_SASLMECHS, n.ERR_SASLFAIL]
    assert reply[0].params[1] == "PLAIN,SCRAM-SHA-256"


def test_abort_is_906(drv: CoreDriver) -> None:
    """ "The client can abort an authentication by sending an asterisk as the data.
    The server will send a 906 numeric." """
    conn = start(drv)
    drv.send(conn, "AUTHENTICATE PLAIN")
    assert commands(drv.send(conn, "AUTHENTICATE *")) == [n.ERR_SASLABORTED]


def test_second_authenticate_after_success_is_907(drv: CoreDriver) -> None:
    """ "If the client attempts to issue the AUTHENTICATE command after already
    authenticating successfully, the server MUST reject it with a 907 numeric." """
    conn = start(drv)
    drv.send(conn, "AUTHENTICATE PLAIN")
    drv.send(conn, f"AUTHENTICATE {plain('alice', PASSWORD)}")
    assert commands(drv.send(conn, "AUTHENTICATE PLAIN")) == [n.ERR_SASLALREADY]


def test_cap_end_during_sasl_aborts_with_906(drv: CoreDriver) -> None:
    """ "If the client completes registration ... while the SASL authentication is
    still in progress, the server SHOULD abort it and send a 906 numeric"."""
    conn = start(drv, "bob")
    drv.send(conn, "AUTHENTICATE PLAIN")
    reply = commands(drv.send(conn, "CAP END"))
    assert reply[0] == n.ERR_SASLABORTED
    assert n.RPL_WELCOME in reply


def test_chunks_of_400_and_plus_terminator(drv: CoreDriver) -> None:
    """ "If the last chunk was exactly 400 bytes long, it must also be followed by
    AUTHENTICATE + to signal end of response." """
    long_password = "x" * 400
    drv.core.accounts.create(Account("carol", hash_password(long_password), None, 0))  # type: ignore[union-attr]
    conn = start(drv, "carol")
    drv.send(conn, "AUTHENTICATE PLAIN")
    data = plain("carol", long_password)
    chunks = [data[i : i + SASL_CHUNK] for i in range(0, len(data), SASL_CHUNK)]
    for chunk in chunks:
        assert drv.send(conn, f"AUTHENTICATE {chunk}") == [] or chunk is chunks[-1]
    if len(chunks[-1]) == SASL_CHUNK:
        assert commands(drv.send(conn, "AUTHENTICATE +"))[-1] == n.RPL_SASLSUCCESS
    assert drv.core.clients[conn].account == "carol"


def test_a_response_over_400_bytes_is_reassembled_from_its_chunks(drv: CoreDriver) -> None:
    """ "The response is encoded in Base64 (RFC 4648), then split to 400-byte
    chunks, and each chunk is sent as a separate AUTHENTICATE command." A
    400-byte chunk means more follows: nothing is answered until the last,
    shorter one, and the whole response is checked at once."""
    password = "bar" * 100  # a 412-byte response
    drv.core.accounts.create(Account("foo", hash_password(password), None, 0))  # type: ignore[union-attr]
    conn = start(drv, "foo")
    drv.send(conn, "AUTHENTICATE PLAIN")
    data = plain("foo", password, authzid="foo")
    assert len(data) == 412
    assert drv.send(conn, f"AUTHENTICATE {data[:400]}") == []
    reply = drv.send(conn, f"AUTHENTICATE {data[400:]}")
    assert commands(reply) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]
    assert n.ERR_INPUTTOOLONG not in commands(reply)


def test_an_exact_multiple_of_400_ends_with_plus(drv: CoreDriver) -> None:
    """ "If the last chunk was exactly 400 bytes long, it must also be followed
    by AUTHENTICATE + to signal end of response." """
    password = "bar" * 97  # a 400-byte response
    drv.core.accounts.create(Account("foo", hash_password(password), None, 0))  # type: ignore[union-attr]
    conn = start(drv, "foo")
    drv.send(conn, "AUTHENTICATE PLAIN")
    data = plain("foo", password, authzid="foo")
    assert len(data) == SASL_CHUNK
    assert drv.send(conn, f"AUTHENTICATE {data}") == []
    assert commands(drv.send(conn, "AUTHENTICATE +")) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]


def test_a_response_past_the_cap_is_905_and_forgotten(drv: CoreDriver) -> None:
    """SASL_MAX_BYTES caps what is reassembled: the chunk that passes it is
    ERR_SASLTOOLONG (905, "SASL message too long"), the exchange ends, and a
    new AUTHENTICATE starts afresh."""
    conn = start(drv)
    drv.send(conn, "AUTHENTICATE PLAIN")
    for _ in range(SASL_MAX_BYTES // SASL_CHUNK):
        assert drv.send(conn, "AUTHENTICATE " + "A" * SASL_CHUNK) == []
    assert commands(drv.send(conn, "AUTHENTICATE AAAA")) == [n.ERR_SASLTOOLONG]
    assert drv.core.clients[conn].sasl_buffer == ""
    assert drv.core.clients[conn].sasl_mech is None
    assert drv.send(conn, "AUTHENTICATE PLAIN")[0].params == ("+",)
    reply = drv.send(conn, f"AUTHENTICATE {plain('alice', PASSWORD)}")
    assert commands(reply) == [n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS]


def test_overlong_chunk_is_905(drv: CoreDriver) -> None:
    conn = start(drv)
    drv.send(conn, "AUTHENTICATE PLAIN")
    assert commands(drv.send(conn, "AUTHENTICATE " + "A" * 401)) == [n.ERR_SASLTOOLONG]


def test_garbage_base64_and_other_authzid_fail(drv: CoreDriver) -> None:
    conn = start(drv)
    drv.send(conn, "AUTHENTICATE PLAIN")
    assert commands(drv.send(conn, "AUTHENTICATE !!!!")) == [n.ERR_SASLFAIL]
    drv.send(conn, "AUTHENTICATE PLAIN")
    forged = plain("alice", PASSWORD, authzid="bob")
    assert commands(drv.send(conn, f"AUTHENTICATE {forged}")) == [n.ERR_SASLFAIL]


def test_failed_logins_are_throttled_per_ip_and_account(drv: CoreDriver) -> None:
    conn = start(drv)
    for _ in range(access.LOGIN_ATTEMPTS):
        drv.send(conn, "AUTHENTICATE PLAIN")
        drv.send(conn, f"AUTHENTICATE {plain('alice', 'wrong')}")
    drv.send(conn, "AUTHENTICATE PLAIN")
    reply = drv.send(conn, f"AUTHENTICATE {plain('alice', PASSWORD)}")
    assert commands(reply) == [n.ERR_SASLFAIL]
    assert "try again in" in reply[0].params[-1]
    # Another IP is still throttled for this account.
    other = drv.open("10.0.0.9")
    drv.send(other, "AUTHENTICATE PLAIN")
    assert commands(drv.send(other, f"AUTHENTICATE {plain('alice', PASSWORD)}")) == [n.ERR_SASLFAIL]
    drv.clock.advance(access.LOGIN_WINDOW)
    drv.send(conn, "AUTHENTICATE PLAIN")
    reply = drv.send(conn, f"AUTHENTICATE {plain('alice', PASSWORD)}")
    assert commands(reply)[-1] == n.RPL_SASLSUCCESS


def test_throttle_table_is_bounded() -> None:
    state = access.Access()
    for i in range(access.MAX_THROTTLE_KEYS + 50):
        state.failed([f"account:n{i}"], 0.0)
    assert len(state.failures) <= access.MAX_THROTTLE_KEYS
    state.failed(["account:late"], access.LOGIN_WINDOW + 1)
    assert len(state.failures) == 1

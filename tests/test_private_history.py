"""Private history is for the people who talked, not for whoever holds their nick later.

A private conversation is kept under the two nicks. The chathistory spec:
"The server MUST verify the current user's identity matches that of the
desired content". A client logged in to the account that owns its nick reads
the whole conversation; any other client only what was said since it
connected. Driven through the chat core with a SQLite history and accounts.
"""

from __future__ import annotations

import pytest

from easychat.proto import numerics as n
from easychat.proto.message import Message
from easychat.store.accounts import SQLiteAccounts
from easychat.store.history import SQLiteHistory
from tests.chatcore_harness import CoreDriver
from tests.ircclient import plain_token as plain

CAPS = "draft/chathistory batch server-time message-tags"
PASSWORD = "a long enough password"
EVER = "timestamp=2000-01-01T00:00:00.000Z"
NEVER = "timestamp=2100-01-01T00:00:00.000Z"


@pytest.fixture
def drv() -> CoreDriver:
    driver = CoreDriver()
    history = SQLiteHistory(":memory:")
    driver.core.history = history
    driver.core.accounts = SQLiteAccounts(history.db)
    return driver


def connect(drv: CoreDriver, nick: str, *, login: bool = False) -> int:
    """A client with the history capabilities, logged in to its nick's account with `login`."""
    conn = drv.open()
    drv.send(conn, f"CAP REQ :{CAPS}{' sasl' if login else ''}")
    drv.send(conn, f"NICK {nick}")
    drv.send(conn, f"USER {nick} 0 * :{nick}")
    if login:
        drv.send(conn, "AUTHENTICATE PLAIN")
        reply = drv.send(conn, f"AUTHENTICATE {plain(nick, PASSWORD)}")
        assert n.RPL_SASLSUCCESS in [m.command for m in reply], reply
    burst = drv.send(conn, "CAP END")
    assert n.RPL_WELCOME in [m.command for m in burst], burst
    drv.drain()
    return conn


def say(drv: CoreDriver, conn: int, target: str, text: str) -> None:
    drv.send(conn, f"PRIVMSG {target} :{text}")
    drv.drain()


def texts(drv: CoreDriver, conn: int, request: str) -> list[str]:
    """The PRIVMSG texts of a CHATHISTORY reply."""
    return [m.params[1] for m in drv.send(conn, request) if m.command == "PRIVMSG"]


def targets(drv: CoreDriver, conn: int) -> list[str]:
    """The names CHATHISTORY TARGETS lists over all time."""
    reply: list[Message] = drv.send(conn, f"CHATHISTORY TARGETS {EVER} {NEVER} 10")
    return [m.params[1] for m in reply if m.command == "CHATHISTORY"]


def test_a_later_holder_of_a_freed_nick_reads_only_its_own_session(drv: CoreDriver) -> None:
    """Mallory takes the nick alice freed: she gets none of alice's conversation with bob,
    only what is said to her; bob, connected all along, still reads all of it."""
    alice, bob = connect(drv, "alice"), connect(drv, "bob")
    say(drv, alice, "bob", "between us")
    say(drv, bob, "alice", "a secret")
    drv.send(alice, "QUIT :bye")
    drv.clock.advance(60)
    mallory = connect(drv, "alice")
    assert texts(drv, mallory, "CHATHISTORY LATEST bob * 10") == []
    assert texts(drv, mallory, f"CHATHISTORY AFTER bob {EVER} 10") == []
    assert "bob" not in targets(drv, mallory)
    say(drv, bob, "alice", "who is this?")
    assert texts(drv, mallory, "CHATHISTORY LATEST bob * 10") == ["who is this?"]
    assert "bob" in targets(drv, mallory)
    assert texts(drv, bob, "CHATHISTORY LATEST alice * 10") == [
        "between us",
        "a secret",
        "who is this?",
    ]


def test_the_account_owner_reads_the_whole_conversation_on_a_new_connection(
    drv: CoreDriver,
) -> None:
    """Alice registered her nick: logged in on a later connection, she reads what came before."""
    alice = connect(drv, "alice")
    reply = drv.send(alice, f"REGISTER * * :{PASSWORD}")
    assert reply[0].params[0] == "SUCCESS", reply
    bob = connect(drv, "bob")
    say(drv, alice, "bob", "between us")
    say(drv, bob, "alice", "a reply")
    drv.send(alice, "QUIT :bye")
    drv.clock.advance(60)
    again = connect(drv, "alice", login=True)
    assert texts(drv, again, "CHATHISTORY LATEST bob * 10") == ["between us", "a reply"]
    assert "bob" in targets(drv, again)


def test_the_boundary_is_exact_within_one_millisecond(drv: CoreDriver) -> None:
    """The clock does not move here: what was said before the new connection and what is
    said after share a millisecond, and the boundary still falls between them."""
    alice, bob = connect(drv, "alice"), connect(drv, "bob")
    say(drv, alice, "bob", "before")
    drv.send(alice, "QUIT :bye")
    mallory = connect(drv, "alice")
    say(drv, bob, "alice", "after")
    assert texts(drv, mallory, "CHATHISTORY LATEST bob * 10") == ["after"]

"""Client login: SASL PLAIN, PASS, REGISTER from the Session, and the login screen's fields."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from easychat.chat.config import CoreConfig
from easychat.client.events import RegistrationFailed
from easychat.client.session.auth import SASL_CHUNK, plain_chunks
from easychat.client.session.session import Session
from easychat.proto.message import parse
from easychat.store.accounts import SQLiteAccounts
from easychat.tui.screens.chat import ChatScreen
from tests.apphelpers import SIZE, chat_screen, field, login_error, make_app, wait_for
from tests.ircclient import RunningServer

LS_SASL = ":srv CAP * LS :sasl=PLAIN draft/account-registration=before-connect server-time"
LS_PLAIN = ":srv CAP * LS :server-time"


def out(session: Session) -> list[str]:
    return [m.format() for m in session.take_outgoing()]


def feed(session: Session, line: str) -> list[object]:
    return list(session.feed(parse(line)))


def test_sasl_plain_when_offered() -> None:
    """sasl-3.1: REQ sasl, AUTHENTICATE PLAIN, then the base64 response; CAP END after 903."""
    session = Session("alice", password="pw12345678")
    feed(session, LS_SASL)
    assert out(session) == ["CAP REQ :sasl server-time"]
    feed(session, ":srv CAP * ACK :sasl server-time")
    assert out(session) == ["AUTHENTICATE PLAIN"]
    feed(session, "AUTHENTICATE +")
    token = base64.b64encode(b"alice\0alice\0pw12345678").decode()
    assert out(session) == [f"AUTHENTICATE {token}"]
    feed(session, ":srv 900 alice alice!alice@h alice :You are now logged in as alice")
    assert session.account == "alice"
    feed(session, ":srv 903 alice :SASL authentication successful")
    assert out(session) == ["CAP END"]


def test_sasl_failure_ends_the_login_with_a_reason() -> None:
    session = Session("alice", password="wrong-password")
    feed(session, LS_SASL)
    feed(session, ":srv CAP * ACK :sasl server-time")
    feed(session, "AUTHENTICATE +")
    events = feed(session, ":srv 904 alice :SASL authentication failed")
    assert len(events) == 1
    assert isinstance(events[0], RegistrationFailed)
    assert "wrong nickname or password" in events[0].reason


def test_password_goes_as_pass_without_sasl() -> None:
    session = Session("alice", password="serverpw")
    feed(session, LS_PLAIN)
    assert out(session) == ["PASS serverpw", "CAP REQ server-time"]
    feed(session, ":srv CAP * ACK :server-time")
    assert out(session) == ["CAP END"]


def test_a_reserved_nick_asks_for_the_password() -> None:
    session = Session("alice")
    events = feed(session, ":srv 433 * alice :Nickname is reserved by a different account")
    assert isinstance(events[0], RegistrationFailed)
    assert events[0].reason == "Nickname alice belongs to an account: enter its password"
    events = Session("bob").feed(parse(":srv 433 * bob :Nickname is already in use"))
    assert isinstance(events[0], RegistrationFailed)
    assert "already in use" in events[0].reason


def test_no_password_changes_nothing() -> None:
    session = Session("alice")
    feed(session, LS_SASL)
    assert out(session) == ["CAP REQ server-time"]


def test_create_account_sends_register_and_waits_for_success() -> None:
    session = Session("alice", password="pw12345678", create_account=True)
    feed(session, LS_SASL)
    assert out(session) == ["REGISTER * * pw12345678", "CAP REQ server-time"]
    feed(session, ":srv CAP * ACK :server-time")
    assert out(session) == []  # CAP END waits for REGISTER's answer
    feed(session, ":srv REGISTER SUCCESS alice :Account created")
    assert out(session) == ["CAP END"]


def test_create_account_failure_and_missing_support() -> None:
    session = Session("alice", password="pw12345678", create_account=True)
    feed(session, LS_SASL)
    session.take_outgoing()
    events = feed(session, ":srv FAIL REGISTER ACCOUNT_EXISTS alice :Account already exists")
    assert isinstance(events[0], RegistrationFailed)
    assert "Account already exists" in events[0].reason
    other = Session("bob", password="pw12345678", create_account=True)
    events = feed(other, LS_PLAIN)
    assert isinstance(events[0], RegistrationFailed)


def test_plain_chunks_end_with_plus_at_exactly_400() -> None:
    """ "If the last chunk was exactly 400 bytes long, it must also be followed by
    AUTHENTICATE + to signal end of response." """
    for size in range(280, 320):
        chunks = plain_chunks("a", "x" * size)
        joined = "".join(c for c in chunks if c != "+")
        assert base64.b64decode(joined) == b"a\0a\0" + b"x" * size
        assert all(len(c) <= SASL_CHUNK for c in chunks)
        assert (chunks[-1] == "+") == (len(joined) % SASL_CHUNK == 0)


# -- the app against our server -------------------------------------------------------


@pytest.fixture
def account_server(make_server: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    server = make_server()
    server.core.accounts = SQLiteAccounts.open(tmp_path / "accounts.sqlite3")
    return server


async def login(app_port: int, tmp_path: Path, password: str, create: bool) -> tuple[str, str]:
    """Logs in through the login screen; returns (outcome, account or error)."""
    app = make_app(app_port, tmp_path, nick="Alice")
    async with app.run_test(size=SIZE) as pilot:
        field(app, "#password").value = password
        app.screen.query_one("#create").value = create  # type: ignore[attr-defined]
        await pilot.click("#login")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ChatScreen) or bool(login_error(app)),
            what="the chat screen or an error",
        )
        if isinstance(app.screen, ChatScreen):
            assert chat_screen(app).nick == "Alice"
            assert app.session is not None
            return "chat", app.session.account or ""
        return "error", login_error(app)


async def test_app_creates_an_account_then_logs_in_with_it(
    account_server: RunningServer, tmp_path: Path
) -> None:
    port = account_server.port
    assert await login(port, tmp_path, "long enough pw", create=True) == ("chat", "Alice")
    assert await login(port, tmp_path, "long enough pw", create=False) == ("chat", "Alice")
    outcome, text = await login(port, tmp_path, "not the password", create=False)
    assert outcome == "error"
    assert "wrong nickname or password" in text
    outcome, text = await login(port, tmp_path, "", create=False)
    assert outcome == "error"
    assert "belongs to an account: enter its password" in text


async def test_app_checks_a_new_account_password_locally(
    account_server: RunningServer, tmp_path: Path
) -> None:
    outcome, text = await login(account_server.port, tmp_path, "short", create=True)
    assert outcome == "error"
    assert "8 characters" in text


async def test_app_sends_the_server_password(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    server = make_server(CoreConfig(password="letmein"))
    assert (await login(server.port, tmp_path, "letmein", create=False))[0] == "chat"
    outcome, text = await login(server.port, tmp_path, "", create=False)
    assert outcome == "error"
    assert "password" in text

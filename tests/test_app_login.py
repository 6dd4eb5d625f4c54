"""App tests for logging in: the connect timeout, cancelling, silent servers, IPv6 addresses."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Checkbox

from easychat.client.events import Line, LineKind
from easychat.net.client import describe, format_address
from easychat.store.accounts import SQLiteAccounts
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.screens.login import LoginScreen
from tests.apphelpers import (
    SIZE,
    WAIT,
    button,
    field,
    has_text,
    log_in,
    login_error,
    login_screen,
    make_app,
    wait_for,
)
from tests.ircclient import RunningServer


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as listener:
        yield listener


def app_for(address: str, tmp_path: Path) -> EasyChatApp:
    return EasyChatApp(ClientSettings(nick="John", server=address, log_dir=tmp_path))


async def test_server_that_never_answers_is_explained(
    silent_server: socket.socket, tmp_path: Path
) -> None:
    """Item 26: connected, but no reply within the login timeout: is it an IRC server?"""
    port = silent_server.getsockname()[1]
    app = app_for(f"127.0.0.1:{port}", tmp_path)
    app.login_timeout = 0.5
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: "did not answer" in login_error(app), what="the timeout")
        assert login_error(app) == (
            f"Connected to 127.0.0.1:{port}, but the server did not answer within 0.5 s"
            " — is it an IRC server?"
        )
        assert not button(app, "#login").disabled
        assert app.connection is None


async def test_escape_cancels_connecting(silent_server: socket.socket, tmp_path: Path) -> None:
    """Item 26: Escape on the login screen while connecting stops the attempt."""
    port = silent_server.getsockname()[1]
    app = app_for(f"127.0.0.1:{port}", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: app.connection is not None, what="the connection")
        assert button(app, "#login").disabled
        await pilot.press("escape")
        await wait_for(pilot, lambda: not button(app, "#login").disabled, what="the cancel")
        await wait_for(
            pilot,
            lambda: not any(w.is_running for w in app.workers if w.group == "network"),
            what="the network worker to stop",
        )
        assert app.connection is None
        assert login_error(app) == "Cancelled."
        assert login_screen(app) is app.login


def test_ipv6_addresses_are_shown_in_brackets() -> None:
    """Item 26: an IPv6 address is written [::1]:6667 wherever the client shows it."""
    assert format_address("::1", 6667) == "[::1]:6667"
    assert format_address("example.org", 6697) == "example.org:6697"
    refused = describe(ConnectionRefusedError(), "::1", 6667)
    assert refused == "Connection refused by [::1]:6667: is the server running?"


async def test_ipv6_server_window_and_errors_use_brackets(tmp_path: Path) -> None:
    """Item 26: the silent-server explanation names [::1]:port."""
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as listener:
        port = listener.getsockname()[1]
        app = app_for(f"[::1]:{port}", tmp_path)
        app.login_timeout = 0.5
        async with app.run_test(size=SIZE) as pilot:
            await pilot.click("#login")
            await wait_for(pilot, lambda: "did not answer" in login_error(app), what="timeout")
            assert login_error(app).startswith(f"Connected to [::1]:{port}, but")


@pytest.fixture
def account_server(make_server: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    """A server that keeps accounts (REGISTER and SASL)."""
    server = make_server()
    server.core.accounts = SQLiteAccounts.open(tmp_path / "accounts.sqlite3")
    return server


def box_text(app: EasyChatApp) -> str:
    """The "Create an account" box as drawn (its mark and label)."""
    return str(app.login.query_one("#create", Checkbox).render())


async def test_account_creation_and_login_are_confirmed(
    account_server: RunningServer, tmp_path: Path
) -> None:
    """Item 25: the chat says the account was created and we are logged in; the box clears."""
    app = make_app(account_server.port, tmp_path / "logs", nick="Alice")
    async with app.run_test(size=SIZE) as pilot:
        assert "X" not in box_text(app)  # off is shown as an empty box
        field(app, "#password").value = "long enough pw"
        app.login.query_one("#create", Checkbox).value = True
        await pilot.pause()
        assert "X" in box_text(app)  # on is shown by a mark, not only a colour
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        assert has_text(lobby, "Account Alice created")
        assert has_text(lobby, "You are logged in as Alice")
        await pilot.click("#leave")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        assert app.login.query_one("#create", Checkbox).value is False
        assert "X" not in box_text(app)
        # Logging in again (SASL) is confirmed too, and creates nothing.
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        assert has_text(lobby, "You are logged in as Alice")
        assert not has_text(lobby, "created")


async def test_a_line_arriving_while_the_app_exits_is_kept(
    server: RunningServer, tmp_path: Path
) -> None:
    """The server keeps talking while the app closes: Textual takes the chat
    screen's widgets down first, and a line arriving then (someone quits just
    as we exit) goes into its conversation without touching the gone log."""
    app = make_app(server.port, tmp_path)
    outcome: list[str] = []

    async def line_once_the_log_is_gone() -> None:
        deadline = time.monotonic() + WAIT
        while chat.query("#log"):
            if time.monotonic() > deadline:
                outcome.append("the log was never taken down")
                return
            await asyncio.sleep(0)  # a step of the app's teardown
        try:
            app.handle(Line("#lobby", LineKind.EVENT, "Doe", "Doe quit (Bye)", time.time()))
        except Exception as error:  # what the app would have crashed with
            outcome.append(f"{type(error).__name__}: {error}")
        else:
            outcome.append("kept" if has_text(chat.conversations.current, "Doe quit") else "lost")

    async with app.run_test(size=SIZE) as pilot:
        chat = await log_in(pilot, app)
        watcher = asyncio.ensure_future(line_once_the_log_is_gone())
    await asyncio.wait_for(watcher, WAIT)
    assert outcome == ["kept"]

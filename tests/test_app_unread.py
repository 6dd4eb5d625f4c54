"""App tests for coming back: what arrived while away is marked new and counted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from easychat.store.history import SQLiteHistory
from easychat.tui.screens.login import LoginScreen
from easychat.tui.screens.scrollback import NEW_MESSAGES, SEPARATOR
from tests.apphelpers import SIZE, Peer, has_text, log_in, log_text, make_app, send_text, wait_for
from tests.ircclient import RunningServer
from tests.nolimits import unlimited


@pytest.fixture
def history_server(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> Iterator[RunningServer]:
    """A server keeping history in tmp_path/history.sqlite3."""
    store = SQLiteHistory(tmp_path / "history.sqlite3")
    server = make_server(unlimited(), history=store)
    yield server
    server.stop()
    store.close()


async def say_all(peer: Peer, target: str, texts: list[str]) -> None:
    """Sends each text as a PRIVMSG, then waits until the server has handled them all."""
    for text in texts:
        await peer.send(f"PRIVMSG {target} :{text}")
    await peer.send("PING :sync")
    await peer.expect("PONG")


@pytest.mark.parametrize("how", ["leave", "exit"])
async def test_what_arrived_while_away_is_marked_new(
    history_server: RunningServer, tmp_path: Path, how: str
) -> None:
    """Item 19: after Leave or the app's exit, the next run marks missed lines new, counted."""
    port = history_server.port
    doe = Peer(port, "Doe")
    try:
        await doe.register()
        await doe.send("JOIN #dev")
        await doe.expect("366")
        app = make_app(port, tmp_path / "logs")
        async with app.run_test(size=SIZE) as pilot:
            screen = await log_in(pilot, app)
            lobby = screen.conversations.current
            await send_text(pilot, "/join #dev")
            await wait_for(pilot, lambda: screen.conversations.current.name == "#dev")
            screen.switch_to(lobby)
            await say_all(doe, "#lobby", ["seen in lobby"])
            await say_all(doe, "#dev", ["dev unread"])
            await wait_for(pilot, lambda: has_text(lobby, "seen in lobby"), what="the seen line")
            dev = screen.conversations.get("#dev")
            assert dev is not None
            await wait_for(pilot, lambda: dev.unread == 1, what="the unread #dev line")
            if how == "leave":
                await pilot.click("#leave")
                await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="login")
        if how == "exit":  # the app closed without Leave: the server sees John go
            await doe.expect("QUIT", lambda m: (m.source or "").startswith("John!"))

        await say_all(doe, "#lobby", ["missed 1", "missed 2"])
        await say_all(doe, "#dev", ["missed dev"])

        again = make_app(port, tmp_path / "logs")
        async with again.run_test(size=SIZE) as pilot:
            screen = await log_in(pilot, again)
            lobby = screen.conversations.current

            def shown(text: str) -> int:
                return next(i for i, row in enumerate(log_text(screen)) if text in row)

            await wait_for(
                pilot,
                lambda: any("missed 2" in row for row in log_text(screen)),
                what="the missed lines",
            )
            assert shown("seen in lobby") < shown(NEW_MESSAGES) < shown("missed 1")
            rows = log_text(screen)
            assert not any(SEPARATOR in row for row in rows[shown("missed 1") :])
            dev = screen.conversations.get("#dev")
            await wait_for(pilot, lambda: dev is not None and dev.unread == 2, what="#dev 2")
    finally:
        doe.close()

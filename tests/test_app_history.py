"""App tests for the server's history: the latest page on join, scroll-back paging, catch-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from easychat.client.conversations import Conversation, Paging
from easychat.net.client import ClientConnection
from easychat.proto.message import Message
from easychat.store.history import SQLiteHistory
from easychat.tui.app import HISTORY_PAGE, ClientSettings, EasyChatApp
from easychat.tui.screens.scrollback import LOADING_EARLIER, NO_EARLIER
from easychat.tui.widgets.log import ChatLog
from tests.apphelpers import (
    SIZE,
    Peer,
    has_text,
    log_in,
    log_text,
    make_app,
    send_text,
    wait_for,
)
from tests.ircclient import RunningServer
from tests.nolimits import unlimited

# Messages Doe leaves in #lobby before John comes: two and a half pages.
EARLIER = 2 * HISTORY_PAGE + HISTORY_PAGE // 2


@pytest.fixture
def history_servers(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> Iterator[Callable[..., RunningServer]]:
    """Starts servers keeping history in tmp_path/history.sqlite3 (the same file each time)."""
    servers: list[RunningServer] = []
    stores: list[SQLiteHistory] = []

    def start(port: int = 0) -> RunningServer:
        store = SQLiteHistory(tmp_path / "history.sqlite3")
        stores.append(store)
        # Peers fill the history as fast as they can: no flood control.
        server = make_server(unlimited(), port=port, history=store)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()  # before its store closes (stopping twice is harmless)
    for store in stores:
        store.close()


@pytest.fixture
def peers() -> Iterator[Callable[[int, str], Peer]]:
    """Opens other people's connections; closes them after the test."""
    opened: list[Peer] = []

    def open_peer(port: int, nick: str) -> Peer:
        peer = Peer(port, nick)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        peer.close()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Message]:
    """Every message the app's connections send, in order."""
    record: list[Message] = []
    original = ClientConnection.send

    def send(self: ClientConnection, messages: object) -> None:
        batch = list(messages)  # type: ignore[call-overload]
        record.extend(batch)
        original(self, batch)

    monkeypatch.setattr(ClientConnection, "send", send)
    return record


async def say_all(peer: Peer, target: str, texts: list[str]) -> None:
    """Sends each text as a PRIVMSG, then waits until the server has handled them all."""
    for text in texts:
        await peer.send(f"PRIVMSG {target} :{text}")
    await peer.send("PING :sync")
    await peer.expect("PONG")


def chat_texts(conv: Conversation) -> list[str]:
    """The texts of the conversation's messages (history, then live), oldest first."""
    return [line.text for line in [*conv.history, *conv.lines] if line.msgid is not None]


def numbered(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix} {i:03d}" for i in range(start, count)]


async def scroll_to_top(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Presses PageUp, as a user would, until `done()` (the app asked for more)."""
    for _ in range(50):
        if done():
            return
        await pilot.press("pageup")
        await pilot.pause()
    raise AssertionError("PageUp never reached the top of the log")


async def test_scroll_back_pages_through_the_server_history(
    history_servers: Callable[..., RunningServer],
    tmp_path: Path,
    peers: Callable[[int, str], Peer],
    sent: list[Message],
) -> None:
    """Joining shows the latest page; each scroll to the top loads the page before it.

    A "loading earlier messages" line shows at the top while a page loads;
    pages join without gaps or duplicates; past the first message the log
    says there is nothing earlier.
    """
    server = history_servers()
    doe = peers(server.port, "Doe")
    await doe.register()
    everything = numbered("early", EARLIER)
    await say_all(doe, "#lobby", everything)
    app = make_app(server.port, tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await wait_for(pilot, lambda: len(chat_texts(lobby)) == HISTORY_PAGE, what="latest page")
        assert chat_texts(lobby) == everything[-HISTORY_PAGE:]
        assert Message("CHATHISTORY", ("LATEST", "#lobby", "*", str(HISTORY_PAGE))) in sent
        assert log_text(screen)[-1].endswith("You joined #lobby")  # the newest stays in view

        shown_while_loading: list[str] = []
        show_paging = screen.show_paging

        def record(conv: Conversation, place: str) -> None:
            show_paging(conv, place)  # type: ignore[arg-type]
            if conv.paging is Paging.LOADING:
                shown_while_loading.append(log_text(screen)[0])

        screen.show_paging = record  # type: ignore[method-assign]

        for pages in (2, 3):
            oldest = lobby.oldest_msgid()
            loads = len(shown_while_loading)
            await scroll_to_top(pilot, lambda n=loads: len(shown_while_loading) > n)  # type: ignore[misc]
            assert shown_while_loading[-1] == LOADING_EARLIER
            expected = everything[-pages * HISTORY_PAGE :]
            await wait_for(pilot, lambda e=expected: chat_texts(lobby) == e, what="page before")  # type: ignore[misc]
            assert sent[-1] == Message(
                "CHATHISTORY", ("BEFORE", "#lobby", f"msgid={oldest}", str(HISTORY_PAGE))
            )
            assert lobby.paging is Paging.IDLE
            assert LOADING_EARLIER not in log_text(screen)

        assert chat_texts(lobby) == everything
        await scroll_to_top(pilot, lambda: lobby.paging is not Paging.IDLE)
        await wait_for(pilot, lambda: lobby.paging is Paging.EXHAUSTED, what="no earlier")
        await wait_for(pilot, lambda: log_text(screen)[0] == NO_EARLIER, what="the note")
        assert chat_texts(lobby) == everything
        requests = [m for m in sent if m.command == "CHATHISTORY"]
        await pilot.press("pageup")
        await pilot.pause()
        assert [m for m in sent if m.command == "CHATHISTORY"] == requests  # asked once


async def test_home_on_the_log_asks_for_earlier_messages(
    history_servers: Callable[..., RunningServer],
    tmp_path: Path,
    peers: Callable[[int, str], Peer],
) -> None:
    """Home on the focused log, at its top, loads the page before too."""
    server = history_servers()
    doe = peers(server.port, "Doe")
    await doe.register()
    everything = numbered("early", HISTORY_PAGE + 5)
    await say_all(doe, "#lobby", everything)
    app = make_app(server.port, tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await wait_for(pilot, lambda: len(chat_texts(lobby)) == HISTORY_PAGE, what="latest page")
        log = screen.query_one("#log", ChatLog)
        log.focus()
        await pilot.pause()
        assert log.scroll_y > 0
        await pilot.press("home")
        await wait_for(pilot, lambda: chat_texts(lobby) == everything, what="the page before")
        await pilot.press("home")
        await wait_for(pilot, lambda: lobby.paging is Paging.EXHAUSTED, what="no earlier")


async def test_local_log_lines_are_not_shown_twice(
    history_servers: Callable[..., RunningServer],
    tmp_path: Path,
    peers: Callable[[int, str], Peer],
) -> None:
    """Lines already in the local log (same msgid) are not added again from the server."""
    server = history_servers()
    doe = peers(server.port, "Doe")
    await doe.register()
    app = make_app(server.port, tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await say_all(doe, "#lobby", ["seen live 1", "seen live 2"])
        await wait_for(pilot, lambda: has_text(lobby, "seen live 2"))
        await pilot.click("#leave")
        await wait_for(pilot, lambda: app.chat is None, what="the login screen")

    again = make_app(server.port, tmp_path / "logs")
    async with again.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, again)
        lobby = screen.conversations.current
        await wait_for(pilot, lambda: lobby.synced, what="the latest page")
        assert chat_texts(lobby) == ["seen live 1", "seen live 2"]
        assert again.store is not None
        logged = [entry.text for entry in again.store.recent("#lobby", 100)]
        assert logged.count("seen live 1") == 1


async def test_reconnect_fetches_exactly_what_was_missed(
    history_servers: Callable[..., RunningServer],
    tmp_path: Path,
    peers: Callable[[int, str], Peer],
    sent: list[Message],
) -> None:
    """After the server restarts on the same database, the client asks AFTER its newest msgid.

    It gets every message sent while it was away, once each and in order,
    even when they are more than one page.
    """
    first = history_servers()
    port = first.port
    app = make_app(port, tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        doe = peers(port, "Doe")
        await doe.register()
        await say_all(doe, "#lobby", ["before the restart"])
        await wait_for(pilot, lambda: has_text(lobby, "before the restart"))
        last_seen = lobby.newest_msgid()
        assert last_seen is not None
        doe.close()

        await asyncio.to_thread(first.stop)
        await wait_for(pilot, lambda: not lobby.active, what="the drop")
        second = history_servers(port)
        back = peers(port, "Doe")
        await back.register()
        missed = numbered("missed", HISTORY_PAGE + 10)
        await say_all(back, "#lobby", missed)

        await wait_for(pilot, lambda: lobby.active, timeout=8.0, what="the rejoin")
        expected = ["before the restart", *missed]
        await wait_for(pilot, lambda: chat_texts(lobby) == expected, what="the catch-up")
        assert (
            Message("CHATHISTORY", ("AFTER", "#lobby", f"msgid={last_seen}", str(HISTORY_PAGE)))
            in sent
        )
        await say_all(back, "#lobby", ["after the catch-up"])
        await wait_for(pilot, lambda: chat_texts(lobby)[-1] == "after the catch-up")
        assert chat_texts(lobby) == [*expected, "after the catch-up"]
        shown = log_text(screen)
        for text in (missed[0], missed[-1]):
            assert sum(text in row for row in shown) == 1
        assert second.port == port


async def test_private_conversation_loads_its_history(
    history_servers: Callable[..., RunningServer],
    tmp_path: Path,
    peers: Callable[[int, str], Peer],
) -> None:
    """Opening a private conversation with /msg loads the latest messages with that person."""
    server = history_servers()
    # Without a local log: what shows comes from the server.
    settings = ClientSettings(nick="John", server=f"127.0.0.1:{server.port}", log_enabled=False)
    app = EasyChatApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        doe = peers(server.port, "Doe")
        await doe.register()
        await send_text(pilot, "/msg Doe hello there")
        await doe.privmsg("Doe", "hello there")
        await doe.send("PRIVMSG John :hi John")
        private = screen.conversations.get("Doe")
        assert private is not None
        await wait_for(pilot, lambda: chat_texts(private) == ["hello there", "hi John"])
        screen.conversations.close("Doe")
        screen.refresh_all()
        await send_text(pilot, "/query Doe")
        reopened = screen.conversations.get("Doe")
        assert reopened is not None
        await wait_for(
            pilot,
            lambda: chat_texts(reopened) == ["hello there", "hi John"],
            what="the private history",
        )

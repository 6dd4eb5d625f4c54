"""App tests for state that must be right: nicks, rooms, read positions across reconnects."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Static

from easychat.client.conversations import ConversationKind
from easychat.client.events import LineKind
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.login import LoginScreen
from tests.apphelpers import (
    SIZE,
    Peer,
    has_text,
    list_entries,
    log_in,
    make_app,
    send_text,
    wait_for,
)
from tests.ircclient import RunningServer

# Longest wait for a reconnect: the first backoff step is about a second.
RECONNECT = 10.0


async def test_refused_nick_is_not_used_on_reconnect(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Item 15: after `/nick Doe` fails with 433, a reconnect registers as John, not Doe."""
    first = make_server()
    port = first.port
    doe = Peer(port, "Doe")
    await doe.register()
    app = make_app(port, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await log_in(pilot, app)
            lobby = screen.conversations.current
            await send_text(pilot, "/nick Doe")
            await wait_for(pilot, lambda: has_text(lobby, "already in use"), what="the 433")
            await asyncio.to_thread(first.stop)
            doe.close()  # the real Doe is away when John comes back
            await wait_for(pilot, lambda: has_text(lobby, "Reconnecting"), what="the drop")
            make_server(port=port)
            await wait_for(pilot, lambda: has_text(lobby, "Reconnected"), timeout=RECONNECT)
            assert app.session is not None
            assert app.session.nick == "John"
            assert screen.nick == "John"
    finally:
        doe.close()


async def test_accepted_nick_change_is_announced_and_kept(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Item 15: an accepted /nick is said in the chat and is the nick a reconnect asks for."""
    first = make_server()
    port = first.port
    app = make_app(port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await send_text(pilot, "/nick Johnny")
        await wait_for(pilot, lambda: screen.nick == "Johnny", what="the new nick")
        assert has_text(lobby, "You are now known as Johnny")
        await asyncio.to_thread(first.stop)
        await wait_for(pilot, lambda: has_text(lobby, "Reconnecting"), what="the drop")
        make_server(port=port)
        await wait_for(pilot, lambda: has_text(lobby, "Reconnected"), timeout=RECONNECT)
        assert app.session is not None
        assert app.session.nick == "Johnny"
        assert next(line.kind for line in lobby.lines if "Johnny" in line.text) is LineKind.EVENT


def reconnected(screen: ChatScreen) -> bool:
    """Whether some conversation says the connection came back."""
    return any(has_text(conv, "Reconnected") for conv in screen.conversations.ordered())


def drop_connection(app: EasyChatApp) -> None:
    """Cuts the app's TCP connection as a network failure would (no QUIT)."""
    assert app.connection is not None
    app.connection.writer.transport.abort()


async def test_reconnect_rejoins_exactly_the_rooms_we_are_in(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 16: after a dropped connection, parted and kicked-from rooms are not rejoined."""
    doe = peers("Doe")
    await doe.register()
    for room in ("#kick", "#keyed"):
        await doe.send(f"JOIN {room}")
        await doe.expect("366")
    await doe.send("MODE #keyed +k sesame")
    await doe.expect("MODE")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        for line in ("/join #stay", "/join #gone", "/join #kick", "/join #keyed sesame"):
            await send_text(pilot, line)
            room = line.split()[1]
            await wait_for(pilot, lambda r=room: app.session.room(r) is not None, what=room)
        await send_text(pilot, "/part #gone")
        await wait_for(pilot, lambda: app.session.room("#gone") is None, what="the part")
        await doe.send("KICK #kick John :out")
        await wait_for(pilot, lambda: app.session.room("#kick") is None, what="the kick")
        drop_connection(app)
        await wait_for(pilot, lambda: reconnected(screen), timeout=RECONNECT, what="reconnect")
        await wait_for(
            pilot,
            lambda: app.session.room("#keyed") is not None and app.session.room("#stay"),
            what="the rooms rejoined",
        )
        await doe.send("NAMES #kick")
        names = await doe.expect("353", lambda m: m.params[2] == "#kick")
        assert "John" not in names.params[-1].lstrip("@+").split()
        assert sorted(app.session.rooms) == ["#keyed", "#lobby", "#stay"]


async def test_next_run_reopens_rooms_and_private_conversations(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 16: after Leave, the next run joins the same rooms (with keys) and reopens chats."""
    doe = peers("Doe")
    await doe.register()
    await doe.send("JOIN #keyed")
    await doe.expect("366")
    await doe.send("MODE #keyed +k sesame")
    await doe.expect("MODE")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        for line in ("/join #stay", "/join #gone", "/join #keyed sesame"):
            await send_text(pilot, line)
            room = line.split()[1]
            await wait_for(pilot, lambda r=room: app.session.room(r) is not None, what=room)
        await send_text(pilot, "/part #gone")
        await wait_for(pilot, lambda: app.session.room("#gone") is None, what="the part")
        await send_text(pilot, "/msg Doe psst")
        await doe.privmsg("Doe", "psst")
        await pilot.click("#leave")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")

    again = make_app(server.port, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, again)
        await wait_for(
            pilot,
            lambda: again.session.room("#keyed") is not None and again.session.room("#stay"),
            what="the rooms of the last run",
        )
        names = [conv.name for conv in screen.conversations.ordered()]
        assert "#gone" not in names
        assert "Doe" in names
        private = screen.conversations.get("Doe")
        assert private is not None
        assert private.kind is ConversationKind.PRIVATE
        assert any(line.text == "psst" for line in private.history)


async def test_left_room_is_shown_as_left_and_can_be_closed(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 17: after /part or a kick the members go, the room says "(left)", and it closes."""
    doe = peers("Doe")
    await doe.register()
    await doe.send("JOIN #kick")
    await doe.expect("366")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/join #room")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#room")
        await send_text(pilot, "/topic our plans")
        await wait_for(pilot, lambda: screen.topics.get("#room") == "our plans")
        await send_text(pilot, "/join #kick")
        await wait_for(pilot, lambda: len(screen.members.get("#kick", [])) == 2, what="members")
        await send_text(pilot, "/part #room")
        room = screen.conversations.get("#room")
        assert room is not None
        await wait_for(pilot, lambda: not room.active, what="the part")
        assert screen.members.get("#room", []) == []
        assert screen.topics.get("#room", "") == ""
        assert any(
            entry.startswith("#room (left)") for entry in list_entries(screen, "#conversations")
        )
        assert has_text(room, "You have left #room")
        await doe.send("KICK #kick John :out")
        kicked = screen.conversations.get("#kick")
        assert kicked is not None
        await wait_for(pilot, lambda: not kicked.active, what="the kick")
        assert screen.members.get("#kick", []) == []
        assert any(
            entry.startswith("#kick (left)") for entry in list_entries(screen, "#conversations")
        )
        assert has_text(kicked, "kicked by Doe: out")

        screen.switch_to(room)
        app.close_conversation("#room")
        await pilot.pause()
        assert screen.conversations.get("#room") is None
        assert screen.conversations.current is not room
        assert not any(
            entry.startswith("#room") for entry in list_entries(screen, "#conversations")
        )


async def test_topic_does_not_outlive_a_server_restart(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Item 17: after a restart the title shows the room's topic now, not the old one."""
    first = make_server()
    port = first.port
    app = make_app(port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/topic before the restart")
        title = screen.query_one("#topic", Static)
        await wait_for(pilot, lambda: "before the restart" in str(title.render()), what="topic")
        await asyncio.to_thread(first.stop)
        await wait_for(pilot, lambda: not screen.conversations.current.active, what="the drop")
        make_server(port=port)
        await wait_for(pilot, lambda: reconnected(screen), timeout=RECONNECT, what="reconnect")
        await wait_for(pilot, lambda: screen.conversations.current.active, what="rejoined")
        await wait_for(pilot, lambda: str(title.render()) == "#lobby", what="the topic to go")


async def test_joins_and_quits_are_not_unread_and_smart_filtered(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 18: joins/quits are not unread; by default shown only for people who spoke."""
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        screen.switch_to(screen.conversations.server)
        doe, roe = peers("Doe"), peers("Roe")
        await doe.register()
        await doe.send("PRIVMSG #lobby :hello")
        await wait_for(pilot, lambda: has_text(lobby, "hello"), what="Doe's line")
        await roe.register()
        await roe.send("QUIT :bye")
        doe.client.send("QUIT :later")
        await wait_for(pilot, lambda: has_text(lobby, "Doe quit"), what="Doe's quit")
        await pilot.pause(0.2)
        assert not has_text(lobby, "Roe joined")  # never spoke: hidden
        assert not has_text(lobby, "Roe quit")
        assert lobby.unread == 1  # the message only
        assert screen.conversations.server.unread == 0


async def test_all_joins_shown_when_asked(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 18: the `joins` setting shows every join ("all") or none ("none")."""
    for setting, shown in (("all", True), ("none", False)):
        app = EasyChatApp(
            ClientSettings(
                nick="John", server=f"127.0.0.1:{server.port}", log_dir=tmp_path, joins=setting
            )
        )
        async with app.run_test(size=SIZE) as pilot:
            screen = await log_in(pilot, app)
            lobby = screen.conversations.current
            peer = peers(f"Roe{setting}")
            await peer.register()
            await peer.send("PRIVMSG #lobby :marker")
            await wait_for(pilot, lambda c=lobby: has_text(c, "marker"), what="the marker line")
            assert has_text(lobby, f"Roe{setting} joined") is shown
            await pilot.click("#leave")
            await wait_for(pilot, lambda a=app: isinstance(a.screen, LoginScreen))


async def test_private_message_rings_and_marks(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 18: a private message marks its conversation like a mention and rings the bell."""
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        bells: list[None] = []
        original = app.bell

        def bell() -> None:
            bells.append(None)
            original()

        app.bell = bell  # type: ignore[method-assign]
        doe = peers("Doe")
        await doe.register()
        await doe.send("PRIVMSG John :psst")
        await wait_for(pilot, lambda: screen.conversations.get("Doe") is not None, what="chat")
        private = screen.conversations.get("Doe")
        assert private is not None
        await wait_for(pilot, lambda: private.mentioned, what="the mark")
        assert bells == [None]
        assert "Doe 1 @" in list_entries(screen, "#conversations")


async def test_connection_notices_reach_every_conversation(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 20: disconnected / reconnected lines go to each room, chat and the server window."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await send_text(pilot, "/msg Doe hi")
        await doe.privmsg("Doe", "hi")
        await send_text(pilot, "/join #room")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#room")
        drop_connection(app)
        every = [lobby, screen.conversations.current, screen.conversations.server]
        private = screen.conversations.get("Doe")
        assert private is not None
        every.append(private)
        await wait_for(
            pilot,
            lambda: all(has_text(conv, "Reconnected") for conv in every),
            timeout=RECONNECT,
            what="the notices everywhere",
        )
        assert all(has_text(conv, "Disconnected") for conv in every)
        assert lobby.unread == 0
        assert screen.conversations.server.unread == 0  # the reconnect burst is not unread


async def test_away_members_are_marked(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 23: someone away shows as away in the member list (from WHO on joining)."""
    doe = peers("Doe")
    await doe.register()
    await doe.send("AWAY :lunch")
    await doe.expect("306")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await wait_for(
            pilot, lambda: "@Doe (away)" in list_entries(screen, "#members"), what="the mark"
        )
        assert not any("WHO" in line.text for line in screen.conversations.current.lines)
        assert "John" in list_entries(screen, "#members")
        await send_text(pilot, "/away brb")
        await wait_for(
            pilot, lambda: "John (away)" in list_entries(screen, "#members"), what="our mark"
        )


async def test_lag_is_shown_in_the_title(server: RunningServer, tmp_path: Path) -> None:
    """Item 23: the app PINGs the server now and then and shows "lag 0.00 s" in the title."""
    app = make_app(server.port, tmp_path)
    app.lag_interval = 0.2
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        title = screen.query_one("#topic", Static)
        await wait_for(
            pilot,
            lambda: re.search(r"lag \d+\.\d\d s$", str(title.render())) is not None,
            what="the lag in the title",
        )
        assert str(title.render()).startswith("#lobby")


async def test_reconnect_under_another_nick_says_so(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Item 15: a reconnect that gets `John_` (John taken meanwhile) announces the new nick."""
    first = make_server()
    port = first.port
    app = make_app(port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await asyncio.to_thread(first.stop)
        await wait_for(pilot, lambda: not lobby.active, what="the drop")
        make_server(port=port)
        holder = Peer(port, "John")
        try:
            await holder.register()
            await wait_for(pilot, lambda: reconnected(screen), timeout=RECONNECT, what="reconnect")
            assert screen.nick == "John_"
            assert has_text(lobby, "You are now known as John_")
            assert has_text(screen.conversations.server, "You are now known as John_")
        finally:
            holder.close()


async def test_retries_are_told_once_in_conversations(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Item 20: the drop is told in every conversation; each further retry in the server window."""
    first = make_server()
    app = make_app(first.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await asyncio.to_thread(first.stop)
        server_window = screen.conversations.server
        await wait_for(
            pilot, lambda: has_text(server_window, "retrying"), timeout=RECONNECT, what="a retry"
        )
        assert has_text(lobby, "Disconnected")
        assert not has_text(lobby, "retrying")


async def test_a_parted_autojoined_room_stays_parted(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Item 16: #lobby, parted, is parted again when the server autojoins it on a reconnect."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/join #stay")
        await wait_for(pilot, lambda: app.session.room("#stay") is not None, what="#stay")
        await send_text(pilot, "/part #lobby")
        await wait_for(pilot, lambda: app.session.room("#lobby") is None, what="the part")
        drop_connection(app)
        await wait_for(pilot, lambda: reconnected(screen), timeout=RECONNECT, what="reconnect")
        await wait_for(pilot, lambda: app.session.room("#stay") is not None, what="#stay again")
        await doe.send("NAMES #lobby")
        await doe.expect("366")  # by now the server has handled the client's PART too
        await wait_for(pilot, lambda: app.session.room("#lobby") is None, what="#lobby parted")
        lobby = screen.conversations.get("#lobby")
        assert lobby is not None
        assert lobby.left
        # Asking for it again works.
        await send_text(pilot, "/join #lobby")
        await wait_for(pilot, lambda: app.session.room("#lobby") is not None, what="rejoined")

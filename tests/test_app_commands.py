"""App tests of the commands irssi and weechat users expect, against a real loopback server.

Each test drives the real app with Pilot and checks what a raw IRC peer
(tests/ircclient.py) receives, or what the app shows of what the peer sent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from easychat.client.events import LineKind
from easychat.client.session.ctcp import CLIENT_VERSION
from easychat.store.ignores import ignores_path, load_ignores
from easychat.tui.intents import palette_commands
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.rooms import RoomsScreen
from tests.apphelpers import (
    SIZE,
    Peer,
    field,
    has_text,
    log_in,
    log_text,
    make_app,
    send_text,
    wait_for,
)
from tests.ircclient import RunningServer


def last_text(screen: ChatScreen) -> str:
    return screen.conversations.current.lines[-1].text


async def join_room_with(pilot: Pilot[None], screen: ChatScreen, doe: Peer) -> None:
    """John creates #ops (so he is its operator) and Doe joins it."""
    await send_text(pilot, "/join #ops")
    await wait_for(pilot, lambda: screen.conversations.current.name == "#ops")
    await doe.send("JOIN #ops")
    await doe.expect("366")
    await wait_for(pilot, lambda: any(m.nick == "Doe" for m in screen.members.get("#ops", [])))


async def test_operator_commands_reach_the_peer(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """/mode, /invite, /ban, /kick go out as MODE, INVITE, MODE +b and KICK in the room."""
    doe, roe = peers("Doe"), peers("Roe")
    await doe.register()
    await roe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await join_room_with(pilot, screen, doe)

        await send_text(pilot, "/mode +v Doe")
        mode = await doe.expect("MODE")
        assert mode.params == ("#ops", "+v", "Doe")
        assert (mode.source or "").startswith("John!")

        await send_text(pilot, "/invite Roe")
        invite = await roe.expect("INVITE")
        assert invite.params == ("Roe", "#ops")

        # Doe's user@host is known from the JOIN: the ban is by address.
        await send_text(pilot, "/ban Doe")
        ban = await doe.expect("MODE", lambda m: "+b" in m.params)
        assert ban.params == ("#ops", "+b", "*!doe@127.0.0.1")
        await send_text(pilot, "/ban Nobody")
        unknown = await doe.expect("MODE", lambda m: "+b" in m.params)
        assert unknown.params == ("#ops", "+b", "Nobody!*@*")

        await send_text(pilot, "/kick Doe  enough for today")
        kick = await doe.expect("KICK")
        assert kick.params == ("#ops", "Doe", "enough for today")
        await wait_for(pilot, lambda: not any(m.nick == "Doe" for m in screen.members["#ops"]))


async def test_notice_quote_and_ctcp(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """/notice and /quote reach the peer; our VERSION is answered, theirs shown in words."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/notice Doe heads up")
        notice = await doe.expect("NOTICE", lambda m: m.params[0] == "Doe")
        assert notice.params == ("Doe", "heads up")

        await send_text(pilot, "/quote PRIVMSG Doe :as  typed ")
        raw = await doe.expect("PRIVMSG", lambda m: m.params[0] == "Doe")
        assert raw.params == ("Doe", "as  typed ")
        await send_text(pilot, "/quote PRIVMSG Doe :one\nQUIT :two")
        assert screen.conversations.current.lines[-1].kind is LineKind.ERROR

        # The peer asks for our version and pings us: both answered by NOTICE.
        await doe.send("PRIVMSG John :\x01VERSION\x01")
        version = await doe.expect("NOTICE", lambda m: m.params[-1].startswith("\x01VERSION"))
        assert version.params == ("Doe", f"\x01VERSION {CLIENT_VERSION}\x01")
        await doe.send("PRIVMSG John :\x01PING 12345 678\x01")
        ping = await doe.expect("NOTICE", lambda m: m.params[-1].startswith("\x01PING"))
        assert ping.params == ("Doe", "\x01PING 12345 678\x01")

        # We ask the peer; its reply is shown in words.
        await send_text(pilot, "/ctcp Doe version")
        request = await doe.expect("PRIVMSG", lambda m: m.params[-1].startswith("\x01"))
        assert request.params == ("Doe", "\x01VERSION\x01")
        await doe.send("NOTICE John :\x01VERSION irssi v1.4.5\x01")
        lobby = screen.conversations.current
        await wait_for(pilot, lambda: has_text(lobby, "VERSION reply from Doe: irssi v1.4.5"))
        await send_text(pilot, "/ctcp Doe PING")
        ping_request = await doe.expect("PRIVMSG", lambda m: m.params[-1].startswith("\x01PING"))
        await doe.send(f"NOTICE John :{ping_request.params[-1]}")
        await wait_for(pilot, lambda: has_text(lobby, "PING reply from Doe: "))
        reply = next(line.text for line in lobby.lines if "PING reply" in line.text)
        assert reply.endswith(" s")


async def test_list_screen_filters_and_enter_joins(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """/list shows the rooms with users and topic; typing filters; Enter joins; Escape closes."""
    doe = peers("Doe")
    await doe.register()
    for room in ("#rust", "#python"):
        await doe.send(f"JOIN {room}")
        await doe.expect("366")
    await doe.send("TOPIC #python :[bold]snakes[/bold] \x02and more")
    await doe.expect("TOPIC")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/list")
        await wait_for(pilot, lambda: isinstance(app.screen, RoomsScreen), what="the rooms screen")
        rooms = app.screen
        assert isinstance(rooms, RoomsScreen)
        await wait_for(pilot, lambda: rooms.rooms is not None, what="the LIST answer")
        table = rooms.query_one("#rooms-table", DataTable)
        names = {room.name for room in rooms.shown}
        assert names >= {"#lobby", "#rust", "#python"}
        python = next(room for room in rooms.shown if room.name == "#python")
        assert (python.users, python.topic) == (1, "[bold]snakes[/bold] \x02and more")
        cells = [str(cell) for cell in table.get_row_at(rooms.shown.index(python))]
        assert cells == ["#python", "1", "[bold]snakes[/bold] and more"]  # no markup, no codes

        # Up/Down move the highlight from the filter field.
        assert table.cursor_row == 0
        await pilot.press("down")
        assert table.cursor_row == 1
        await pilot.press("up", "up")
        assert table.cursor_row == 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to the chat")
        assert screen.conversations.current.name == "#lobby"  # nothing joined

        await send_text(pilot, "/list")
        await wait_for(pilot, lambda: isinstance(app.screen, RoomsScreen))
        rooms = app.screen
        assert isinstance(rooms, RoomsScreen)
        await wait_for(pilot, lambda: rooms.rooms is not None)
        await pilot.press(*"rus")
        await wait_for(pilot, lambda: [r.name for r in rooms.shown] == ["#rust"])
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        joined = await doe.expect("JOIN", lambda m: m.params[0] == "#rust")
        assert (joined.source or "").startswith("John!")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#rust")

        # Tab completes commands and rooms (open ones and those /list showed).
        message = field(app, "#message")
        message.focus()
        await pilot.press(*"/kic", "tab")
        assert message.value == "/kick "
        message.value = ""
        await pilot.press(*"/join #py", "tab")
        assert message.value == "/join #python "
        message.value = ""
        await pilot.press(*"#lo", "tab")
        assert message.value == "#lobby "


async def test_ignore_hides_a_peer_and_survives_a_restart(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """/ignore hides a peer's room and private messages (not unread); it is saved, 0600."""
    doe, roe = peers("Doe"), peers("Roe")
    await doe.register()
    await roe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await send_text(pilot, "/ignore doe")
        assert "Ignoring doe!*@*" in last_text(screen)
        await send_text(pilot, "/join #side")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#side")
        await doe.send("PRIVMSG #lobby :you cannot see me")
        await doe.send("PRIVMSG John :nor this")
        await roe.send("PRIVMSG #lobby :marker")
        await wait_for(pilot, lambda: has_text(lobby, "marker"))
        assert not has_text(lobby, "cannot see me")
        assert lobby.unread == 1  # Roe's marker only
        assert screen.conversations.get("Doe") is None
        await send_text(pilot, "/ignore")
        assert last_text(screen) == "Ignored: doe!*@*"
    saved = ignores_path(tmp_path)
    assert load_ignores(saved) == ["doe!*@*"]
    assert saved.stat().st_mode & 0o077 == 0

    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await doe.send("PRIVMSG #lobby :still hidden")
        await roe.send("PRIVMSG #lobby :marker two")
        await wait_for(pilot, lambda: has_text(lobby, "marker two"))
        assert not has_text(lobby, "still hidden")
        await send_text(pilot, "/unignore Doe")
        assert last_text(screen) == "No longer ignoring Doe!*@*."
        await doe.send("PRIVMSG #lobby :visible again")
        await wait_for(pilot, lambda: has_text(lobby, "visible again"))
    assert load_ignores(saved) == []


async def test_close_parts_the_room_and_clear_empties_the_view(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """/clear empties the log view; /close parts a room and forgets it, closes a private chat."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await join_room_with(pilot, screen, doe)
        await send_text(pilot, "hello")
        await doe.privmsg("#ops", "hello")
        await wait_for(pilot, lambda: any("hello" in text for text in log_text(screen)))
        await send_text(pilot, "/clear")
        assert not screen.conversations.current.lines
        assert not any("hello" in text for text in log_text(screen))

        await send_text(pilot, "/close")
        part = await doe.expect("PART")
        assert part.params[0] == "#ops"
        assert (part.source or "").startswith("John!")
        assert screen.conversations.get("#ops") is None
        assert screen.conversations.current.name != "#ops"
        await send_text(pilot, "/msg Doe hi")
        await doe.privmsg("Doe", "hi")
        assert screen.conversations.current.name == "Doe"
        await send_text(pilot, "/close")  # a private conversation: closed, nothing sent
        assert screen.conversations.get("Doe") is None
        while screen.conversations.current is not screen.conversations.server:
            await pilot.press("ctrl+n")
        await send_text(pilot, "/close")
        assert screen.conversations.current.lines[-1].kind is LineKind.ERROR


async def test_help_and_palette_list_the_new_commands(
    server: RunningServer, tmp_path: Path
) -> None:
    """/help and the command palette (F1) list every new command."""
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/help")
        shown = " ".join(line.text for line in screen.conversations.current.lines)
        entries = [command.title for command in palette_commands(app, screen)]
        for name in ("list", "mode", "kick", "ban", "invite", "notice", "quote", "ignore"):
            assert f"/{name}" in shown
            assert any(title.startswith(f"/{name}") for title in entries)
        for name in ("unignore", "close", "clear", "ctcp"):
            assert f"/{name}" in shown
            assert any(title.startswith(f"/{name}") for title in entries)
        assert "Browse rooms" in entries
        assert isinstance(field(app, "#message"), Input)

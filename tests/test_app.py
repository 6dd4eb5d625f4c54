"""App tests: the Textual client driven with Pilot against a real server on a loopback port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import events
from textual.widgets import OptionList, Static

from easychat.client.conversations import ConversationKind
from easychat.client.events import LineKind
from easychat.tui.render import render_line
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.login import LoginScreen
from tests.apphelpers import (
    SIZE,
    WAIT,
    Peer,
    button,
    chat_screen,
    field,
    has_text,
    in_lobby,
    list_entries,
    log_in,
    log_text,
    login_error,
    make_app,
    send_text,
    texts,
    wait_for,
)
from tests.ircclient import RunningServer

WELCOME = "Welcome to Easy Chat! You are customer number 1"


async def test_login_opens_chat_with_welcome_first(server: RunningServer, tmp_path: Path) -> None:
    """Typing the fields and pressing Enter opens the chat screen; the welcome leads #lobby."""
    app = make_app(server.port, tmp_path, nick="")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#nick")
        await pilot.press(*"John")
        server_field = field(app, "#server")
        server_field.value = ""
        await pilot.click("#server")
        await pilot.press(*f"127.0.0.1:{server.port}", "enter")
        screen = await in_lobby(pilot, app)
        lobby = screen.conversations.current
        assert lobby.name == "#lobby"
        assert texts(lobby)[0] == WELCOME
        assert app.sub_title == "John"
        await wait_for(pilot, lambda: any(WELCOME in text for text in log_text(screen)))


async def test_send_with_enter_and_button(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Enter and Send both send; the other client receives it; the log marks it as ours."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "Hello Doe", via="enter")
        msg = await doe.privmsg("#lobby", "Hello Doe")
        assert msg.params == ("#lobby", "Hello Doe")
        assert (msg.source or "").startswith("John!")
        assert field(app, "#message").value == ""
        await send_text(pilot, "Fine. Let's go to San Francisco", via="send")
        msg = await doe.privmsg("#lobby", "San Francisco")
        assert msg.params[1] == "Fine. Let's go to San Francisco"
        lobby = screen.conversations.current
        own = [line for line in lobby.lines if line.kind is LineKind.MESSAGE]
        assert [(line.text, line.own, line.sender) for line in own] == [
            ("Hello Doe", True, "John"),
            ("Fine. Let's go to San Francisco", True, "John"),
        ]
        shown = log_text(screen)
        assert any("▶ <John> Hello Doe" in text for text in shown)


async def test_receive_message_and_mention(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Another client's message shows in #lobby; one naming us is a mention and rings the bell."""
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        doe = peers("Doe")
        await doe.register()
        lobby = screen.conversations.current
        # (Doe never spoke, so the smart filter hides the join line.)
        await wait_for(pilot, lambda: "Doe" in {m.nick for m in screen.members["#lobby"]})
        bells: list[None] = []
        original_bell = app.bell

        def bell() -> None:
            bells.append(None)
            original_bell()

        app.bell = bell  # type: ignore[method-assign]
        await doe.send("PRIVMSG #lobby :Hi everyone")
        await doe.send("PRIVMSG #lobby :john: are you there?")
        await wait_for(pilot, lambda: has_text(lobby, "are you there"))
        messages = [line for line in lobby.lines if line.kind is LineKind.MESSAGE]
        assert [(m.sender, m.text, m.own, m.mention) for m in messages] == [
            ("Doe", "Hi everyone", False, False),
            ("Doe", "john: are you there?", False, True),
        ]
        assert bells == [None]
        assert any("<Doe> Hi everyone" in text for text in log_text(screen))


def dimmed(screen: ChatScreen) -> list[str]:
    """The side list's entries shown dim (rooms we are not in)."""
    side = screen.query_one("#conversations", OptionList)
    prompts = [side.get_option_at_index(i).prompt for i in range(side.option_count)]
    return [
        prompt.plain
        for prompt in prompts
        if isinstance(prompt, Text) and any(span.style == "dim" for span in prompt.spans)
    ]


async def test_rooms_join_switch_and_unread(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """/join switches to the room, whose messages reach members only; Ctrl+N/P; unread counts."""
    doe, roe = peers("Doe"), peers("Roe")
    await doe.register()
    await roe.register()
    await doe.send("JOIN #room")
    await doe.expect("366")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await send_text(pilot, "/join #room")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#room")
        room = screen.conversations.current
        await wait_for(pilot, lambda: {m.nick for m in screen.members.get("#room", [])} >= {"Doe"})
        assert list_entries(screen, "#conversations")[:2] == ["#lobby", "#room"]
        assert str(screen.query_one("#topic", Static).render()) == "#room"

        await send_text(pilot, "only for the room")
        await doe.privmsg("#room", "only for the room")
        await send_text(pilot, "/msg #lobby for everyone")
        # Roe is not in #room: the first thing Roe hears from John is in #lobby.
        msg = await roe.expect("PRIVMSG")
        assert msg.params == ("#lobby", "for everyone")
        assert screen.conversations.current is lobby  # /msg #room opens that room

        await pilot.press("ctrl+n")
        assert screen.conversations.current is room
        await pilot.press("ctrl+p")
        assert screen.conversations.current is lobby
        await pilot.press("ctrl+n")
        assert screen.conversations.current is room
        await doe.send("PRIVMSG #lobby :one")
        await doe.send("PRIVMSG #lobby :two")
        await wait_for(pilot, lambda: lobby.unread == 2, what="two unread in #lobby")
        assert room.unread == 0
        assert list_entries(screen, "#conversations")[0] == "#lobby 2"
        await doe.send("PRIVMSG #lobby :John, look")
        await wait_for(pilot, lambda: lobby.mentioned, what="the mention in #lobby")
        assert list_entries(screen, "#conversations")[0] == "#lobby 3 @"
        await pilot.press("ctrl+p")
        assert screen.conversations.current is lobby
        assert lobby.unread == 0
        assert list_entries(screen, "#conversations")[0] == "#lobby"
        assert any("<Doe> two" in text for text in log_text(screen))


async def test_private_conversations(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """/msg opens a conversation with the nick; an incoming private message opens one too."""
    doe, roe = peers("Doe"), peers("Roe")
    await doe.register()
    await roe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/msg Doe hi")
        msg = await doe.privmsg("Doe", "hi")
        assert msg.params == ("Doe", "hi")
        private = screen.conversations.current
        assert (private.name, private.kind) == ("Doe", ConversationKind.PRIVATE)
        assert [(line.text, line.own) for line in private.lines] == [("hi", True)]
        assert not screen.query_one("#members").display

        await roe.send("PRIVMSG John :psst, John")
        await wait_for(pilot, lambda: screen.conversations.get("Roe") is not None)
        from_roe = screen.conversations.get("Roe")
        assert from_roe is not None
        assert from_roe.kind is ConversationKind.PRIVATE
        await wait_for(pilot, lambda: from_roe.unread == 1)
        assert screen.conversations.current is private  # not stolen by the incoming message
        assert [(line.sender, line.text) for line in from_roe.lines] == [("Roe", "psst, John")]
        assert [conv.name for conv in screen.conversations.ordered()][:3] == [
            "#lobby",
            "Doe",
            "Roe",
        ]

        await doe.send("PRIVMSG John :hello back")
        await wait_for(pilot, lambda: has_text(private, "hello back"))
        assert any("<Doe> hello back" in text for text in log_text(screen))


async def test_leave_returns_to_login_and_quits(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Leave sends QUIT (others see it) and shows the login screen with the fields kept."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, app)
        await doe.expect("JOIN", lambda m: (m.source or "").startswith("John!"))
        await pilot.click("#leave")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        assert field(app, "#nick").value == "John"
        assert field(app, "#server").value == f"127.0.0.1:{server.port}"
        assert not button(app, "#login").disabled
        quit_msg = await doe.expect("QUIT")
        assert (quit_msg.source or "").startswith("John!")
        await pilot.pause(0.1)
        assert app.session is None
        assert app.connection is None
        assert isinstance(app.screen, LoginScreen)

        # Logging in again works, and the welcome counts the new connection.
        await pilot.click("#login")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
        screen = chat_screen(app)
        await wait_for(pilot, lambda: screen.conversations.get("#lobby") is not None)
        lobby = screen.conversations.get("#lobby")
        assert lobby is not None
        assert texts(lobby)[0] == "Welcome to Easy Chat! You are customer number 3"


async def test_nick_in_use_then_retry(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """A nick held by someone else is explained on the login screen; another nick works."""
    holder = peers("John")
    await holder.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: "already in use" in login_error(app), what="the 433 reason")
        assert isinstance(app.screen, LoginScreen)
        assert "John" in login_error(app)
        login = button(app, "#login")
        assert not login.disabled
        assert str(login.label) == "Login"
        field(app, "#nick").value = "Johnny"
        # A button ignores clicks while it still shows the previous press.
        await wait_for(pilot, lambda: not login.has_class("-active"), what="the button to settle")
        await pilot.click("#login")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
        screen = chat_screen(app)
        assert screen.nick == "Johnny"
        await wait_for(pilot, lambda: screen.conversations.get("#lobby") is not None)


async def test_connection_refused(tmp_path: Path) -> None:
    """Nothing listening: the login screen says the connection was refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#login")
        await wait_for(pilot, lambda: "refused" in login_error(app), what="the refusal")
        assert login_error(app) == f"Connection refused by 127.0.0.1:{port}: is the server running?"
        assert isinstance(app.screen, LoginScreen)
        assert not button(app, "#login").disabled


async def test_invalid_login_fields(tmp_path: Path) -> None:
    """Bad fields are explained inline and nothing connects."""
    app = make_app(1, tmp_path, nick="")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert login_error(app) == "Enter a nickname"
        field(app, "#nick").value = "9lives"
        await pilot.press("enter")
        assert login_error(app).startswith("A nickname starts with a letter")
        field(app, "#nick").value = "John"
        field(app, "#server").value = "127.0.0.1:99999"
        await pilot.press("enter")
        assert login_error(app) == "The port must be a number from 1 to 65535, not '99999'"
        assert app.connection is None
        assert isinstance(app.screen, LoginScreen)


async def test_reconnect_after_server_restart(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """The chat screen shows the drop, reconnects to the restarted server and rejoins rooms."""
    first = make_server()
    port = first.port
    app = make_app(port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        lobby = screen.conversations.current
        await send_text(pilot, "/join #room")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#room")
        room = screen.conversations.current
        await asyncio.to_thread(first.stop)
        banner = screen.query_one("#banner", Static)
        await wait_for(pilot, lambda: "Reconnecting" in str(banner.render()), what="the banner")
        assert banner.has_class("visible")
        assert has_text(room, "Disconnected")
        assert any(line.kind is LineKind.ERROR for line in room.lines)
        assert not room.active
        assert dimmed(screen) == ["#lobby", "#room"]

        second = make_server(port=port)
        await wait_for(pilot, lambda: has_text(room, "Reconnected"), timeout=8.0)
        await wait_for(pilot, lambda: room.active and lobby.active, what="rooms rejoined")
        await wait_for(pilot, lambda: not banner.has_class("visible"), what="the banner to hide")
        assert dimmed(screen) == []
        rejoined = second.client()
        try:
            await asyncio.to_thread(rejoined.register, "Doe")
            rejoined.send("NAMES #room")
            names = await asyncio.to_thread(rejoined.expect, "353")
            assert "@John" in names.params[-1].split()
        finally:
            rejoined.close()
        await send_text(pilot, "back again")
        await wait_for(pilot, lambda: has_text(room, "back again"))
        assert not any(line.text.startswith("Not connected") for line in room.lines)


async def test_leave_while_reconnecting_stops_retrying(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Leave during the backoff returns to the login screen and stops the retries."""
    first = make_server()
    app = make_app(first.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await asyncio.to_thread(first.stop)
        banner = screen.query_one("#banner", Static)
        await wait_for(pilot, lambda: "Reconnecting" in str(banner.render()), what="the banner")
        await pilot.click("#leave")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        await wait_for(
            pilot,
            lambda: not any(w.is_running for w in app.workers if w.group == "network"),
            what="the network worker to stop",
        )
        assert not button(app, "#login").disabled
        assert login_error(app) == ""


async def test_local_log_shows_earlier_messages(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """A second run with the same log directory shows the first run's messages above."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "remember this")
        await doe.privmsg("#lobby", "remember this")
        await doe.send("PRIVMSG #lobby :and this too")
        await wait_for(pilot, lambda: has_text(screen.conversations.current, "and this too"))
        await pilot.click("#leave")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))

    again = make_app(server.port, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, again)
        lobby = screen.conversations.current
        earlier = [(line.sender, line.text, line.own) for line in lobby.history]
        assert ("John", "remember this", True) in earlier
        assert ("Doe", "and this too", False) in earlier
        assert not has_text(lobby, "remember this")  # history, not new lines
        shown = log_text(screen)
        separator = next(i for i, text in enumerate(shown) if "earlier messages" in text)
        assert any("remember this" in text for text in shown[:separator])
        assert any(WELCOME[:-1] in text for text in shown[separator:])


async def test_chat_text_is_not_markup(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """`[bold]x[/bold]` from another user shows as those characters."""
    doe = peers("Doe")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await doe.register()
        await doe.send("PRIVMSG #lobby :[bold]x[/bold] and [red]y")
        lobby = screen.conversations.current
        await wait_for(pilot, lambda: has_text(lobby, "[bold]"))
        line = lobby.lines[-1]
        assert line.text == "[bold]x[/bold] and [red]y"
        assert render_line(line, timestamps=False).plain == "<Doe> [bold]x[/bold] and [red]y"
        assert any("<Doe> [bold]x[/bold] and [red]y" in text for text in log_text(screen))


async def test_history_completion_and_unknown_command(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Up recalls the last input; Tab completes a member; /unknown explains and sends nothing."""
    doe = peers("Doe")
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await doe.register()
        await wait_for(pilot, lambda: any(m.nick == "Doe" for m in screen.members["#lobby"]))
        message = field(app, "#message")
        await send_text(pilot, "first")
        await send_text(pilot, "second")
        await pilot.press("up")
        assert message.value == "second"
        await pilot.press("up")
        assert message.value == "first"
        await pilot.press("down", "down")
        assert message.value == ""

        await pilot.press(*"Do", "tab")
        assert message.value == "Doe: "
        await pilot.press(*"hi", "enter")
        assert (await doe.privmsg("#lobby", "Doe:")).params[1] == "Doe: hi"

        await send_text(pilot, "/frobnicate now")
        lobby = screen.conversations.current
        assert lobby.lines[-1].kind is LineKind.ERROR
        assert lobby.lines[-1].text == "Unknown command /frobnicate. Type /help for the list."
        await send_text(pilot, "marker")
        msg = await doe.expect("PRIVMSG")
        assert msg.params == ("#lobby", "marker")  # nothing was sent in between


async def test_long_paste_is_split_in_order(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """A pasted text of several lines and a 1,500-character line arrives whole, in order."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    long_line = " ".join(f"word{i:04}" for i in range(167))[:1500]
    assert len(long_line) == 1500
    pasted = f"first line\nsecond line\nthird line\n{long_line}"
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        message = field(app, "#message")
        message.focus()
        message.value = "Look: "
        message.cursor_position = len(message.value)
        message.post_message(events.Paste(pasted))
        await pilot.pause()
        received = await doe.raw_privmsgs("#lobby", 3)
        texts_seen = [msg.params[1] for _, msg in received]
        assert texts_seen == ["Look: first line", "second line", "third line"]
        pieces: list[str] = []
        while " ".join(pieces) != long_line:
            assert len(" ".join(pieces)) < len(long_line), "more text arrived than was pasted"
            ((raw, msg),) = await doe.raw_privmsgs("#lobby", 1)
            assert len(raw) <= 512, f"{len(raw)}-byte line"
            pieces.append(msg.params[1])
        assert len(pieces) >= 3
        assert all(len(raw) <= 512 for raw, _ in received)
        assert message.value == ""
        own = [line.text for line in screen.conversations.current.lines if line.own]
        assert own == ["Look: first line", "second line", "third line", *pieces]


async def test_second_enter_while_connecting_is_ignored(tmp_path: Path) -> None:
    """Enter pressed again while the server is silent keeps the one attempt; quitting closes it."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        app = make_app(silent.getsockname()[1], tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.connection is not None, what="the connection")
            first = app.connection
            [worker] = [w for w in app.workers if w.group == "network"]
            await pilot.press("enter")
            assert worker.is_running
            assert app.connection is first
            assert button(app, "#login").disabled
            peer, _ = await asyncio.to_thread(silent.accept)
        # The app has exited while connecting: its socket must not outlive it.
        with peer:
            peer.settimeout(WAIT)
            received = b""
            while chunk := await asyncio.to_thread(peer.recv, 4096):
                received += chunk
        assert b"NICK John\r\n" in received


async def test_private_conversation_follows_a_nick_change(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """When Doe becomes Dee, the conversation with Doe is renamed, not duplicated."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/msg Doe hello")
        await doe.privmsg("Doe", "hello")
        private = screen.conversations.current
        await doe.send("NICK Dee")
        await wait_for(pilot, lambda: private.name == "Dee", what="the renamed conversation")
        assert screen.conversations.get("Doe") is None
        await doe.send("PRIVMSG John :still me")
        await wait_for(pilot, lambda: has_text(private, "still me"), what="Dee's message")
        assert [c.name for c in screen.conversations.ordered()].count("Dee") == 1


async def test_ctrl_q_says_goodbye(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """Quitting the app with Ctrl+Q sends QUIT, so others see a quit, not a dropped line."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, app)
        await doe.expect("JOIN", lambda m: (m.source or "").startswith("John!"))
        await pilot.press("ctrl+q")
    quit_msg = await doe.expect("QUIT")
    assert (quit_msg.source or "").startswith("John!")
    assert quit_msg.params[0] == "Quit: Leaving"


async def test_rate_limit_wait_shows_in_the_input_bar(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    """Over the server's flood limit, the input bar says how long until the next line."""
    from easychat.chat.config import CoreConfig
    from easychat.tui.widgets.input import ChatInput

    server = make_server(CoreConfig(flood_burst=1, flood_rate=0.5, flood_paste=1))
    app = make_app(server.port, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        field = screen.query_one("#message", ChatInput)
        for text in ("one", "two", "three"):
            await send_text(pilot, text)
        await wait_for(
            pilot,
            lambda: "next line in" in str(field.border_subtitle),
            what="the wait in the input bar",
        )
        lobby = screen.conversations.current
        assert any(line.kind is LineKind.ERROR and "too fast" in line.text for line in lobby.lines)

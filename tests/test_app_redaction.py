"""App tests of message redaction (IRCv3 draft/message-redaction) against real servers.

Spec: https://ircv3.net/specs/extensions/message-redaction. The app runs
under `App.run_test()` against our server (which offers the capability with
its history) and against ngircd (which does not); peers are raw IRC clients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from easychat.client.conversations import Conversation
from easychat.client.events import Line, LineKind
from easychat.store.clientlog import ClientLog, log_path
from easychat.store.history import SQLiteHistory
from easychat.tui.app import ClientSettings, EasyChatApp
from easychat.tui.screens.chat import ChatScreen
from tests.apphelpers import SIZE, Peer, log_in, log_text, make_app, send_text, wait_for
from tests.ircclient import RunningServer
from tests.ngircd import ngircd

__all__ = ["ngircd"]  # the fixture, imported so pytest sees it here

PEER_CAPS = "message-tags echo-message draft/message-redaction"


@pytest.fixture
def history_server(make_server: Callable[..., RunningServer], tmp_path: Path) -> Iterator[int]:
    """A server keeping history (so it offers draft/message-redaction); yields its port."""
    store = SQLiteHistory(tmp_path / "history.sqlite3")
    server = make_server(history=store)
    yield server.port
    server.stop()
    store.close()


@pytest.fixture
def peers(history_server: int) -> Iterator[Callable[[str], Peer]]:
    """Other people with the redaction capability; closed after the test."""
    opened: list[Peer] = []

    def open_peer(nick: str) -> Peer:
        peer = Peer(history_server, nick)
        peer.client.send(f"CAP REQ :{PEER_CAPS}")
        peer.client.send("CAP END")
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        peer.close()


def said(conv: Conversation, text: str) -> Line | None:
    """The line of `conv` with this text that the server gave a msgid, if any."""
    return next((line for line in conv.lines if line.text == text and line.msgid), None)


def deleted(conv: Conversation, msgid: str) -> Line | None:
    """The line of `conv` with this msgid, if it shows as deleted."""
    found = [line for line in conv.lines if line.msgid == msgid]
    return found[0] if found and found[0].kind is LineKind.DELETED else None


async def own_line(pilot: Pilot[None], screen: ChatScreen, text: str) -> Line:
    """Sends `text` in the current conversation; returns its echoed line (with its msgid)."""
    await send_text(pilot, text)
    conv = screen.conversations.current
    await wait_for(pilot, lambda: said(conv, text) is not None, what=f"the echo of {text!r}")
    line = said(conv, text)
    assert line is not None
    return line


async def test_redact_deletes_own_last_message_also_in_the_local_log(
    history_server: int, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """ "To redact a message, a client MUST negotiate the draft/message-redaction
    capability and send a REDACT command to a target nickname or channel":
    /redact deletes our last message here; its line says "message deleted"
    (sender and time kept), in the local log too, so a restart shows it so."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(history_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        assert app.session is not None
        assert app.session.can_redact
        lobby = screen.conversations.current
        keep = await own_line(pilot, screen, "this one stays")
        typo = await own_line(pilot, screen, "hello, a tpyo")
        await doe.expect("PRIVMSG", lambda m: m.tags.get("msgid") == typo.msgid)

        await send_text(pilot, "/redact")
        got = await doe.expect("REDACT")
        assert got.params == ("#lobby", typo.msgid)
        assert got.nick == "John"
        assert typo.msgid is not None
        await wait_for(pilot, lambda: deleted(lobby, typo.msgid or "") is not None)
        line = deleted(lobby, typo.msgid)
        assert line is not None
        assert (line.sender, line.time, line.text) == ("John", typo.time, "message deleted")
        assert said(lobby, "this one stays") == keep
        rows = "\n".join(log_text(screen))
        assert "<John> message deleted" in rows
        assert "tpyo" not in rows

        # /redact again: the last message not yet deleted goes next.
        await send_text(pilot, "/delete")
        assert (await doe.expect("REDACT")).params == ("#lobby", keep.msgid)

    with ClientLog(log_path(tmp_path, "127.0.0.1", history_server)) as log:
        entries = {entry.msgid: entry for entry in log.recent("#lobby")}
    assert (entries[typo.msgid].kind, entries[typo.msgid].text) == ("deleted", "message deleted")
    assert all("tpyo" not in entry.text for entry in entries.values())

    again = make_app(history_server, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, again)
        shown = screen.conversations.current.history
        restored = [line for line in shown if line.msgid == typo.msgid]
        assert [(line.kind, line.text) for line in restored] == [
            (LineKind.DELETED, "message deleted")
        ]


async def test_operator_deletes_someone_elses_and_peers_deletions_show(
    history_server: int, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """ "Allowing channel moderators or server admins to delete unwelcome messages
    from others": as the room's operator, /redact nick deletes nick's last
    message; a REDACT from someone else turns their line into "message deleted"."""
    doe = peers("Doe")
    await doe.register()
    app = make_app(history_server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await log_in(pilot, app)
        await send_text(pilot, "/join #ops")  # John creates it: he is its operator
        await wait_for(pilot, lambda: screen.conversations.current.name == "#ops")
        ops = screen.conversations.current
        await doe.send("JOIN #ops")
        await doe.expect("366")
        await doe.send("PRIVMSG #ops :join my network for cold hard chats")
        await wait_for(pilot, lambda: said(ops, "join my network for cold hard chats"))
        spam = said(ops, "join my network for cold hard chats")
        assert spam is not None
        assert spam.msgid is not None

        await send_text(pilot, "/redact Doe spam")
        got = await doe.expect("REDACT")
        assert got.params == ("#ops", spam.msgid, "spam")
        await wait_for(pilot, lambda: deleted(ops, spam.msgid or "") is not None)
        line = deleted(ops, spam.msgid)
        assert line is not None
        assert (line.sender, line.text) == ("Doe", "message deleted by John: spam")

        await doe.send("PRIVMSG #ops :oops, wrong room")
        echo = await doe.expect("PRIVMSG", lambda m: m.params[1] == "oops, wrong room")
        await wait_for(pilot, lambda: said(ops, "oops, wrong room"))
        await doe.send(f"REDACT #ops {echo.tags['msgid']}")
        await wait_for(pilot, lambda: deleted(ops, echo.tags["msgid"]) is not None)
        line = deleted(ops, echo.tags["msgid"])
        assert line is not None
        assert (line.sender, line.text) == ("Doe", "message deleted")


async def test_no_deletion_against_ngircd(ngircd: int, tmp_path: Path) -> None:
    """ "Implementations that negotiate this capability indicate that they are
    capable of handling the command": ngircd does not offer it, so the client
    does not ask for it and /redact sends nothing but says why."""
    app = EasyChatApp(ClientSettings(nick="John", server=f"127.0.0.1:{ngircd}", log_dir=tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        assert app.session is not None
        await wait_for(pilot, lambda: app.session is not None and app.session.registered)
        assert not app.session.can_redact
        assert "draft/message-redaction" not in app.session.caps
        await send_text(pilot, "/join #lobby")
        await wait_for(pilot, lambda: screen.conversations.current.name == "#lobby")
        await send_text(pilot, "hello")
        await send_text(pilot, "/redact")
        lines = screen.conversations.current.lines
        await wait_for(pilot, lambda: lines[-1].kind is LineKind.ERROR)
        assert lines[-1].text == "This server does not let messages be deleted."

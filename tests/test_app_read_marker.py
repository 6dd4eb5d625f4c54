"""App tests for draft/read-marker: reading on one device clears the unread count on the others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from easychat.chat.identity.accounts import Account
from easychat.chat.identity.passwords import hash_password
from easychat.chat.readmarkers import ReadMarkers
from easychat.proto.message import Message
from easychat.store.accounts import SQLiteAccounts
from easychat.store.history import SQLiteHistory
from easychat.store.readmarkers import SQLiteReadMarkers
from easychat.tui.app import EasyChatApp
from easychat.tui.readmarkers import sync_read
from easychat.tui.screens.scrollback import NEW_MESSAGES
from tests.apphelpers import SIZE, WAIT, Peer, field, has_text, log_in, log_text, make_app, wait_for
from tests.ircclient import IRCClient, RunningServer
from tests.ngircd import ngircd
from tests.nolimits import unlimited
from tests.serverproc import HISTORY_CAPS

__all__ = ["ngircd"]  # the fixture, imported so pytest sees it here

CAP = "draft/read-marker"
PASSWORD = "a long enough password"


@pytest.fixture
def marker_server(
    make_server: Callable[..., RunningServer], tmp_path: Path
) -> Iterator[RunningServer]:
    """A server with history, the account John, and read markers."""
    history = SQLiteHistory(tmp_path / "history.sqlite3")
    server = make_server(unlimited(), history=history)
    accounts = SQLiteAccounts.open(tmp_path / "accounts.sqlite3")
    accounts.create(Account("John", hash_password(PASSWORD), None, 0))
    server.core.accounts = accounts
    markers = SQLiteReadMarkers.open(tmp_path / "accounts.sqlite3")
    server.core.read_markers = ReadMarkers(markers)
    yield server
    server.stop()
    markers.close()
    accounts.close()
    history.close()


def phone_of_john(port: int) -> IRCClient:
    """John's other device: a raw client logged in to the account John, in #dev too."""
    phone = IRCClient(port)
    phone.send("CAP LS 302")
    phone.send(f"CAP REQ :{' '.join([*HISTORY_CAPS, CAP, 'sasl'])}")
    phone.expect("CAP", lambda m: len(m.params) > 1 and m.params[1] == "ACK")
    phone.sasl_plain("John", PASSWORD)
    phone.send("CAP END")
    phone.register("Johns_phone")
    phone.send("JOIN #dev")
    phone.expect("366")
    return phone


async def said(peer: Peer, target: str, text: str, *, seen_by: IRCClient) -> Message:
    """`peer` says `text` to `target`; returns the line as `seen_by` received it (with its time)."""
    await peer.send(f"PRIVMSG {target} :{text}")
    return await asyncio.to_thread(seen_by.expect, "PRIVMSG", lambda m: m.params[-1] == text, WAIT)


async def logged_in(pilot: object, app: EasyChatApp) -> None:
    """Fills the password (SASL as John) and logs in."""
    field(app, "#password").value = PASSWORD
    await log_in(pilot, app)  # type: ignore[arg-type]


async def test_reading_on_another_device_clears_the_unread_count(
    marker_server: RunningServer, tmp_path: Path
) -> None:
    """read-marker: "knowing when messages have been read can enable them to
    clear notifications for messages that were already read on another
    device." A MARKREAD from the server lowers #dev's count to what follows it,
    and moves the "new messages" line there."""
    port = marker_server.port
    doe = Peer(port, "Doe")
    phone = await asyncio.to_thread(phone_of_john, port)
    try:
        await doe.register()
        await doe.send("JOIN #dev")
        await doe.expect("366")
        app = make_app(port, tmp_path / "logs")
        async with app.run_test(size=SIZE) as pilot:
            await logged_in(pilot, app)
            screen = app.chat
            assert screen is not None
            assert app.session is not None
            assert app.session.read_markers
            lobby = screen.conversations.current
            await pilot.pause()
            screen.prefill("/join #dev")
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.conversations.current.name == "#dev")
            screen.switch_to(lobby)
            dev = screen.conversations.get("#dev")
            assert dev is not None
            first = await said(doe, "#dev", "dev one", seen_by=phone)
            await said(doe, "#dev", "dev two", seen_by=phone)
            third = await said(doe, "#dev", "dev three", seen_by=phone)
            await wait_for(pilot, lambda: dev.unread == 3, what="three unread in #dev")

            phone.send(f"MARKREAD #dev timestamp={first.tags['time']}")
            await wait_for(pilot, lambda: dev.unread == 2, what="two left unread")
            phone.send(f"MARKREAD #dev timestamp={third.tags['time']}")
            await wait_for(pilot, lambda: dev.unread == 0, what="#dev read on the phone")
            assert dev.new_after is not None
            assert dev.new_after >= dev.lines[-1].time
            # Not a line of it is "new" when the user comes to it here.
            screen.switch_to(dev)
            await pilot.pause()
            assert not any(NEW_MESSAGES in row for row in log_text(screen))
    finally:
        doe.close()
        phone.close()


async def test_reading_in_the_app_tells_the_other_devices(
    marker_server: RunningServer, tmp_path: Path
) -> None:
    """read-marker: "When sent from a client, this command signals to the
    server that the last message read by the user ... has the specified
    timestamp. The timestamp MUST correspond to a previous message time tag."
    The room in view, scrolled to its newest line, is read: the phone hears of it."""
    port = marker_server.port
    doe = Peer(port, "Doe")
    phone = await asyncio.to_thread(phone_of_john, port)
    try:
        await doe.register()
        app = make_app(port, tmp_path / "logs")
        async with app.run_test(size=SIZE) as pilot:
            await logged_in(pilot, app)
            screen = app.chat
            assert screen is not None
            lobby = screen.conversations.current
            line = await said(doe, "#lobby", "read me", seen_by=phone)
            await wait_for(pilot, lambda: has_text(lobby, "read me"), what="the line shown")
            marked = await asyncio.to_thread(
                phone.expect,
                "MARKREAD",
                lambda m: m.params[0] == "#lobby" and m.params[1] != "*",
                WAIT,
            )
            assert marked.params == ("#lobby", f"timestamp={line.tags['time']}")
    finally:
        doe.close()
        phone.close()


async def test_against_ngircd_the_app_keeps_its_own_unread_counts(
    ngircd: int, tmp_path: Path
) -> None:
    """read-marker: "The draft/read-marker capability MAY be negotiated": a
    server without it gets no MARKREAD (ngircd would answer 421), and unread
    counts work as they always have, from what is shown here."""
    app = make_app(ngircd, tmp_path / "logs")
    doe = IRCClient(ngircd)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.click("#login")
            await wait_for(pilot, lambda: app.chat is not None, what="the chat screen")
            screen = app.chat
            assert screen is not None
            assert app.session is not None
            screen.prefill("/join #lobby")
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.conversations.current.name == "#lobby")
            screen.prefill("/join #dev")
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.conversations.current.name == "#dev")
            assert not app.session.read_markers
            lobby = screen.conversations.get("#lobby")
            assert lobby is not None
            await asyncio.to_thread(doe.register, "Doe", False)
            doe.send("JOIN #lobby")
            await asyncio.to_thread(doe.expect, "366")
            doe.send("PRIVMSG #lobby :while you were in dev")
            await wait_for(pilot, lambda: lobby.unread == 1, what="one unread in #lobby")
            screen.switch_to(lobby)
            assert lobby.unread == 0
            sync_read(app)  # what the timer does: nothing to send here
            # ngircd answers in order: a 421 for a MARKREAD would come before this.
            screen.prefill("/whois Doe")
            await pilot.press("enter")

            def whois_done() -> bool:
                rows = [line.text for c in screen.conversations.ordered() for line in c.lines]
                return any("End of WHOIS for Doe" in text for text in rows)

            await wait_for(pilot, whois_done, what="the end of WHOIS")
            every = [line.text for conv in screen.conversations.ordered() for line in conv.lines]
            assert not any("MARKREAD" in text for text in every)
    finally:
        doe.close()

"""App tests of the chat screen's layout, dialogs and keys, against a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import Static, TextArea

from easychat.cli import JOIN_OPTIONS, build_parser, client_settings
from easychat.settings import resolve
from easychat.tui.chat import ChatScreen
from easychat.tui.dialogs import PasteDialog
from easychat.tui.widgets import PASTE_CONFIRM_LINES
from tests.apphelpers import SIZE, Peer, field, log_in, make_app, wait_for
from tests.ircclient import RunningServer


@pytest.fixture
def peers(server: RunningServer) -> Iterator[Callable[[str], Peer]]:
    """Opens other people's connections to `server`; closes them after the test."""
    opened: list[Peer] = []

    def open_peer(nick: str) -> Peer:
        peer = Peer(server.port, nick)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        peer.close()


async def test_long_paste_asks_before_sending(
    server: RunningServer, tmp_path: Path, peers: Callable[[str], Peer]
) -> None:
    """A paste of more than PASTE_CONFIRM_LINES lines asks first, as irssi does.

    Cancel keeps the field as it was and sends nothing; Send sends every
    line (also after editing them in the dialog), in order.
    """
    doe = peers("Doe")
    await doe.register()
    app = make_app(server.port, tmp_path)
    lines = [f"line {i}" for i in range(12)]
    assert len(lines) > PASTE_CONFIRM_LINES
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, app)
        message = field(app, "#message")
        message.value = "kept"
        message.cursor_position = 4
        message.post_message(events.Paste("\n".join(lines)))
        await wait_for(pilot, lambda: isinstance(app.screen, PasteDialog), what="the dialog")
        assert str(app.screen.query_one("#paste-question", Static).render()) == (
            "Send 12 lines to #lobby?"
        )
        await pilot.click("#paste-cancel")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat")
        assert field(app, "#message").value == "kept"

        message = field(app, "#message")
        message.value = ""
        message.post_message(events.Paste("\n".join(lines)))
        await wait_for(pilot, lambda: isinstance(app.screen, PasteDialog), what="the dialog")
        question = app.screen.query_one("#paste-question", Static)
        edited = [*lines[:-1], "line 11, edited"]
        app.screen.query_one("#paste-text", TextArea).text = "\n".join(edited)
        await pilot.pause()
        assert str(question.render()) == "Send 12 lines to #lobby?"
        await pilot.click("#paste-send")
        received = await doe.raw_privmsgs("#lobby", len(lines))
        assert [msg.params[1] for _, msg in received] == edited
        assert field(app, "#message").value == ""


def join_settings(argv: list[str], environ: dict[str, str]) -> dict[str, Any]:
    return resolve(build_parser().parse_args(["join", *argv]), JOIN_OPTIONS, environ)


def test_no_mouse_setting(tmp_path: Path) -> None:
    """--no-mouse, EASYCHAT_NO_MOUSE and `no-mouse` in the TOML file; the mouse is on by default."""
    assert join_settings([], {})["no_mouse"] is False
    assert join_settings(["--no-mouse"], {})["no_mouse"] is True
    assert join_settings([], {"EASYCHAT_NO_MOUSE": "1"})["no_mouse"] is True
    toml = tmp_path / "client.toml"
    toml.write_text("no-mouse = true\n")
    assert join_settings(["--config", str(toml)], {})["no_mouse"] is True
    assert join_settings(["--config", str(toml)], {"EASYCHAT_NO_MOUSE": "0"})["no_mouse"] is False
    args = build_parser().parse_args(["join", "--no-mouse"])
    assert client_settings(resolve(args, JOIN_OPTIONS, {}), args).mouse is False
    args = build_parser().parse_args(["join"])
    assert client_settings(resolve(args, JOIN_OPTIONS, {}), args).mouse is True

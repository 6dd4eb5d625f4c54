"""TUI tests in a real terminal (a private tmux server): keys, bursts, sizes, the mouse."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.ircclient import IRCClient, RunningServer
from tests.tmuxhelpers import Tmux, require_tmux, tmux_join

# What the message field shows while it is empty.
PLACEHOLDER = "Message (/help for commands)"

Terminal = Callable[..., AbstractContextManager[Tmux]]


@pytest.fixture
def terminal(server: RunningServer, tmp_path: Path) -> Terminal:
    """Opens `easychat join` against `server` in a private tmux server."""
    require_tmux()

    def open_terminal(
        *args: str, width: int = 80, height: int = 24
    ) -> AbstractContextManager[Tmux]:
        return tmux_join(tmp_path, server.port, *args, width=width, height=height)

    return open_terminal


@pytest.fixture
def peer(server: RunningServer) -> Iterator[IRCClient]:
    """Doe, in #lobby, to see what the client sends."""
    client = server.client()
    client.register("Doe")
    yield client
    client.close()


def in_lobby(term: Tmux) -> str:
    """Waits for the chat screen in #lobby with the empty message field; returns the screen."""
    term.wait_for_text("You joined #lobby")
    return term.wait_for_text(PLACEHOLDER)


def topic_row(screen: str) -> str:
    """The top row of the screen: the topic bar between the side lists' borders."""
    return screen.splitlines()[0]


def input_row(screen: str) -> str:
    """The row of the screen that holds the message field (with Leave and Send)."""
    rows = [row for row in screen.splitlines() if "Leave" in row and "Send" in row]
    assert len(rows) == 1, screen
    return rows[0]


def test_alt_digit_switches_conversation(terminal: Terminal, server: RunningServer) -> None:
    """Alt+2 sent as ESC 2 (tmux, xterm's metaSendsEscape, SSH) opens conversation 2.

    Textual maps ESC+digit to the characters macOS's Option key types
    (`™` for 2); the field must stay empty and the server window open.
    """
    server_window = f"127.0.0.1:{server.port}"
    with terminal() as term:
        in_lobby(term)
        term.send_keys("M-2")
        screen = term.wait_for(lambda s: server_window in topic_row(s), "the server window")
        assert PLACEHOLDER in input_row(screen), "Alt+2 typed into the field"
        term.send_keys("M-1")
        screen = term.wait_for(lambda s: "#lobby" in topic_row(s), "#lobby again")
        assert PLACEHOLDER in input_row(screen), "Alt+1 typed into the field"
        term.send_keys("M-2", "M-1", "hi")  # in one read
        screen = term.wait_for(lambda s: field_text(s) == "hi", "hi in the field")
        assert "#lobby" in topic_row(screen)


def field_text(screen: str) -> str:
    """What the message field shows (its placeholder when empty)."""
    row = input_row(screen)
    return row.split("▊", 1)[1].rsplit("▎", 1)[0].strip()


def test_typed_burst_sends_each_line(
    terminal: Terminal, server: RunningServer, peer: IRCClient
) -> None:
    """Keys that arrive in one read (tmux send-keys, a slow SSH link) keep their Enters."""
    with terminal() as term:
        in_lobby(term)
        term.send_keys("burst one", "Enter", "burst two", "Enter")
        first = peer.expect("PRIVMSG", lambda m: m.params[0] == "#lobby")
        second = peer.expect("PRIVMSG", lambda m: m.params[0] == "#lobby")
        assert [first.params[-1], second.params[-1]] == ["burst one", "burst two"]
        term.wait_for(lambda s: field_text(s) == PLACEHOLDER, "the emptied field")


def test_editing_keys_apply_in_order(terminal: Terminal) -> None:
    """Ctrl+A and Ctrl+U in a burst act where they were typed, not after the rest."""
    with terminal() as term:
        in_lobby(term)
        term.send_keys("xy", "C-a", "z")
        term.wait_for(lambda s: field_text(s) == "zxy", "zxy in the field")
        term.send_keys("C-e", "C-u", "abc")
        term.wait_for(lambda s: field_text(s) == "abc", "abc in the field")


def test_bracketed_paste_of_many_lines_asks(terminal: Terminal, peer: IRCClient) -> None:
    """A real paste of 12 lines asks before sending; Enter on Send sends them all."""
    lines = [f"pasted {i}" for i in range(12)]
    with terminal() as term:
        in_lobby(term)
        term.paste("\n".join(lines))
        term.wait_for_text("Send 12 lines to #lobby?")
        term.send_keys("Enter")
        got = [peer.expect("PRIVMSG").params[-1] for _ in lines]
        assert got == lines


@pytest.mark.parametrize(("args", "mouse"), [((), "1"), (("--no-mouse",), "0")])
def test_no_mouse_leaves_the_mouse_to_the_terminal(
    terminal: Terminal, args: tuple[str, ...], mouse: str
) -> None:
    """With --no-mouse the client never turns on mouse reporting, so the terminal selects."""
    with terminal(*args) as term:
        in_lobby(term)
        assert term.display("#{mouse_any_flag}") == mouse


def test_side_lists_follow_the_terminal_size_and_f2(terminal: Terminal) -> None:
    """Shrinking the terminal hides the side lists; F2 brings the conversations back."""
    with terminal(width=120, height=36) as term:
        in_lobby(term)
        term.wait_for_text("@John")  # the member list
        term.resize(60, 20)
        screen = term.wait_for(
            lambda s: topic_row(s).startswith(" #lobby"), "the topic bar at the left edge"
        )
        assert "@John" not in screen
        term.send_keys("F2")
        term.wait_for(lambda s: topic_row(s).startswith("╭"), "the conversation list")
        term.resize(120, 36)
        term.wait_for_text("@John")


def test_login_button_stays_visible_with_an_error_at_80x24(tmp_path: Path) -> None:
    """A refused connection at 80x24: the error and the Login button are both on screen."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tmux_join(tmp_path, port, width=80, height=24) as term:
        screen = term.wait_for_text("refused")
        rows = screen.splitlines()
        login = [i for i, row in enumerate(rows) if row.strip("│ ") == "Login"]
        assert login, screen
        assert login[0] < 23, "Login is on the footer's row or below"

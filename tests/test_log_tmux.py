"""The message log in a real terminal (a private tmux server): wrapping and re-wrapping."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.ircclient import IRCClient, RunningServer
from tests.serverproc import clean_env

if shutil.which("tmux") is None:
    if os.environ.get("EASYCHAT_REQUIRE_TMUX") == "1":
        pytest.fail("tmux is required (EASYCHAT_REQUIRE_TMUX=1) but not installed")
    pytest.skip("tmux is not installed", allow_module_level=True)

SRC = Path(__file__).resolve().parents[1] / "src"
# Starting Python and Textual in a terminal takes a few seconds under load.
WAIT = 30.0
WORDS = [f"word{i:02d}" for i in range(40)]


class Pane:
    """`easychat join` in a private tmux server."""

    def __init__(self, socket_path: Path) -> None:
        self.socket = str(socket_path)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def screen(self) -> list[str]:
        return self.tmux("capture-pane", "-p", "-t", "log").splitlines()

    def wait_for(self, what: Callable[[list[str]], bool], name: str) -> list[str]:
        deadline = time.monotonic() + WAIT
        while True:
            rows = self.screen()
            if what(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {name}:\n" + "\n".join(rows))
            time.sleep(0.05)


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    pane = Pane(tmp_path / "tmux.sock")
    yield pane
    subprocess.run(["tmux", "-S", pane.socket, "kill-server"], capture_output=True, check=False)


def long_line_rows(rows: list[str]) -> list[str]:
    """The rows of Doe's long line, from its first to its last word, inside the log's border."""
    start = next(i for i, row in enumerate(rows) if "<Doe> word00" in row)
    end = next(i for i, row in enumerate(rows) if WORDS[-1] in row)
    return rows[start : end + 1]


def assert_wrapped(rows: list[str], width: int) -> None:
    """Every word shows, in order; continuation rows start under the text; nothing past the edge."""
    found = long_line_rows(rows)
    assert len(found) > 1, found
    text_column = found[0].index("word00")
    words: list[str] = []
    for n, row in enumerate(found):
        assert cell_len(row) <= width
        if n:
            assert row[text_column - 1] == " ", row
            assert row[text_column:].startswith("word"), f"not under the text: {row!r}"
        words.extend(w for w in row[text_column:].replace("│", " ").split() if w.startswith("word"))
    assert words == WORDS, found


def test_a_long_line_wraps_in_the_terminal_and_rewraps_on_resize(
    make_server: Callable[..., RunningServer], pane: Pane, tmp_path: Path
) -> None:
    """Item 9 in a real terminal: at 80x24 and after a resize to 120x36, the line wraps whole."""
    server = make_server()
    command = (
        f"exec {sys.executable} -m easychat join --auto --nick John"
        f" --server 127.0.0.1:{server.port} --log-dir {tmp_path / 'logs'}"
    )
    env = {k: v for k, v in clean_env().items() if k != "TMUX"}
    env |= {"PYTHONPATH": str(SRC), "TERM": "xterm-256color"}
    session = ["new-session", "-d", "-s", "log", "-x", "80", "-y", "24", command]
    subprocess.run(
        ["tmux", "-S", pane.socket, "-f", "/dev/null", *session],
        env=env,
        check=True,
    )
    pane.wait_for(lambda rows: any("John joined" in r or "You joined" in r for r in rows), "join")
    doe = IRCClient(server.port)
    try:
        doe.register("Doe")
        doe.send("PRIVMSG #lobby :" + " ".join(WORDS))
        rows = pane.wait_for(lambda rows: any(WORDS[-1] in r for r in rows), "the long line")
        assert_wrapped(rows, 80)
        narrow = len(long_line_rows(rows))
        pane.tmux("resize-window", "-t", "log", "-x", "120", "-y", "36")
        rows = pane.wait_for(
            lambda rows: (
                len(rows) == 36
                and any(WORDS[-1] in r for r in rows)
                and len(long_line_rows(rows)) < narrow
            ),
            "the line to re-wrap wider",
        )
        assert_wrapped(rows, 120)
    finally:
        doe.close()

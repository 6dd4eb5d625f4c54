"""Provides the TUI in a private tmux server, for tests of what only a real terminal shows."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

# The repository's src directory, put on the client's PYTHONPATH.
SRC = Path(__file__).resolve().parent.parent / "src"

# The session every helper talks to; one session per private server.
SESSION = "easychat"

# Longest wait for the TUI to show something: starting Python and Textual on
# a loaded 2-core CI machine takes a few seconds, so this is generous.
WAIT = 20.0

# How often wait_for_text looks at the screen again.
POLL = 0.05

# Longest a single tmux command may take before the test fails.
TMUX_TIMEOUT = 10.0

# Longest socket path used as is: a Unix socket's path holds at most 107
# bytes (sun_path); a deeper tmp_path gets a socket in a short temp dir.
MAX_SOCKET_PATH = 100


def require_tmux() -> str:
    """The tmux binary; skips the test without it, or fails with EASYCHAT_REQUIRE_TMUX=1."""
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("EASYCHAT_REQUIRE_TMUX") == "1":
            pytest.fail("tmux is not installed but EASYCHAT_REQUIRE_TMUX=1")
        pytest.skip("tmux is not installed")
    return tmux


def client_env(home: Path) -> dict[str, str]:
    """An environment for the client with every user directory under `home`.

    EASYCHAT_* settings, terminal sizes and an enclosing tmux are removed, so
    the test sees only the flags it passes.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EASYCHAT_", "TEXTUAL")) and k not in ("TMUX", "COLUMNS", "LINES")
    }
    for name in ("data", "config", "state", "cache", "runtime"):
        (home / name).mkdir(mode=0o700, parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        PYTHONPATH=str(SRC),
    )
    return env


class Tmux:
    """One command running in a detached session of a private tmux server.

    The server has its own socket in `directory` (one Tmux per directory;
    give a second one a subdirectory) and reads no configuration
    (`-f /dev/null`), so the user's tmux is never touched.
    A pane whose command ends stays open (remain-on-exit), so a crash's
    traceback can still be captured.
    """

    def __init__(
        self,
        directory: Path,
        command: Sequence[str],
        *,
        env: dict[str, str],
        width: int = 80,
        height: int = 24,
    ) -> None:
        self.tmux = require_tmux()
        self.env = env
        self._short_dir: Path | None = None
        self.socket = directory / "tmux.sock"
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            self._short_dir = Path(tempfile.mkdtemp(prefix="easychat-tmux-"))
            self.socket = self._short_dir / "sock"
        self.run(
            "start-server",
            ";",
            *("set-option", "-g", "remain-on-exit", "on"),
            ";",
            *("new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height)),
            shlex.join(command),
        )

    def run(self, *args: str) -> str:
        """Runs one tmux command against this server; returns its output."""
        done = subprocess.run(
            [self.tmux, "-S", str(self.socket), "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=TMUX_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {shlex.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def send_keys(self, *keys: str, literal: bool = False) -> None:
        """Types `keys`, as tmux key names (`Enter`, `C-a`, `M-2`) or, with `literal`, as text."""
        self.run("send-keys", "-t", SESSION, *(["-l"] if literal else []), *keys)

    def paste(self, text: str) -> None:
        """Pastes `text` as a terminal does: bracketed when the program asked for it."""
        self.run("set-buffer", "-b", "test", "--", text)
        self.run("paste-buffer", "-p", "-r", "-d", "-b", "test", "-t", SESSION)

    def capture(self) -> str:
        """The visible screen as plain text, one line per row."""
        return self.run("capture-pane", "-p", "-t", SESSION)

    def display(self, fmt: str) -> str:
        """A tmux format expanded for the pane, e.g. `#{mouse_any_flag}`."""
        return self.run("display-message", "-p", "-t", SESSION, fmt).strip()

    def wait_for(self, predicate: Callable[[str], object], what: str, timeout: float = WAIT) -> str:
        """Waits until `predicate(screen)` is true; returns that screen.

        Raises:
            AssertionError: after `timeout` seconds, naming `what`, with the screen as it was.
        """
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout} s; screen:\n{screen}")
            time.sleep(POLL)

    def wait_for_text(self, text: str, timeout: float = WAIT) -> str:
        """Waits until the screen shows `text`; returns the screen."""
        return self.wait_for(lambda screen: text in screen, repr(text), timeout)

    def wait_until_gone(self, text: str, timeout: float = WAIT) -> str:
        """Waits until the screen no longer shows `text`; returns the screen."""
        return self.wait_for(lambda screen: text not in screen, f"end of {text!r}", timeout)

    def resize(self, width: int, height: int) -> None:
        """Resizes the window, as a user resizing the terminal does."""
        self.run("resize-window", "-t", SESSION, "-x", str(width), "-y", str(height))

    def kill(self) -> None:
        """Stops the tmux server and the command in it."""
        if self.socket.exists():
            subprocess.run(
                [self.tmux, "-S", str(self.socket), "kill-server"],
                capture_output=True,
                env=self.env,
                timeout=TMUX_TIMEOUT,
                check=False,
            )
        if self._short_dir is not None:
            shutil.rmtree(self._short_dir, ignore_errors=True)


def join_command(port: int, directory: Path, *args: str, nick: str = "John") -> list[str]:
    """`easychat join` for a server on 127.0.0.1:`port`, logging in at once.

    The local log goes to `directory`/logs; `args` are further flags.
    """
    return [
        *(sys.executable, "-m", "easychat", "join"),
        *("--server", f"127.0.0.1:{port}", "--nick", nick),
        *("--log-dir", str(directory / "logs"), "--auto", *args),
    ]


@contextmanager
def tmux_join(
    directory: Path,
    port: int,
    *args: str,
    nick: str = "John",
    width: int = 80,
    height: int = 24,
) -> Iterator[Tmux]:
    """`easychat join` in a private tmux server of `width`x`height`, killed on exit.

    Every user directory (HOME, XDG_*) lies under `directory`/home, the
    local log in `directory`/logs; a second client in the same test takes
    another directory (e.g. `tmp_path / "doe"`).
    """
    term = Tmux(
        directory,
        join_command(port, directory, *args, nick=nick),
        env=client_env(directory / "home"),
        width=width,
        height=height,
    )
    try:
        yield term
    finally:
        term.kill()

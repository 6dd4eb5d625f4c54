"""Provides the login screen: nickname, server address, optional password, Login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from easychat.net.client import parse_address
from easychat.proto.names import valid_nick

# Longest nick the login screen accepts; servers advertise their own NICKLEN
# (ours 30) and refuse longer ones with 432.
MAX_NICK = 30

# Shortest password for a new account: the server's minimum (REGISTER
# refuses shorter ones with WEAK_PASSWORD), checked here to say so at once.
MIN_ACCOUNT_PASSWORD = 8


def check_login(nick: str, server: str) -> tuple[str, str, int]:
    """Validates the login fields; returns (nick, host, port).

    Raises:
        ValueError: with a sentence saying what to fix.
    """
    nick = nick.strip()
    if not nick:
        raise ValueError("Enter a nickname")
    if len(nick) > MAX_NICK:
        raise ValueError(f"A nickname has at most {MAX_NICK} characters")
    if not valid_nick(nick, MAX_NICK):
        raise ValueError(
            "A nickname starts with a letter and holds only letters, digits and - _ [ ] { } | ^ `"
        )
    host, port = parse_address(server)
    return nick, host, port


# Terminal heights (rows) below which the login form is compacted, so that
# with an error of two lines shown the Login button stays on the screen:
# the full form needs 30 rows; below it the spacing and the checkbox's
# border go (21 rows: 80x24 fits), and below 24 rows the title and the
# box's border too (18 rows: 60x20 fits).
SHORT_ROWS = 30
TINY_ROWS = 24


class PlainCheckbox(Checkbox):
    """A checkbox whose state shows as a mark, not only a colour: `X` on, empty off."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "X" if self.value else " "
        return super()._button


class LoginScreen(Screen[None]):
    """Asks who you are and where to connect."""

    # Not ClassVar-annotated: Textual declares it `ClassVar[...] | None`, which
    # mypy reads as an instance variable that a ClassVar may not override.
    VERTICAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-tiny"),
        (TINY_ROWS, "-short"),
        (SHORT_ROWS, "-tall"),
    ]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel connecting", show=False),
    ]

    class CancelRequested(Message):
        """The user pressed Escape while connecting."""

    @dataclass
    class LoginRequested(Message):
        """The user asked to connect with these details."""

        nick: str
        host: str
        port: int
        server: str
        # Used for SASL PLAIN when the server offers it, else sent as PASS;
        # with create_account, REGISTER makes an account with it.
        password: str = ""
        create_account: bool = False

    def __init__(self, nick: str = "", server: str = "127.0.0.1:6667") -> None:
        super().__init__()
        self.initial_nick = nick
        self.initial_server = server

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="login-box"):
            yield Static("Easy Chat", id="title")
            yield Label("Nickname")
            yield Input(self.initial_nick, placeholder="john", id="nick", max_length=MAX_NICK)
            yield Label("Server address")
            yield Input(self.initial_server, placeholder="host:port", id="server")
            yield Label("Password (optional: account or server password)")
            yield Input("", placeholder="none", id="password", password=True)
            yield PlainCheckbox("Create an account with this password", id="create")
            yield Static("", id="login-error", markup=False)
            yield Button("Login", id="login", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#nick", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "login":
            event.stop()
            self.submit()

    def submit(self) -> None:
        """Validates the fields and asks the app to connect (once: not while connecting)."""
        if self.query_one("#login", Button).disabled:
            return
        nick = self.query_one("#nick", Input).value
        server = self.query_one("#server", Input).value
        password = self.query_one("#password", Input).value
        create = self.query_one("#create", Checkbox).value
        try:
            nick, host, port = check_login(nick, server)
            if create and len(password) < MIN_ACCOUNT_PASSWORD:
                raise ValueError(
                    f"To create an account, enter a password of {MIN_ACCOUNT_PASSWORD}"
                    " characters or more"
                )
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.set_busy(True)
        self.post_message(self.LoginRequested(nick, host, port, server.strip(), password, create))

    @property
    def busy(self) -> bool:
        """Whether a connection attempt is running."""
        return self.query_one("#login", Button).disabled

    def action_cancel(self) -> None:
        """Escape: stops a connection attempt that is running."""
        if self.busy:
            self.post_message(self.CancelRequested())

    def account_created(self) -> None:
        """The account exists now: the next login logs in rather than creating it."""
        self.query_one("#create", Checkbox).value = False

    def show_error(self, text: str) -> None:
        """Shows why the login did not work and lets the user retry."""
        self.set_busy(False)
        error = self.query_one("#login-error", Static)
        error.update(text)
        error.add_class("visible")

    def set_busy(self, busy: bool) -> None:
        """Shows that a connection attempt is running."""
        button = self.query_one("#login", Button)
        button.disabled = busy
        button.label = "Connecting…" if busy else "Login"
        if busy:
            error = self.query_one("#login-error", Static)
            error.update("")
            error.remove_class("visible")

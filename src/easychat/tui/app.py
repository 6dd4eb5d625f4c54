"""Provides EasyChatApp: its settings, the screens, and the messages that connect them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.message import Message as TextualMessage
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from easychat.client.conversations import ConversationKind
from easychat.client.events import SERVER_CONVERSATION, Event, Line, LineKind
from easychat.client.masks import IgnoreList
from easychat.client.session.session import Session
from easychat.client.smartfilter import JoinFilter
from easychat.net.client import ClientConnection, format_address, parse_address
from easychat.net.tls import TLS_PORT, ClientTLS
from easychat.proto.message import Message
from easychat.store.clientlog import ClientLog, default_log_dir, log_path
from easychat.store.clientstate import ClientState, state_path
from easychat.tui.events import handle, tell_everywhere
from easychat.tui.history import HISTORY_PAGE, load_earlier
from easychat.tui.intents import palette_commands, run_typed
from easychat.tui.intents_irc import load_ignore_list
from easychat.tui.keys import read_esc_digit_as_alt
from easychat.tui.network import LAG_INTERVAL, LOGIN_TIMEOUT, stay_connected
from easychat.tui.readmarkers import READ_SYNC_INTERVAL, sync_read
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.login import LoginScreen
from easychat.tui.state import save_read_marks

# HISTORY_PAGE stays importable from here, where the app tests look for it.
__all__ = ["HISTORY_PAGE", "ClientSettings", "EasyChatApp"]


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How the client starts: login fields, look, and the local log."""

    nick: str = ""
    server: str = "127.0.0.1:6667"
    auto: bool = False
    theme: str | None = None
    timestamps: bool = True
    joins: str = "smart"  # one of client.smartfilter.JOIN_FILTERS
    log_dir: Path | None = None
    log_enabled: bool = True
    extra: dict[str, str] = field(default_factory=dict)
    # TLS: on with `tls`; a pinned SHA-256 fingerprint (64 hex digits) or
    # `tls_insecure` replace the check against the system's CAs.
    tls: bool = False
    tls_fingerprint: str | None = None
    tls_insecure: bool = False
    # False leaves the mouse to the terminal (its own selection and copying).
    mouse: bool = True

    def client_tls(self) -> ClientTLS | None:
        """How to check the server's certificate, or None for plain TCP."""
        if not (self.tls or self.tls_fingerprint or self.tls_insecure):
            return None
        return ClientTLS(fingerprint=self.tls_fingerprint, insecure=self.tls_insecure)


class EasyChatApp(App[None]):
    """The EasyChat client: a login screen, then the chat screen."""

    CSS_PATH = "easychat.tcss"
    TITLE = "Easy Chat"
    # Ctrl+N / Ctrl+P switch conversations (as in irssi), so the command
    # palette moves to F1.
    COMMAND_PALETTE_BINDING = "f1"

    @dataclass
    class NetEvent(TextualMessage):
        """The session reported `event`."""

        event: Event

    @dataclass
    class LoginFailed(TextualMessage):
        """Connecting or registering failed before the chat screen opened."""

        reason: str

    @dataclass
    class ConnectionState(TextualMessage):
        """The connection dropped or came back; `text` says what happens now."""

        text: str
        connected: bool

    def __init__(self, settings: ClientSettings | None = None) -> None:
        super().__init__()
        read_esc_digit_as_alt()  # Alt+1…9 in tmux and over SSH
        self.settings = settings or ClientSettings()
        self.login = LoginScreen(self.settings.nick, self.settings.server)
        self.chat: ChatScreen | None = None
        self.session: Session | None = None
        self.connection: ClientConnection | None = None
        self.store: ClientLog | None = None
        # Rooms, private conversations and read positions, kept per server.
        self.state = ClientState(None)
        # Keys given with /join (folded room -> key), remembered once joined.
        self.join_keys: dict[str, str] = {}
        self.leaving = False
        self.wanted_nick = self.settings.nick
        # From the login screen: the password (SASL PLAIN or PASS) and whether
        # to create an account with it (only until the first registration).
        self.password: str | None = None
        self.create_account = False
        # Rooms (folded) the user asked to /join: shown when the JOIN comes back.
        self.focus_on_join: set[str] = set()
        # The welcome and what came before it (account created, logged in):
        # shown in the server window, then again in the first room joined.
        self.welcome: list[Line] = []
        self.join_filter = JoinFilter(self.settings.joins)
        self._closer: asyncio.Future[None] | None = None
        # /ignore's masks, shared with every session; loaded from the user's file.
        self.ignores = IgnoreList()
        self.login_timeout = LOGIN_TIMEOUT  # tests shorten it
        self.lag_interval = LAG_INTERVAL  # likewise
        self.offline = False  # the drop was already told in every conversation
        # The server as the chat screen names it (IPv6 in brackets).
        self.address = ""

    def on_mount(self) -> None:
        if self.settings.theme:
            self.theme = self.settings.theme
        self.push_screen(self.login)
        load_ignore_list(self)
        self.set_interval(READ_SYNC_INTERVAL, lambda: sync_read(self))  # draft/read-marker
        if self.settings.auto:
            self.call_after_refresh(self.login.submit)

    # -- connecting ------------------------------------------------------------

    def on_login_screen_login_requested(self, request: LoginScreen.LoginRequested) -> None:
        self.leaving = False
        self.offline = False
        self.wanted_nick = request.nick
        self.password = request.password or None
        self.create_account = request.create_account
        self.welcome = []
        if self.settings.log_enabled:
            directory = self.settings.log_dir or default_log_dir()
            try:
                self.store = ClientLog(log_path(directory, request.host, request.port))
            except Exception as exc:  # an unusable log must not stop chatting
                self.notify(f"Local log disabled: {exc}", severity="warning")
                self.store = None
        self._open_state(request.host, request.port)
        host, port = request.host, request.port
        if self.settings.client_tls() is not None:
            # An address without a port means the TLS port.
            host, port = parse_address(request.server, TLS_PORT)
        self.address = format_address(host, port)
        self.network(request.nick, host, port)

    def on_login_screen_cancel_requested(self, message: LoginScreen.CancelRequested) -> None:
        """Escape while connecting: stops the attempt and lets the user edit the fields."""
        if self.chat is not None:
            return
        self.leaving = True
        self.workers.cancel_group(self, "network")  # its `finally` closes the socket
        self.session = None
        self._close_store()
        self.login.show_error("Cancelled.")

    def _open_state(self, host: str, port: int) -> None:
        """Loads what was remembered of this server (rooms, chats, read positions)."""
        directory = self.settings.log_dir or default_log_dir()
        path = state_path(directory, host, port)
        self.state = ClientState(path, on_error=self._state_error)

    def _state_error(self, text: str) -> None:
        self.notify(text, severity="warning")

    @work(exclusive=True, exit_on_error=False, group="network")
    async def network(self, nick: str, host: str, port: int) -> None:
        """Connects, runs the session, and reconnects with backoff until Leave (tui/network.py)."""
        await stay_connected(self, nick, host, port)

    def on_easy_chat_app_login_failed(self, message: LoginFailed) -> None:
        self.login.show_error(message.reason)
        self._close_store()

    def on_easy_chat_app_connection_state(self, message: ConnectionState) -> None:
        if self.chat is None:
            return
        self.chat.set_banner("" if message.connected else message.text)
        kind = LineKind.INFO if message.connected else LineKind.ERROR
        for conv in self.chat.conversations.ordered():
            if not message.connected:
                conv.active = conv.kind is not ConversationKind.ROOM and conv.active
        self.chat.refresh_sidebar()  # rooms show dimmed until rejoined
        if self.offline and not message.connected:
            # Each further retry: the banner and the server window, not
            # another line in every conversation per attempt.
            self.chat.add_line(Line(SERVER_CONVERSATION, kind, "", message.text, time.time()))
        else:
            tell_everywhere(self.chat, message.text, kind)
        self.offline = not message.connected

    # -- events from the session ----------------------------------------------

    def on_easy_chat_app_net_event(self, message: NetEvent) -> None:
        self.handle(message.event)

    def handle(self, event: Event) -> None:
        """Routes one session event to the chat screen and the local log (tui/events.py)."""
        handle(self, event)

    def close_conversation(self, name: str) -> None:
        """Closes a conversation (`/close`): parts a room we are in, and forgets it.

        The server window stays; the current conversation falls back to a neighbour.
        """
        chat, session, connection = self.chat, self.session, self.connection
        if chat is None:
            return
        conv = chat.conversations.get(name)
        if conv is None or conv is chat.conversations.server:
            return
        if conv.kind is ConversationKind.ROOM and conv.active and connection is not None:
            connection.send([Message("PART", (conv.name,))])
        if session is not None:
            self.focus_on_join.discard(session.fold(conv.name))
        self.state.closed(conv.name)
        chat.close_conversation(conv.name)

    # -- what the user typed, and scrolling back ----------------------------------

    def on_chat_screen_typed(self, message: ChatScreen.Typed) -> None:
        if self.chat is not None:
            run_typed(self, self.chat, message.text)
            for conv in self.chat.conversations.ordered():
                if conv.kind is ConversationKind.PRIVATE:  # perhaps opened with /msg
                    self.state.opened_private(conv.name)

    def on_chat_screen_earlier_wanted(self, message: ChatScreen.EarlierWanted) -> None:
        if self.chat is not None:
            load_earlier(self.chat, self.session, self.connection, message.conversation, self.store)

    # -- leaving -------------------------------------------------------------------

    def on_chat_screen_leave_requested(self, message: ChatScreen.LeaveRequested) -> None:
        self.leave(None)

    def leave(self, reason: str | None) -> None:
        """Sends QUIT, stops reconnecting and returns to the login screen."""
        self.leaving = True
        connection = self.connection
        if connection is not None:
            connection.send([Message("QUIT", (reason or "Leaving",))])
            self._closer = asyncio.ensure_future(connection.close())
        self.workers.cancel_group(self, "network")
        self.connection = None
        self.session = None
        if self.chat is not None:
            save_read_marks(self.state, self.chat)
            self.chat = None
            self.pop_screen()
        self._close_store()
        self.login.set_busy(False)

    async def action_quit(self) -> None:
        """Ctrl+Q: says goodbye to the server (QUIT) before the app exits."""
        if self.connection is not None:
            self.leave(None)
            if self._closer is not None:
                await asyncio.wait([self._closer], timeout=2.0)
        self.exit()

    def on_unmount(self) -> None:
        """The app is closing (without Leave): remembers where each conversation was read."""
        if self.chat is not None:
            save_read_marks(self.state, self.chat)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A network worker that failed is reported, never a silent stop."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"Network error: {error}", severity="error", timeout=10)
            if self.chat is None:
                self.login.show_error(f"Network error: {error}")

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ChatScreen):
            yield from palette_commands(self, screen)

"""Provides EasyChatApp: the screens, the network worker, and what connects them."""

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

from easychat.client.conversations import UNREAD_KINDS, Conversation, ConversationKind
from easychat.client.events import (
    SERVER_CONVERSATION,
    Event,
    HistoryBatch,
    HistoryFailed,
    Joined,
    Lag,
    Left,
    Line,
    LineKind,
    MembersChanged,
    NickChanged,
    PeerRenamed,
    RateLimited,
    Registered,
    RegistrationFailed,
    RoomList,
    ServerClosed,
    TopicChanged,
)
from easychat.client.masks import IgnoreList
from easychat.client.session.session import Session
from easychat.client.smartfilter import JoinFilter
from easychat.net.client import (
    ClientConnection,
    ConnectError,
    backoff_delays,
    format_address,
    parse_address,
)
from easychat.net.tls import TLS_PORT, ClientTLS
from easychat.proto.message import Message
from easychat.proto.names import casefold
from easychat.store.clientlog import ClientLog, default_log_dir, log_path
from easychat.store.clientstate import ClientState, state_path
from easychat.tui.history import (
    HISTORY_PAGE,
    load_earlier,
    load_history,
    local_history,
    merge_page,
    page_failed,
    to_local_log,
)
from easychat.tui.intents import palette_commands, run_typed
from easychat.tui.intents_irc import load_ignore_list, show_room_list
from easychat.tui.keys import read_esc_digit_as_alt
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.screens.login import LoginScreen
from easychat.tui.state import (
    came_back,
    joined,
    left,
    rejoin_messages,
    reopen_private,
    save_read_marks,
)

# HISTORY_PAGE stays importable from here, where the app tests look for it.
__all__ = ["HISTORY_PAGE", "ClientSettings", "EasyChatApp"]

# How long logging in may take, from the TCP connection to the welcome (001):
# a server that accepted the connection but says nothing in that time is not
# answering, or not an IRC server. SASL and a slow MOTD fit well within it.
LOGIN_TIMEOUT = 15.0

# Seconds between our lag PINGs (irssi's lag_check_time is 60 s, weechat's
# irc.server.lag_check 60 s; 30 s keeps the figure fresh at one short line).
LAG_INTERVAL = 30.0


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
        self._welcome: list[Line] = []
        self.join_filter = JoinFilter(self.settings.joins)
        self._closer: asyncio.Future[None] | None = None
        # /ignore's masks, shared with every session; loaded from the user's file.
        self.ignores = IgnoreList()
        self.login_timeout = LOGIN_TIMEOUT  # tests shorten it
        self.lag_interval = LAG_INTERVAL  # likewise
        self._offline = False  # the drop was already told in every conversation
        # The server as the chat screen names it (IPv6 in brackets).
        self.address = ""

    def on_mount(self) -> None:
        if self.settings.theme:
            self.theme = self.settings.theme
        self.push_screen(self.login)
        load_ignore_list(self)
        if self.settings.auto:
            self.call_after_refresh(self.login.submit)

    # -- connecting ------------------------------------------------------------

    def on_login_screen_login_requested(self, request: LoginScreen.LoginRequested) -> None:
        self.leaving = False
        self._offline = False
        self.wanted_nick = request.nick
        self.password = request.password or None
        self.create_account = request.create_account
        self._welcome = []
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
        """Connects, runs the session, and reconnects with backoff until Leave."""
        delays = backoff_delays()
        registered_once = False
        while not self.leaving:
            try:
                connection = await ClientConnection.open(host, port, tls=self.settings.client_tls())
            except ConnectError as exc:
                if not registered_once:
                    self.post_message(self.LoginFailed(str(exc)))
                    return
                delay = next(delays)
                self.post_message(
                    self.ConnectionState(
                        f"{str(exc).rstrip('.')} — retrying in {delay:.0f} s…", False
                    )
                )
                await asyncio.sleep(delay)
                continue
            # A reconnect asks for the last nick the server accepted (at login
            # or after a /nick), taking `nick_` only while the old one is held.
            if not registered_once:
                self.wanted_nick = nick
            session = Session(
                self.wanted_nick, password=self.password, create_account=self.create_account
            )
            session.alt_nick_on_collision = registered_once
            session.ignores = self.ignores
            self.session, self.connection = session, connection
            try:
                failure = await self._run(session, connection)
            finally:
                # Also when the worker is cancelled: a socket left open would
                # keep a ghost of us on the server, holding the nick.
                if self.connection is connection:
                    self.connection = None
                await connection.close()
            if self.leaving:
                return
            if not session.registered and not registered_once:
                self.session = None
                self.post_message(self.LoginFailed(failure or "The server closed the connection"))
                return
            if session.registered:
                registered_once = True
                self.create_account = False  # created: a reconnect logs in
                delays = backoff_delays()
            delay = next(delays)
            self.post_message(
                self.ConnectionState(
                    f"Disconnected ({failure or 'connection lost'}). "
                    f"Reconnecting in {delay:.0f} s…",
                    False,
                )
            )
            await asyncio.sleep(delay)

    async def _run(self, session: Session, connection: ClientConnection) -> str | None:
        """Feeds the server's messages to the session until the connection ends.

        Logging in must finish within `login_timeout`; otherwise the reason
        says whether the server answered at all.
        """
        connection.send(session.start())
        failure: str | None = None
        answered = False
        lag: asyncio.Task[None] | None = None
        try:
            async with asyncio.timeout(self.login_timeout) as deadline:
                async for msg in connection.messages():
                    answered = True
                    for event in session.feed(msg):
                        if isinstance(event, (RegistrationFailed, ServerClosed)):
                            failure = event.reason
                        if isinstance(event, Registered):
                            deadline.reschedule(None)
                            connection.send(rejoin_messages(self.state))
                            lag = asyncio.create_task(self._measure_lag(session, connection))
                        self.post_message(self.NetEvent(event))
                    connection.send(session.take_outgoing())
                    if failure is not None and not session.registered:
                        break
        except TimeoutError:
            limit = f"{self.login_timeout:g} s"
            failure = (
                f"Connected to {self.address}, but the server did not answer within {limit}"
                " — is it an IRC server?"
                if not answered
                else f"The server at {self.address} did not finish logging in within {limit}"
            )
        finally:
            if lag is not None:
                lag.cancel()
        return failure

    async def _measure_lag(self, session: Session, connection: ClientConnection) -> None:
        """Every `lag_interval`, PINGs the server; the PONG's delay shows as the lag."""
        while True:
            await asyncio.sleep(self.lag_interval)
            waiting = session.lag_waiting()
            if waiting is not None:  # still unanswered: say how long so far
                self.post_message(self.NetEvent(Lag(waiting, answered=False)))
            connection.send(session.lag_ping())

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
        if self._offline and not message.connected:
            # Each further retry: the banner and the server window, not
            # another line in every conversation per attempt.
            self.chat.add_line(Line(SERVER_CONVERSATION, kind, "", message.text, time.time()))
        else:
            self._tell_everywhere(message.text, kind)
        self._offline = not message.connected

    def _tell_everywhere(self, text: str, kind: LineKind = LineKind.INFO) -> None:
        """A connection notice: in every room and chat it concerns, and the server window."""
        if self.chat is None:
            return
        now = time.time()
        for conv in self.chat.conversations.ordered():
            if not conv.left:  # a room already left is not concerned
                self.chat.add_line(Line(conv.name, kind, "", text, now))

    # -- events from the session ----------------------------------------------

    def on_easy_chat_app_net_event(self, message: NetEvent) -> None:
        self.handle(message.event)

    def handle(self, event: Event) -> None:
        """Routes one session event to the chat screen and the local log."""
        if isinstance(event, Registered):
            self._registered(event)
            return
        chat, session = self.chat, self.session
        if chat is None and isinstance(event, Line):
            self._welcome.append(event)  # before the welcome: keep it for the chat
            return
        if chat is None or session is None:
            return
        if isinstance(event, Line):
            self._line(chat, event)
        elif isinstance(event, Joined):
            room = joined(self, chat, event)
            if room is not None and room is chat.conversations.current and self._welcome:
                for line in self._welcome:
                    chat.add_line(Line(room.name, LineKind.INFO, "", line.text, line.time))
                self._welcome = []
        elif isinstance(event, HistoryBatch):
            merge_page(chat, event, self.store, session, self.connection)
        elif isinstance(event, HistoryFailed):
            page_failed(chat, event)
        elif isinstance(event, RateLimited):
            chat.show_wait(event.wait)
        elif isinstance(event, Lag):
            chat.set_lag(event.seconds, answered=event.answered)
        elif isinstance(event, Left):
            left(self.state, chat, event)
        elif isinstance(event, MembersChanged):
            chat.set_members(event.channel, session.members(event.channel))
        elif isinstance(event, TopicChanged):
            chat.set_topic(event.channel, event.topic)
        elif isinstance(event, NickChanged):
            # The server accepted it: from now on the nick a reconnect asks for.
            self.wanted_nick = event.new
            chat.nick = event.new
            self.sub_title = event.new
        elif isinstance(event, PeerRenamed):
            conv = chat.conversations.get(event.old)
            if conv is not None and conv.kind is ConversationKind.PRIVATE:
                chat.conversations.rename(event.old, event.new)
                self.state.renamed_private(event.old, event.new)
                text = f"{event.old} is now known as {event.new}"
                chat.add_line(Line(event.new, LineKind.EVENT, event.old, text, time.time()))
                chat.refresh_all()
        elif isinstance(event, RoomList):
            show_room_list(self, event)
        elif isinstance(event, ServerClosed):
            text = f"The server closed the connection: {event.reason}"
            self._tell_everywhere(text, LineKind.ERROR)

    def _registered(self, event: Registered) -> None:
        welcome = Line(None, LineKind.INFO, "", event.welcome, time.time())
        self.sub_title = event.nick
        if self.chat is None:
            self.wanted_nick = event.nick  # perhaps shortened by the server
            self._welcome = [welcome, *self._welcome]
            if self.create_account:
                self.login.account_created()
            self.chat = ChatScreen(
                self.address,
                event.nick,
                timestamps=self.settings.timestamps,
                warning=self._warning(),
            )
            self.login.set_busy(False)
            self.push_screen(self.chat)
            for line in self._welcome:
                self.chat.add_line(line)
            reopen_private(self, self.chat)
        else:
            self.chat.set_banner("")
            self._offline = False
            self._tell_everywhere("Reconnected. " + event.welcome)
            if event.nick != self.chat.nick:
                self._tell_everywhere(f"You are now known as {event.nick}")
            self.chat.nick = event.nick
            # Rooms catch up when they are joined again; private ones now.
            for conv in self.chat.conversations.ordered():
                if conv.kind is ConversationKind.PRIVATE:
                    load_history(self.session, self.connection, conv)

    def _warning(self) -> str:
        """What the chat screen keeps saying about this connection's security."""
        if self.settings.tls_insecure and not self.settings.tls_fingerprint:
            return (
                "⚠ --tls-insecure: the server's certificate is not checked. "
                "Anyone on the way can read and change this conversation."
            )
        return ""

    def _line(self, chat: ChatScreen, line: Line) -> None:
        name = line.conversation
        opened: Conversation | None = None
        if (
            name is not None
            and name != SERVER_CONVERSATION
            and chat.conversations.get(name) is None
        ):
            if self.session is not None and self.session.is_channel(name):
                return  # a room closed (/close): the echo of its PART has no place
            opened = chat.open_conversation(
                name, ConversationKind.PRIVATE, local_history(self.store, name), focus=False
            )
        fold = self.session.fold if self.session is not None else casefold
        if not self.join_filter.shows(line, fold):
            conv = chat.conversations.get(name or "")
            if conv is not None:
                to_local_log(self.store, conv, line)  # hidden, not lost
            return
        self.join_filter.note(line, fold)
        if opened is not None:
            came_back(self.state, chat, opened)
        conv = chat.add_line(line)
        if conv.kind is ConversationKind.PRIVATE:
            self.state.opened_private(conv.name)
        to_local_log(self.store, conv, line)
        private = conv.kind is ConversationKind.PRIVATE and line.kind in UNREAD_KINDS
        if line.mention or (private and not line.own):
            self.bell()
        if opened is not None:
            load_history(self.session, self.connection, opened)

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

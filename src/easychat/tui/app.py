"""Provides EasyChatApp: the screens, the network worker, and what connects them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from textual import work
from textual.app import App, SystemCommand
from textual.message import Message as TextualMessage
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from easychat.client import commands as cmd
from easychat.client.conversations import Conversation, ConversationKind, Paging
from easychat.client.events import (
    SERVER_CONVERSATION,
    Event,
    HistoryBatch,
    HistoryFailed,
    Joined,
    Left,
    Line,
    LineKind,
    MembersChanged,
    NickChanged,
    PeerRenamed,
    Registered,
    RegistrationFailed,
    ServerClosed,
    TopicChanged,
)
from easychat.client.session import Session
from easychat.net.client import ClientConnection, ConnectError, backoff_delays
from easychat.proto.message import Message
from easychat.store.clientlog import ClientLog, default_log_dir, log_path
from easychat.tui.chat import ChatScreen
from easychat.tui.login import LoginScreen

# Lines of the local log shown above a conversation when it opens.
HISTORY_LINES = 50

# Lines asked of the server's history at a time: on joining, per page when
# scrolling back, per step of a catch-up after a reconnect. A screenful or
# two; the server may allow fewer (ISUPPORT CHATHISTORY), and the session
# asks for no more than that.
HISTORY_PAGE = 50

# Line kinds kept in the local log (server chatter is not).
_LOGGED = {LineKind.MESSAGE, LineKind.ACTION, LineKind.NOTICE, LineKind.EVENT}


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How the client starts: login fields, look, and the local log."""

    nick: str = ""
    server: str = "127.0.0.1:6667"
    auto: bool = False
    theme: str | None = None
    timestamps: bool = True
    log_dir: Path | None = None
    log_enabled: bool = True
    extra: dict[str, str] = field(default_factory=dict)


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
        self.settings = settings or ClientSettings()
        self.login = LoginScreen(self.settings.nick, self.settings.server)
        self.chat: ChatScreen | None = None
        self.session: Session | None = None
        self.connection: ClientConnection | None = None
        self.store: ClientLog | None = None
        self.leaving = False
        self.wanted_nick = self.settings.nick
        self._focus_next: set[str] = set()
        self._welcome: Line | None = None
        self._closer: asyncio.Future[None] | None = None

    def on_mount(self) -> None:
        if self.settings.theme:
            self.theme = self.settings.theme
        self.push_screen(self.login)
        if self.settings.auto:
            self.call_after_refresh(self.login.submit)

    # -- connecting ------------------------------------------------------------

    def on_login_screen_login_requested(self, request: LoginScreen.LoginRequested) -> None:
        self.leaving = False
        self.wanted_nick = request.nick
        if self.settings.log_enabled:
            directory = self.settings.log_dir or default_log_dir()
            try:
                self.store = ClientLog(log_path(directory, request.host, request.port))
            except Exception as exc:  # an unusable log must not stop chatting
                self.notify(f"Local log disabled: {exc}", severity="warning")
                self.store = None
        self.network(request.nick, request.host, request.port)

    @work(exclusive=True, exit_on_error=False, group="network")
    async def network(self, nick: str, host: str, port: int) -> None:
        """Connects, runs the session, and reconnects with backoff until Leave."""
        delays = backoff_delays()
        registered_once = False
        while not self.leaving:
            try:
                connection = await ClientConnection.open(host, port)
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
            # A reconnect asks for the nick the user chose (typed at login or
            # set with /nick), taking `nick_` only while the old one is held.
            if not registered_once:
                self.wanted_nick = nick
            session = Session(self.wanted_nick)
            session.alt_nick_on_collision = registered_once
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
        """Feeds the server's messages to the session until the connection ends."""
        connection.send(session.start())
        failure: str | None = None
        async for msg in connection.messages():
            for event in session.feed(msg):
                if isinstance(event, (RegistrationFailed, ServerClosed)):
                    failure = event.reason
                if isinstance(event, Registered) and self.chat is not None:
                    self._rejoin(connection)
                self.post_message(self.NetEvent(event))
            connection.send(session.take_outgoing())
            if failure is not None and not session.registered:
                break
        return failure

    def _rejoin(self, connection: ClientConnection) -> None:
        """After a reconnect, joins again the rooms that were open."""
        assert self.chat is not None
        for conv in self.chat.conversations.ordered():
            if conv.kind is ConversationKind.ROOM:
                connection.send([Message("JOIN", (conv.name,))])

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
        self.chat.show_info(message.text, kind)

    # -- events from the session ----------------------------------------------

    def on_easy_chat_app_net_event(self, message: NetEvent) -> None:
        self.handle(message.event)

    def handle(self, event: Event) -> None:
        """Routes one session event to the chat screen and the local log."""
        if isinstance(event, Registered):
            self._registered(event)
            return
        chat, session = self.chat, self.session
        if chat is None or session is None:
            return
        if isinstance(event, Line):
            self._line(chat, event)
        elif isinstance(event, Joined):
            folded = session.fold(event.channel)
            focus = (
                folded in self._focus_next
                or chat.conversations.current is chat.conversations.server
            )
            self._focus_next.discard(folded)
            room = chat.open_conversation(
                event.channel, ConversationKind.ROOM, self._history(event.channel), focus=focus
            )
            if focus and self._welcome is not None:
                chat.add_line(
                    Line(event.channel, LineKind.INFO, "", self._welcome.text, self._welcome.time)
                )
                self._welcome = None
            self._load_history(room)
        elif isinstance(event, HistoryBatch):
            self._history_batch(chat, event)
        elif isinstance(event, HistoryFailed):
            self._history_failed(chat, event)
        elif isinstance(event, Left):
            conv = chat.conversations.get(event.channel)
            if conv is not None:
                conv.active = False
                chat.refresh_sidebar()
        elif isinstance(event, MembersChanged):
            chat.set_members(event.channel, session.members(event.channel))
        elif isinstance(event, TopicChanged):
            chat.set_topic(event.channel, event.topic)
        elif isinstance(event, NickChanged):
            chat.nick = event.new
            self.sub_title = event.new
        elif isinstance(event, PeerRenamed):
            conv = chat.conversations.get(event.old)
            if conv is not None and conv.kind is ConversationKind.PRIVATE:
                chat.conversations.rename(event.old, event.new)
                text = f"{event.old} is now known as {event.new}"
                chat.add_line(Line(event.new, LineKind.EVENT, event.old, text, time.time()))
                chat.refresh_all()
        elif isinstance(event, ServerClosed):
            chat.show_info(f"The server closed the connection: {event.reason}", LineKind.ERROR)

    def _registered(self, event: Registered) -> None:
        welcome = Line(None, LineKind.INFO, "", event.welcome, time.time())
        self.sub_title = event.nick
        if self.chat is None:
            self._welcome = welcome
            server = self.login.query_one("#server").value  # type: ignore[attr-defined]
            self.chat = ChatScreen(server, event.nick, timestamps=self.settings.timestamps)
            self.login.set_busy(False)
            self.push_screen(self.chat)
            self.chat.add_line(welcome)
        else:
            self.chat.set_banner("")
            self.chat.show_info("Reconnected. " + event.welcome)
            self.chat.nick = event.nick
            # Rooms catch up when they are joined again; private ones now.
            for conv in self.chat.conversations.ordered():
                if conv.kind is ConversationKind.PRIVATE:
                    self._load_history(conv)

    def _line(self, chat: ChatScreen, line: Line) -> None:
        name = line.conversation
        opened: Conversation | None = None
        if (
            name is not None
            and name != SERVER_CONVERSATION
            and chat.conversations.get(name) is None
        ):
            opened = chat.open_conversation(
                name, ConversationKind.PRIVATE, self._history(name), focus=False
            )
        conv = chat.add_line(line)
        self._to_local_log(conv, line)
        if line.mention:
            self.bell()
        if opened is not None:
            self._load_history(opened)

    def _to_local_log(self, conv: Conversation, line: Line) -> None:
        """Writes a line to the local log (which ignores a msgid it already has)."""
        if (
            self.store is not None
            and line.kind in _LOGGED
            and conv.kind is not ConversationKind.SERVER
        ):
            self.store.append(
                conv.name,
                line.time,
                line.kind.value,
                line.sender,
                line.text,
                own=line.own,
                msgid=line.msgid,
            )

    def _history(self, name: str) -> list[Line]:
        if self.store is None:
            return []
        return [
            Line(
                name,
                LineKind(entry.kind),
                entry.sender,
                entry.text,
                entry.time,
                entry.own,
                msgid=entry.msgid,
            )
            for entry in self.store.recent(name, HISTORY_LINES)
        ]

    # -- the server's history ------------------------------------------------------

    def _load_history(self, conv: Conversation) -> None:
        """Asks the server for `conv`'s history, if it keeps any.

        A conversation this run already has lines of from the server (a
        rejoin, a reconnect) asks for what came after the newest of them;
        otherwise for the latest page.
        """
        session, connection = self.session, self.connection
        if session is None or connection is None or conv.kind is ConversationKind.SERVER:
            return
        newest = conv.newest_msgid() if conv.synced else None
        if newest is not None:
            connection.send(session.history_after(conv.name, newest, HISTORY_PAGE))
        else:
            connection.send(session.history_latest(conv.name, HISTORY_PAGE))

    def on_chat_screen_earlier_wanted(self, message: ChatScreen.EarlierWanted) -> None:
        chat, session, connection = self.chat, self.session, self.connection
        if chat is None or session is None or connection is None:
            return
        conv = chat.conversations.get(message.conversation)
        if conv is None or conv.paging is not Paging.IDLE or not session.supports_history:
            return
        oldest = conv.oldest_msgid()
        request = (
            session.history_before(conv.name, oldest, HISTORY_PAGE)
            if oldest is not None
            else session.history_latest(conv.name, HISTORY_PAGE)
        )
        if not request:
            return
        connection.send(request)
        conv.paging = Paging.LOADING
        chat.show_paging(conv, "top")

    def _history_batch(self, chat: ChatScreen, event: HistoryBatch) -> None:
        """Merges a page of the server's history into its conversation."""
        conv = chat.conversations.get(event.target)
        if conv is None:
            return  # closed meanwhile
        added = conv.merge(event.lines)
        conv.synced = True
        for line in added:
            self._to_local_log(conv, line)
        place: Literal["end", "keep"] = "end"
        if conv.paging is Paging.LOADING and event.request in {"BEFORE", "LATEST"}:
            conv.paging = Paging.IDLE if added else Paging.EXHAUSTED
            place = "keep"
        elif event.request == "AFTER" and added:
            # Missed while away: unread, and perhaps more than one page of it.
            if conv is not chat.conversations.current:
                missed = [line for line in added if not line.own]
                conv.unread += len(missed)
                conv.mentioned = conv.mentioned or any(line.mention for line in missed)
            self._load_history(conv)
        if added or place == "keep":
            chat.show_paging(conv, place)

    def _history_failed(self, chat: ChatScreen, event: HistoryFailed) -> None:
        """A refused page stops loading; scrolling to the top again retries."""
        named = chat.conversations.get(event.target) if event.target else None
        for conv in [named] if named is not None else chat.conversations.ordered():
            if conv.paging is Paging.LOADING:
                conv.paging = Paging.IDLE
                chat.show_paging(conv, "keep")

    # -- what the user typed -----------------------------------------------------

    def on_chat_screen_typed(self, message: ChatScreen.Typed) -> None:
        chat, session, connection = self.chat, self.session, self.connection
        if chat is None:
            return
        intent = cmd.parse_input(message.text)
        if isinstance(intent, cmd.Help):
            for usage, description in cmd.COMMAND_HELP:
                chat.show_info(f"{usage:<24} {description}")
            return
        if isinstance(intent, cmd.Invalid):
            chat.show_info(intent.message, LineKind.ERROR)
            return
        if isinstance(intent, cmd.Quit):
            self.leave(intent.reason)
            return
        if session is None or connection is None or not session.registered:
            chat.show_info(
                "Not connected: nothing was sent. Press Up to get your text back.", LineKind.ERROR
            )
            return
        conv = chat.conversations.current
        here = conv.name if conv.kind is not ConversationKind.SERVER else None
        out: list[Message] = []
        if isinstance(intent, (cmd.Say, cmd.Me)):
            if here is None:
                chat.show_info(
                    "This is the server window: /join #room or /msg nick first.", LineKind.ERROR
                )
                return
            if conv.kind is ConversationKind.ROOM and not conv.active:
                chat.show_info(f"You are not in {here}: /join {here} first.", LineKind.ERROR)
                return
            messages, echo = session.say(here, intent.text, action=isinstance(intent, cmd.Me))
            out += messages
            self._handle_all(echo)
        elif isinstance(intent, cmd.Join):
            self._focus_next.add(session.fold(intent.room))
            existing = chat.conversations.get(intent.room)
            if existing is not None and existing.active:
                chat.switch_to(existing)
            params = (intent.room, intent.key) if intent.key else (intent.room,)
            out.append(Message("JOIN", params))
        elif isinstance(intent, cmd.Part):
            room = intent.room or here
            if room is None:
                chat.show_info("Usage: /part [#room] [reason]", LineKind.ERROR)
                return
            if not session.is_channel(room):
                chat.conversations.close(room)
                chat.refresh_all()
                return
            out.append(Message("PART", (room, intent.reason) if intent.reason else (room,)))
        elif isinstance(intent, cmd.Msg):
            new = chat.conversations.get(intent.target) is None
            target = chat.open_conversation(
                intent.target,
                ConversationKind.ROOM
                if session.is_channel(intent.target)
                else ConversationKind.PRIVATE,
                self._history(intent.target),
                focus=True,
            )
            if new:
                self._load_history(target)
            if intent.text:
                messages, echo = session.say(target.name, intent.text)
                out += messages
                self._handle_all(echo)
        elif isinstance(intent, cmd.Nick):
            self.wanted_nick = intent.nick
            out.append(Message("NICK", (intent.nick,)))
        elif isinstance(intent, cmd.Topic):
            if here is None or not session.is_channel(here):
                chat.show_info("/topic works in a room.", LineKind.ERROR)
                return
            out.append(Message("TOPIC", (here,) if intent.text is None else (here, intent.text)))
        elif isinstance(intent, cmd.Names):
            if here is None or not session.is_channel(here):
                chat.show_info("/names works in a room.", LineKind.ERROR)
                return
            members = session.members(here)
            chat.show_info(
                f"{len(members)} in {here}: " + " ".join(m.prefixes[:1] + m.nick for m in members)
            )
        elif isinstance(intent, cmd.Whois):
            out.append(Message("WHOIS", (intent.nick,)))
        elif isinstance(intent, cmd.Away):
            out.append(Message("AWAY", (intent.message,) if intent.message else ()))
        connection.send(out)

    def _handle_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.handle(event)

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
        if not isinstance(screen, ChatScreen):
            return
        yield SystemCommand(
            "Next conversation",
            "Switch to the next conversation (Ctrl+N)",
            lambda: screen.action_step(1),
        )
        yield SystemCommand(
            "Previous conversation",
            "Switch to the previous conversation (Ctrl+P)",
            lambda: screen.action_step(-1),
        )
        yield SystemCommand(
            "Leave", "Disconnect and return to the login screen", lambda: self.leave(None)
        )
        for conv in screen.conversations.ordered():
            yield SystemCommand(
                f"Go to {conv.name}",
                "Switch to this conversation",
                lambda c=conv: screen.switch_to(c),
            )
        for usage, description in cmd.COMMAND_HELP:
            yield SystemCommand(
                usage, description, lambda u=usage: screen.prefill(u.split()[0] + " ")
            )

"""Provides the routing of session events to the chat screen, the local log and the bell."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

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
    ReadMarker,
    Redacted,
    Registered,
    RoomList,
    ServerClosed,
    TopicChanged,
)
from easychat.client.session.redaction import deleted_line
from easychat.proto.names import casefold
from easychat.tui.history import load_history, local_history, merge_page, page_failed, to_local_log
from easychat.tui.intents_irc import show_room_list
from easychat.tui.readmarkers import ask_marker, marker_received
from easychat.tui.screens.chat import ChatScreen
from easychat.tui.state import came_back, joined, left, reopen_private

if TYPE_CHECKING:
    from easychat.tui.app import EasyChatApp


def handle(app: EasyChatApp, event: Event) -> None:
    """Routes one session event to the chat screen and the local log."""
    if isinstance(event, Registered):
        registered(app, event)
        return
    chat, session = app.chat, app.session
    if chat is None and isinstance(event, Line):
        app.welcome.append(event)  # before the welcome: keep it for the chat
        return
    if chat is None or session is None:
        return
    if isinstance(event, Line):
        show_line(app, chat, event)
    elif isinstance(event, Joined):
        room = joined(app, chat, event)
        if room is not None and room is chat.conversations.current and app.welcome:
            for line in app.welcome:
                chat.add_line(Line(room.name, LineKind.INFO, "", line.text, line.time))
            app.welcome = []
    elif isinstance(event, HistoryBatch):
        merge_page(chat, event, app.store, session, app.connection)
    elif isinstance(event, HistoryFailed):
        page_failed(chat, event)
    elif isinstance(event, RateLimited):
        chat.show_wait(event.wait)
    elif isinstance(event, Lag):
        chat.set_lag(event.seconds, answered=event.answered)
    elif isinstance(event, Left):
        left(app.state, chat, event)
    elif isinstance(event, MembersChanged):
        chat.set_members(event.channel, session.members(event.channel))
    elif isinstance(event, TopicChanged):
        chat.set_topic(event.channel, event.topic)
    elif isinstance(event, NickChanged):
        # The server accepted it: from now on the nick a reconnect asks for.
        app.wanted_nick = event.new
        chat.nick = event.new
        app.sub_title = event.new
    elif isinstance(event, PeerRenamed):
        conv = chat.conversations.get(event.old)
        if conv is not None and conv.kind is ConversationKind.PRIVATE:
            chat.conversations.rename(event.old, event.new)
            app.state.renamed_private(event.old, event.new)
            text = f"{event.old} is now known as {event.new}"
            chat.add_line(Line(event.new, LineKind.EVENT, event.old, text, time.time()))
            chat.refresh_all()
    elif isinstance(event, RoomList):
        show_room_list(app, event)
    elif isinstance(event, Redacted):
        redacted(app, chat, event)
    elif isinstance(event, ReadMarker):
        marker_received(chat, event)
    elif isinstance(event, ServerClosed):
        text = f"The server closed the connection: {event.reason}"
        tell_everywhere(chat, text, LineKind.ERROR)


def registered(app: EasyChatApp, event: Registered) -> None:
    """The welcome: opens the chat screen the first time, says "Reconnected" after."""
    welcome = Line(None, LineKind.INFO, "", event.welcome, time.time())
    app.sub_title = event.nick
    if app.chat is None:
        app.wanted_nick = event.nick  # perhaps shortened by the server
        app.welcome = [welcome, *app.welcome]
        if app.create_account:
            app.login.account_created()
        app.chat = ChatScreen(
            app.address,
            event.nick,
            timestamps=app.settings.timestamps,
            warning=security_warning(app),
        )
        app.login.set_busy(False)
        app.push_screen(app.chat)
        for line in app.welcome:
            app.chat.add_line(line)
        reopen_private(app, app.chat)
    else:
        app.chat.set_banner("")
        app.offline = False
        tell_everywhere(app.chat, "Reconnected. " + event.welcome)
        if event.nick != app.chat.nick:
            tell_everywhere(app.chat, f"You are now known as {event.nick}")
        app.chat.nick = event.nick
        # Rooms catch up when they are joined again; private ones now.
        for conv in app.chat.conversations.ordered():
            if conv.kind is ConversationKind.PRIVATE:
                load_history(app.session, app.connection, conv)


def security_warning(app: EasyChatApp) -> str:
    """What the chat screen keeps saying about this connection's security."""
    if app.settings.tls_insecure and not app.settings.tls_fingerprint:
        return (
            "⚠ --tls-insecure: the server's certificate is not checked. "
            "Anyone on the way can read and change this conversation."
        )
    return ""


def show_line(app: EasyChatApp, chat: ChatScreen, line: Line) -> None:
    """Shows a line (through the join filter), logs it, and rings for a mention."""
    name = line.conversation
    opened: Conversation | None = None
    if name is not None and name != SERVER_CONVERSATION and chat.conversations.get(name) is None:
        if app.session is not None and app.session.is_channel(name):
            return  # a room closed (/close): the echo of its PART has no place
        opened = chat.open_conversation(
            name, ConversationKind.PRIVATE, local_history(app.store, name), focus=False
        )
    fold = app.session.fold if app.session is not None else casefold
    if not app.join_filter.shows(line, fold):
        conv = chat.conversations.get(name or "")
        if conv is not None:
            to_local_log(app.store, conv, line)  # hidden, not lost
        return
    app.join_filter.note(line, fold)
    if opened is not None:
        came_back(app.state, chat, opened)
    conv = chat.add_line(line)
    if conv.kind is ConversationKind.PRIVATE:
        app.state.opened_private(conv.name)
    to_local_log(app.store, conv, line)
    private = conv.kind is ConversationKind.PRIVATE and line.kind in UNREAD_KINDS
    if line.mention or (private and not line.own):
        app.bell()
    if opened is not None:
        load_history(app.session, app.connection, opened)
        ask_marker(app, opened)


def redacted(app: EasyChatApp, chat: ChatScreen, event: Redacted) -> None:
    """A deleted message: its line says so (sender and time kept), here and in the local log.

    A msgid this conversation does not hold changes nothing ("clients MUST
    ignore it").
    """
    conv = chat.conversations.get(event.conversation)
    same = app.session.same if app.session is not None else _same
    line = (
        conv.replace_line(event.msgid, lambda old: deleted_line(old, event, same)) if conv else None
    )
    if conv is None or line is None:
        return
    if app.store is not None:
        app.store.redact(conv.name, event.msgid, line.kind.value, line.text)
    if conv is chat.conversations.current:
        chat.redraw_log("keep")


def _same(a: str, b: str) -> bool:
    return casefold(a) == casefold(b)


def tell_everywhere(chat: ChatScreen, text: str, kind: LineKind = LineKind.INFO) -> None:
    """A connection notice: in every room and chat it concerns, and the server window."""
    now = time.time()
    for conv in chat.conversations.ordered():
        if not conv.left:  # a room already left is not concerned
            chat.add_line(Line(conv.name, kind, "", text, now))

"""Provides the app's read markers: telling the server what the user read, taking its word back.

A conversation is read when it is on screen with its log scrolled to the
newest line (the spec: "when the focus shifts to their window or activity,
when the messages are scrolled"). Every READ_SYNC_INTERVAL the app looks,
and sends MARKREAD with the newest message's time if the server does not
have it yet, so a burst of lines costs one MARKREAD, not one a line. A
MARKREAD from the server (another device of the account read it) clears
the unread count there and moves the "new messages" line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from easychat.client.conversations import ConversationKind
from easychat.client.events import ReadMarker
from easychat.client.readmarkers import apply_marker, newest_seen
from easychat.tui.widgets.log import ChatLog

if TYPE_CHECKING:
    from easychat.client.conversations import Conversation
    from easychat.tui.app import EasyChatApp
    from easychat.tui.screens.chat import ChatScreen

# Seconds between two looks at what the user has on screen: soon enough that
# another device clears its count while the user reads, and at most one
# MARKREAD a second however fast lines come.
READ_SYNC_INTERVAL = 1.0


def sync_read(app: EasyChatApp) -> None:
    """Sends MARKREAD for the conversation in view if its newest message is newly read."""
    chat, session, connection = app.chat, app.session, app.connection
    if chat is None or session is None or connection is None or not session.read_markers:
        return
    if not chat.ready or app.screen is not chat:
        return  # another screen (a dialog, /list) covers the log
    conv = chat.conversations.current
    if conv.kind is ConversationKind.SERVER or not conv.active:
        return
    log = chat.query_one("#log", ChatLog)
    if log.scroll_y < log.max_scroll_y:
        return  # scrolled back: the newest lines are not in view
    seen = newest_seen(conv)
    if seen is None or seen <= conv.marked:
        return
    conv.marked = seen
    connection.send(session.mark_read(conv.name, seen))


def marker_received(chat: ChatScreen, event: ReadMarker) -> None:
    """The account read `event.target` up to `event.seen` (here or on another device)."""
    conv = chat.conversations.get(event.target)
    if conv is None or conv.kind is ConversationKind.SERVER:
        return
    apply_marker(conv, event.seen, current=conv is chat.conversations.current)
    chat.refresh_sidebar()


def ask_marker(app: EasyChatApp, conv: Conversation) -> None:
    """Asks where a private conversation is read up to (rooms come with their JOIN)."""
    if app.session is not None and app.connection is not None:
        app.connection.send(app.session.ask_read_marker(conv.name))
